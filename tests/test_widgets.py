"""Tests for cnnlib.book.widgets, chapters 3-5 (chapters 1, 2 and 6: test_widgets_<module>.py)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib.book import widgets  # noqa: E402

# ----------------------------------------------------------------------- chapter 3: fully connected


def _dense_pair():
    from cnnlib import seed_network

    return {"fresh": seed_network(rng=0), "trained": seed_network(rng=1)}


def test_hidden_unit_explorer_initial_state_is_unit_0_reshaped_as_maps():
    models = _dense_pair()
    w = widgets.hidden_unit_explorer(models)
    assert w.data["unit"] == 0 and w.data["view"] == "all"
    assert w.data["weights_fresh"].shape == (8, 10, 10)
    assert w.data["weights_trained"].shape == (8, 10, 10)
    np.testing.assert_array_equal(w.data["weights_fresh"].reshape(-1),
                                  models["fresh"][6].params["weight"][0])
    np.testing.assert_allclose(w.data["change"],
                               w.data["weights_trained"] - w.data["weights_fresh"])
    assert w.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_hidden_unit_explorer_slider_picks_another_unit():
    models = _dense_pair()
    w = widgets.hidden_unit_explorer(models)
    before, image = w.data["weights_trained"], w.image.value
    w.controls["unit"].value = 127
    assert w.data["unit"] == 127
    np.testing.assert_array_equal(w.data["weights_trained"].reshape(-1),
                                  models["trained"][6].params["weight"][127])
    assert not np.array_equal(before, w.data["weights_trained"])
    assert w.image.value != image


def test_hidden_unit_explorer_view_dropdown_redraws():
    w = widgets.hidden_unit_explorer(_dense_pair(), unit=3)
    image = w.image.value
    w.controls["view"].value = "change"
    assert w.data["view"] == "change" and w.data["unit"] == 3
    assert w.image.value != image


def test_hidden_unit_explorer_accepts_a_pair_of_weight_arrays():
    rng = np.random.default_rng(0)
    fresh, trained = rng.standard_normal((4, 800)), rng.standard_normal((4, 800))
    w = widgets.hidden_unit_explorer((fresh, trained), unit=2)
    assert w.controls["unit"].max == 3
    np.testing.assert_array_equal(w.data["weights_fresh"], fresh[2].reshape(8, 10, 10))


def test_hidden_unit_explorer_rejects_missing_key():
    with pytest.raises(ValueError, match="missing \\['trained'\\]"):
        widgets.hidden_unit_explorer({"fresh": np.zeros((128, 800))})


def test_hidden_unit_explorer_rejects_unit_out_of_range():
    with pytest.raises(ValueError, match="unit must be in 0..127"):
        widgets.hidden_unit_explorer(_dense_pair(), unit=128)


def test_hidden_unit_explorer_rejects_wrong_map_shape():
    with pytest.raises(ValueError, match="map_shape"):
        widgets.hidden_unit_explorer(_dense_pair(), map_shape=(8, 5, 5))


def test_hidden_unit_explorer_rejects_a_model_without_dense_layer():
    from cnnlib import ReLU, Sequential

    with pytest.raises(ValueError, match="must be a Sequential with a Linear layer"):
        widgets.hidden_unit_explorer((Sequential(ReLU()), Sequential(ReLU())))


def test_show_flatten_marks_the_flat_position():
    maps = np.arange(800, dtype=float).reshape(8, 10, 10)
    fig = widgets.show_flatten(maps, highlight=(3, 4, 7))
    texts = [t.get_text() for ax in fig.get_axes() for t in ax.texts]
    assert "x[347] = maps[3, 4, 7]" in texts
    with pytest.raises(ValueError, match="outside maps"):
        widgets.show_flatten(maps, highlight=(8, 0, 0))


def test_plot_decision_boundaries_reports_training_accuracy():
    from cnnlib import Linear, Sequential

    x = np.array([[-1.0, 0.0], [1.0, 0.0]])
    y = np.array([0, 1])
    model = Sequential(Linear(2, 2, rng=0, dtype=np.float64))
    model[0].params["weight"][...] = [[-1.0, 0.0], [1.0, 0.0]]
    fig = widgets.plot_decision_boundaries([model], x, y, titles=["linear"])
    assert "training accuracy 100.0%" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="one entry per model"):
        widgets.plot_decision_boundaries([model], x, y, titles=["a", "b"])


# ----------------------------------------------------------------------- chapter 4: softmax


def test_softmax_explorer_initial_state_is_a_distribution_with_its_loss():
    w = widgets.softmax_explorer()
    probs = w.data["probs"]
    assert probs.shape == (10,) and np.isclose(probs.sum(), 1.0)
    assert int(probs.argmax()) == 3 and w.data["temperature"] == 1.0
    assert np.isclose(w.data["loss"], -np.log(probs[3]))
    assert w.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_softmax_explorer_logit_slider_changes_probabilities():
    w = widgets.softmax_explorer(true_class=3)
    before, image = w.data["probs"].copy(), w.image.value
    w.controls["z7"].value = 9.0
    assert w.data["logits"][7] == 9.0
    assert w.data["probs"][7] > before[7] and int(w.data["probs"].argmax()) == 7
    assert w.image.value != image


def test_softmax_explorer_temperature_flattens_and_sharpens():
    w = widgets.softmax_explorer()
    w.controls["temperature"].value = 10.0
    flat = w.data["probs"].max()
    w.controls["temperature"].value = 0.1
    assert w.data["temperature"] == pytest.approx(0.1)
    assert w.data["probs"].max() > 0.99 > flat
    np.testing.assert_allclose(w.data["probs"].sum(), 1.0)


def test_softmax_explorer_true_class_changes_the_loss():
    logits = np.linspace(-2, 2, 10)
    w = widgets.softmax_explorer(logits, true_class=0)
    high = w.data["loss"]
    w.controls["true_class"].value = 9
    assert w.data["loss"] < high
    assert np.isclose(w.data["loss"], -np.log(w.data["probs"][9]))


def test_softmax_explorer_rejects_wrong_number_of_logits():
    with pytest.raises(ValueError, match="logits must hold 10 numbers"):
        widgets.softmax_explorer(np.zeros(5))


def test_softmax_explorer_rejects_logits_outside_the_slider_range():
    with pytest.raises(ValueError, match="np.clip"):
        widgets.softmax_explorer(np.full(10, 50.0))


def test_softmax_explorer_rejects_bad_true_class():
    with pytest.raises(ValueError, match="true_class must be a class in 0..9"):
        widgets.softmax_explorer(true_class=10)


def test_show_predictions_titles_each_digit():
    images = np.zeros((2, 28, 28))
    probs = np.array([[0.9] + [0.1 / 9] * 9, [0.05] * 9 + [0.55]])
    fig = widgets.show_predictions(images, probs, labels=[0, 3])
    titles = [sub.axes[0].get_title(loc="left") for sub in fig.subfigs]
    assert titles == ["true 0, predicted 0", "true 3, predicted 9"]
    with pytest.raises(ValueError, match="same N > 0 digits"):
        widgets.show_predictions(images, probs[:1], labels=[0, 3])


# ----------------------------------------------------------------------- chapter 5: training


@pytest.fixture(scope="module")
def trained_tiny():
    """A seed network trained for two epochs on 6 random images, with snapshots."""
    import cnnlib

    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, size=6)
    model = cnnlib.seed_network(rng=0)
    hist = cnnlib.fit(model, cnnlib.SoftmaxCrossEntropy(), cnnlib.Adam(model.parameters()), x,
                      y, epochs=2, batch_size=3, snapshots=True, progress=False)
    return model, hist, x, y


def test_filter_evolution_starts_at_the_last_epoch_of_the_first_layer(trained_tiny):
    _, hist, _, _ = trained_tiny
    w = widgets.filter_evolution(hist.snapshots)
    assert w.controls["epoch"].min == 0 and w.controls["epoch"].max == 2
    assert w.data["epoch"] == 2 and w.data["layer"] == "0.weight"
    np.testing.assert_array_equal(w.data["weight"], hist.snapshots[2]["0.weight"])
    assert w.data["change"] > 0
    assert w.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_filter_evolution_slider_shows_the_weights_of_that_epoch(trained_tiny):
    _, hist, _, _ = trained_tiny
    w = widgets.filter_evolution(hist.snapshots)
    before = w.image.value
    w.controls["epoch"].value = 0
    assert w.data["epoch"] == 0 and w.data["change"] == 0
    np.testing.assert_array_equal(w.data["weight"], hist.snapshots[0]["0.weight"])
    assert w.image.value != before


def test_filter_evolution_switches_layer_and_shows_the_change(trained_tiny):
    _, hist, _, _ = trained_tiny
    w = widgets.filter_evolution(hist.snapshots, layer="2.weight", epoch=1)
    assert w.data["weight"].shape == (8, 8, 5, 5)
    w.controls["show"].value = "change since start"
    np.testing.assert_allclose(w.data["shown"],
                               hist.snapshots[1]["2.weight"] - hist.snapshots[0]["2.weight"])
    w.controls["layer"].value = "0.weight"
    assert w.data["layer"] == "0.weight" and w.data["shown"].shape == (8, 1, 5, 5)


def test_filter_evolution_rejects_a_layer_that_is_not_a_convolution(trained_tiny):
    _, hist, _, _ = trained_tiny
    with pytest.raises(ValueError, match=r"'6.weight' is not a convolution weight"):
        widgets.filter_evolution(hist.snapshots, layer="6.weight")


def test_filter_evolution_rejects_missing_snapshots():
    with pytest.raises(ValueError, match=r"snapshots=True"):
        widgets.filter_evolution([])


def test_filter_evolution_can_start_on_the_change(trained_tiny):
    _, hist, _, _ = trained_tiny
    w = widgets.filter_evolution(hist.snapshots, show="change since start")
    assert w.controls["show"].value == "change since start"
    np.testing.assert_allclose(w.data["shown"],
                               hist.snapshots[2]["0.weight"] - hist.snapshots[0]["0.weight"])


def test_filter_evolution_rejects_an_unknown_view(trained_tiny):
    _, hist, _, _ = trained_tiny
    with pytest.raises(ValueError, match=r"show must be one of"):
        widgets.filter_evolution(hist.snapshots, show="gradients")


def test_filter_evolution_rejects_an_epoch_out_of_range(trained_tiny):
    _, hist, _, _ = trained_tiny
    with pytest.raises(ValueError, match=r"epoch must be an integer from 0 to 2"):
        widgets.filter_evolution(hist.snapshots, epoch=3)


def test_digit_inspector_initial_state_is_the_given_digit(trained_tiny):
    model, _, x, y = trained_tiny
    w = widgets.digit_inspector(model, x, y, index=2)
    assert w.data["index"] == 2 and w.data["label"] == y[2]
    shapes = [a.shape for a in w.data["activations"]]
    assert shapes == [(8, 24, 24), (8, 24, 24), (8, 20, 20), (8, 20, 20), (8, 10, 10)]
    np.testing.assert_allclose(w.data["probs"], model.predict_proba(x[2:3])[0], rtol=1e-5)
    assert w.data["prediction"] == int(np.argmax(w.data["probs"]))
    assert w.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_digit_inspector_slider_changes_the_digit(trained_tiny):
    model, _, x, y = trained_tiny
    w = widgets.digit_inspector(model, x, y)
    before, first_maps = w.image.value, w.data["activations"][0]
    w.controls["index"].value = 4
    assert w.data["index"] == 4
    np.testing.assert_allclose(w.data["activations"][0], model[0](x[4:5])[0], rtol=1e-5)
    assert not np.array_equal(w.data["activations"][0], first_maps)
    assert w.image.value != before


def test_digit_inspector_keeps_the_model_in_training_mode(trained_tiny):
    model, _, x, _ = trained_tiny
    widgets.digit_inspector(model, x)
    assert model.training


def test_digit_inspector_works_without_labels(trained_tiny):
    model, _, x, _ = trained_tiny
    w = widgets.digit_inspector(model, x)
    assert w.data["label"] is None and 0 <= w.data["prediction"] < 10


def test_digit_inspector_rejects_flat_images(trained_tiny):
    model, _, x, _ = trained_tiny
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        widgets.digit_inspector(model, x.reshape(6, 784))


def test_digit_inspector_rejects_labels_of_the_wrong_length(trained_tiny):
    model, _, x, y = trained_tiny
    with pytest.raises(ValueError, match=r"labels must have shape \(6,\)"):
        widgets.digit_inspector(model, x, y[:3])


def test_digit_inspector_rejects_an_index_out_of_range(trained_tiny):
    model, _, x, _ = trained_tiny
    with pytest.raises(ValueError, match=r"index must be an integer from 0 to 5"):
        widgets.digit_inspector(model, x, index=6)
