"""Tests for cnnlib.book.widgets.training (chapter 5)."""

import numpy as np
import pytest
import traitlets

from cnnlib.book.widgets import training


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
    w = training.filter_evolution(hist.snapshots)
    assert w.epochs == 2 and w.layers == ["0.weight", "2.weight"]
    assert w.data["epoch"] == 2 and w.data["layer"] == "0.weight"
    np.testing.assert_array_equal(w.data["weight"], hist.snapshots[2]["0.weight"])
    assert w.data["change"] > 0


def test_filter_evolution_packs_every_epoch_exactly(trained_tiny):
    _, hist, _, _ = trained_tiny
    w = training.filter_evolution(hist.snapshots)
    assert w.states["2.weight"]["weights"]["shape"] == [3, 8, 8, 5, 5]
    assert w.states["2.weight"]["change"]["dtype"] == "float32"
    assert w.changes["0.weight"][0] == 0.0 and len(w.changes["0.weight"]) == 3


def test_filter_evolution_epoch_trait_shows_the_weights_of_that_epoch(trained_tiny):
    _, hist, _, _ = trained_tiny
    w = training.filter_evolution(hist.snapshots)
    w.epoch = 0
    assert w.data["epoch"] == 0 and w.data["change"] == 0
    np.testing.assert_array_equal(w.data["weight"], hist.snapshots[0]["0.weight"])


def test_filter_evolution_switches_layer_and_shows_the_change(trained_tiny):
    _, hist, _, _ = trained_tiny
    w = training.filter_evolution(hist.snapshots, layer="2.weight", epoch=1)
    assert w.data["weight"].shape == (8, 8, 5, 5)
    w.show = "change since start"
    np.testing.assert_allclose(w.data["shown"],
                               hist.snapshots[1]["2.weight"] - hist.snapshots[0]["2.weight"])
    w.layer = "0.weight"
    assert w.data["layer"] == "0.weight" and w.data["shown"].shape == (8, 1, 5, 5)


def test_filter_evolution_can_start_on_the_change(trained_tiny):
    _, hist, _, _ = trained_tiny
    w = training.filter_evolution(hist.snapshots, show="change since start")
    assert w.show == "change since start"
    np.testing.assert_allclose(w.data["shown"],
                               hist.snapshots[2]["0.weight"] - hist.snapshots[0]["0.weight"])


def test_filter_evolution_rejects_a_layer_that_is_not_a_convolution(trained_tiny):
    _, hist, _, _ = trained_tiny
    with pytest.raises(ValueError, match=r"'6.weight' is not a convolution weight"):
        training.filter_evolution(hist.snapshots, layer="6.weight")


def test_filter_evolution_rejects_missing_snapshots():
    with pytest.raises(ValueError, match=r"snapshots=True"):
        training.filter_evolution([])


def test_filter_evolution_rejects_an_unknown_view(trained_tiny):
    _, hist, _, _ = trained_tiny
    with pytest.raises(ValueError, match=r"show must be one of"):
        training.filter_evolution(hist.snapshots, show="gradients")


def test_filter_evolution_rejects_an_epoch_out_of_range(trained_tiny):
    _, hist, _, _ = trained_tiny
    with pytest.raises(ValueError, match=r"epoch must be an integer from 0 to 2"):
        training.filter_evolution(hist.snapshots, epoch=3)


def test_filter_evolution_rejects_an_epoch_trait_out_of_range(trained_tiny):
    _, hist, _, _ = trained_tiny
    w = training.filter_evolution(hist.snapshots)
    with pytest.raises(traitlets.TraitError, match=r"epoch must be an integer from 0 to 2"):
        w.epoch = 5


def test_digit_inspector_initial_state_is_the_given_digit(trained_tiny):
    model, _, x, y = trained_tiny
    w = training.digit_inspector(model, x, y, index=2)
    assert w.data["index"] == 2 and w.data["label"] == y[2]
    shapes = [a.shape for a in w.data["activations"]]
    assert shapes == [(8, 24, 24), (8, 24, 24), (8, 20, 20), (8, 20, 20), (8, 10, 10)]
    np.testing.assert_allclose(w.data["probs"], model.predict_proba(x[2:3])[0], rtol=1e-5)
    assert w.data["prediction"] == int(np.argmax(w.data["probs"]))


def test_digit_inspector_index_trait_changes_the_digit(trained_tiny):
    model, _, x, y = trained_tiny
    w = training.digit_inspector(model, x, y)
    first_maps = w.data["activations"][0]
    w.index = 4
    assert w.data["index"] == 4
    np.testing.assert_allclose(w.data["activations"][0], model[0](x[4:5])[0], rtol=1e-5)
    assert not np.array_equal(w.data["activations"][0], first_maps)


def test_digit_inspector_drawn_maps_are_within_half_a_step(trained_tiny):
    model, _, x, y = trained_tiny
    w = training.digit_inspector(model, x, y, index=1)
    for exact, drawn in zip(w.data["activations"], w.data["drawn"], strict=True):
        assert np.abs(exact - drawn).max() <= np.abs(exact).max() / 254 + 1e-6


def test_digit_inspector_packs_exact_probabilities_and_uint8_maps(trained_tiny):
    model, _, x, y = trained_tiny
    w = training.digit_inspector(model, x, y, names=[f"#{i}" for i in range(6)])
    assert w.probs["dtype"] == "float32" and w.probs["shape"] == [6, 10]
    assert [m["dtype"] for m in w.maps] == ["uint8"] * 5
    assert w.names[3] == "#3" and w.predictions == list(w._probs.argmax(axis=1))


def test_digit_inspector_keeps_the_model_in_training_mode(trained_tiny):
    model, _, x, _ = trained_tiny
    training.digit_inspector(model, x)
    assert model.training


def test_digit_inspector_works_without_labels(trained_tiny):
    model, _, x, _ = trained_tiny
    w = training.digit_inspector(model, x)
    assert w.data["label"] is None and w.labels == [] and 0 <= w.data["prediction"] < 10


def test_digit_inspector_rejects_flat_images(trained_tiny):
    model, _, x, _ = trained_tiny
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        training.digit_inspector(model, x.reshape(6, 784))


def test_digit_inspector_rejects_too_many_digits(trained_tiny):
    model, _, _, _ = trained_tiny
    with pytest.raises(ValueError, match=r"pass at most 64"):
        training.digit_inspector(model, np.zeros((65, 1, 28, 28), dtype=np.float32))


def test_digit_inspector_rejects_labels_of_the_wrong_length(trained_tiny):
    model, _, x, y = trained_tiny
    with pytest.raises(ValueError, match=r"labels must have shape \(6,\)"):
        training.digit_inspector(model, x, y[:3])


def test_digit_inspector_rejects_names_of_the_wrong_length(trained_tiny):
    model, _, x, _ = trained_tiny
    with pytest.raises(ValueError, match=r"names must have one entry per digit"):
        training.digit_inspector(model, x, names=["a"])


def test_digit_inspector_rejects_an_index_out_of_range(trained_tiny):
    model, _, x, _ = trained_tiny
    with pytest.raises(ValueError, match=r"index must be an integer from 0 to 5"):
        training.digit_inspector(model, x, index=6)
