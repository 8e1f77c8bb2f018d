"""Tests for cnnlib.book.widgets.softmax (chapter 4)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import traitlets  # noqa: E402

import cnnlib  # noqa: E402
from cnnlib.book.widgets import softmax as sm  # noqa: E402


def test_softmax_explorer_initial_state_is_a_distribution_with_its_loss():
    w = sm.softmax_explorer()
    probs = w.data["probs"]
    assert probs.shape == (10,) and np.isclose(probs.sum(), 1.0)
    assert int(probs.argmax()) == 3 and w.data["temperature"] == 1.0
    assert np.isclose(w.data["loss"], -np.log(probs[3]))


def test_softmax_explorer_numbers_are_cnnlib_softmax():
    logits = np.linspace(-3, 4, 10)
    w = sm.softmax_explorer(logits, true_class=2, temperature=2.5)
    np.testing.assert_array_equal(w.data["probs"], cnnlib.softmax(logits / 2.5))
    np.testing.assert_array_equal(w.data["log_probs"], cnnlib.log_softmax(logits / 2.5))


def test_softmax_explorer_logits_trait_changes_probabilities():
    w = sm.softmax_explorer(true_class=3)
    before = w.data["probs"].copy()
    z = list(w.logits)
    z[7] = 9.0
    w.logits = z
    assert w.data["logits"][7] == 9.0
    assert w.data["probs"][7] > before[7] and int(w.data["probs"].argmax()) == 7


def test_softmax_explorer_temperature_flattens_and_sharpens():
    w = sm.softmax_explorer()
    w.temperature = 10.0
    flat = w.data["probs"].max()
    w.temperature = 0.1
    assert w.data["temperature"] == pytest.approx(0.1)
    assert w.data["probs"].max() > 0.99 > flat


def test_softmax_explorer_true_class_changes_the_loss():
    w = sm.softmax_explorer(np.linspace(-2, 2, 10), true_class=0)
    high = w.data["loss"]
    w.true_class = 9
    assert w.data["loss"] < high
    assert np.isclose(w.data["loss"], -np.log(w.data["probs"][9]))


def test_softmax_explorer_has_its_front_end():
    w = sm.softmax_explorer()
    assert "softmax_explorer" in w._esm and "function unpack" in w._esm


def test_softmax_explorer_rejects_wrong_number_of_logits():
    with pytest.raises(ValueError, match="logits must hold 10 numbers"):
        sm.softmax_explorer(np.zeros(5))


def test_softmax_explorer_rejects_logits_outside_the_slider_range():
    with pytest.raises(ValueError, match="np.clip"):
        sm.softmax_explorer(np.full(10, 50.0))


def test_softmax_explorer_rejects_bad_true_class():
    with pytest.raises(ValueError, match=r"true_class must be a class in 0\.\.9"):
        sm.softmax_explorer(true_class=10)


def test_softmax_explorer_rejects_a_temperature_out_of_range():
    with pytest.raises(ValueError, match=r"temperature must lie in \[0.1, 10\]"):
        sm.softmax_explorer(temperature=0.01)


def test_softmax_explorer_rejects_a_temperature_trait_out_of_range():
    w = sm.softmax_explorer()
    with pytest.raises(traitlets.TraitError, match=r"temperature must lie in"):
        w.temperature = 20.0


def test_show_predictions_titles_each_digit():
    images = np.zeros((2, 28, 28))
    probs = np.array([[0.9] + [0.1 / 9] * 9, [0.05] * 9 + [0.55]])
    fig = sm.show_predictions(images, probs, labels=[0, 3])
    titles = [sub.axes[0].get_title(loc="left") for sub in fig.subfigs]
    assert titles == ["true 0, predicted 0", "true 3, predicted 9"]


def test_show_predictions_rejects_mismatched_lengths():
    images = np.zeros((2, 28, 28))
    with pytest.raises(ValueError, match="same N > 0 digits"):
        sm.show_predictions(images, np.full((1, 10), 0.1), labels=[0, 3])
