"""Tests for cnnlib.book.widgets.fully_connected (chapter 3)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import traitlets  # noqa: E402

from cnnlib.book.widgets import fully_connected as fc  # noqa: E402


def _dense_pair():
    from cnnlib import seed_network

    return {"fresh": seed_network(rng=0), "trained": seed_network(rng=1)}


def test_hidden_unit_explorer_initial_state_is_unit_0_reshaped_as_maps():
    models = _dense_pair()
    w = fc.hidden_unit_explorer(models)
    assert w.unit == 0 and w.view == "all"
    assert w.data["weights_fresh"].shape == (8, 10, 10)
    np.testing.assert_array_equal(w.data["weights_fresh"].reshape(-1),
                                  models["fresh"][6].params["weight"][0])
    np.testing.assert_allclose(w.data["change"],
                               w.data["weights_trained"] - w.data["weights_fresh"])


def test_hidden_unit_explorer_packs_every_unit_as_uint8_for_the_page():
    w = fc.hidden_unit_explorer(_dense_pair())
    assert w.weights["dtype"] == "uint8" and w.weights["shape"] == [3, 128, 8, 10, 10]
    assert w.scales["dtype"] == "float32" and w.scales["shape"] == [3, 128]
    assert len(w.weights["b64"]) < 500_000  # 3 x 128 x 800 bytes in base64


def test_hidden_unit_explorer_drawn_weights_are_within_half_a_step():
    w = fc.hidden_unit_explorer(_dense_pair(), unit=9)
    for name, exact in (("fresh", "weights_fresh"), ("trained", "weights_trained"),
                        ("change", "change")):
        step = np.abs(w.data[exact]).max() / 127
        assert np.abs(w.data["drawn"][name] - w.data[exact]).max() <= step / 2 + 1e-7


def test_hidden_unit_explorer_setting_the_unit_trait_updates_data():
    models = _dense_pair()
    w = fc.hidden_unit_explorer(models)
    before = w.data["weights_trained"]
    w.unit = 127
    assert w.data["unit"] == 127
    np.testing.assert_array_equal(w.data["weights_trained"].reshape(-1),
                                  models["trained"][6].params["weight"][127])
    assert not np.array_equal(before, w.data["weights_trained"])


def test_hidden_unit_explorer_view_trait_chooses_the_rows():
    w = fc.hidden_unit_explorer(_dense_pair(), unit=3)
    assert w.data["rows"] == ["fresh", "trained", "change"]
    w.view = "change"
    assert w.data["view"] == "change" and w.data["rows"] == ["change"]
    assert list(w.data["drawn"]) == ["change"]


def test_hidden_unit_explorer_accepts_a_pair_of_weight_arrays():
    rng = np.random.default_rng(0)
    fresh, trained = rng.standard_normal((4, 800)), rng.standard_normal((4, 800))
    w = fc.hidden_unit_explorer((fresh, trained), unit=2)
    assert w.units == 4
    np.testing.assert_array_equal(w.data["weights_fresh"], fresh[2].reshape(8, 10, 10))


def test_hidden_unit_explorer_has_its_front_end():
    w = fc.hidden_unit_explorer(_dense_pair())
    assert "hidden_unit_explorer" in w._esm and "function unpack" in w._esm


def test_hidden_unit_explorer_rejects_missing_key():
    with pytest.raises(ValueError, match=r"missing \['trained'\]"):
        fc.hidden_unit_explorer({"fresh": np.zeros((128, 800))})


def test_hidden_unit_explorer_rejects_unit_out_of_range():
    with pytest.raises(ValueError, match=r"unit must be in 0\.\.127"):
        fc.hidden_unit_explorer(_dense_pair(), unit=128)


def test_hidden_unit_explorer_rejects_a_unit_trait_out_of_range():
    w = fc.hidden_unit_explorer(_dense_pair())
    with pytest.raises(traitlets.TraitError, match=r"unit must be in 0\.\.127"):
        w.unit = -1


def test_hidden_unit_explorer_rejects_an_unknown_view():
    with pytest.raises(ValueError, match="view must be one of"):
        fc.hidden_unit_explorer(_dense_pair(), view="gradients")


def test_hidden_unit_explorer_rejects_wrong_map_shape():
    with pytest.raises(ValueError, match="map_shape"):
        fc.hidden_unit_explorer(_dense_pair(), map_shape=(8, 5, 5))


def test_hidden_unit_explorer_rejects_a_model_without_dense_layer():
    from cnnlib import ReLU, Sequential

    with pytest.raises(ValueError, match="must be a Sequential with a Linear layer"):
        fc.hidden_unit_explorer((Sequential(ReLU()), Sequential(ReLU())))


def test_quantise_signed_round_trips_within_half_a_step():
    stack = np.random.default_rng(1).standard_normal((5, 3, 4))
    q, scale = fc.quantise_signed(stack)
    assert q.dtype == np.uint8 and scale.shape == (5,)
    for k in range(5):
        err = np.abs(fc.dequantise_signed(q[k], scale[k]) - stack[k]).max()
        assert err <= scale[k] / 254 + 1e-6


def test_quantise_signed_keeps_an_all_zero_image_at_zero():
    q, scale = fc.quantise_signed(np.zeros((1, 2, 2)))
    assert scale[0] == 0 and np.all(q == 128)


def test_show_flatten_marks_the_flat_position():
    maps = np.arange(800, dtype=float).reshape(8, 10, 10)
    fig = fc.show_flatten(maps, highlight=(3, 4, 7))
    texts = [t.get_text() for ax in fig.get_axes() for t in ax.texts]
    assert "x[347] = maps[3, 4, 7]" in texts


def test_show_flatten_rejects_a_highlight_outside_the_maps():
    with pytest.raises(ValueError, match="outside maps"):
        fc.show_flatten(np.zeros((8, 10, 10)), highlight=(8, 0, 0))


def test_plot_decision_boundaries_reports_training_accuracy():
    from cnnlib import Linear, Sequential

    x = np.array([[-1.0, 0.0], [1.0, 0.0]])
    y = np.array([0, 1])
    model = Sequential(Linear(2, 2, rng=0, dtype=np.float64))
    model[0].params["weight"][...] = [[-1.0, 0.0], [1.0, 0.0]]
    fig = fc.plot_decision_boundaries([model], x, y, titles=["linear"])
    assert "training accuracy 100.0%" in fig.axes[0].get_title()


def test_plot_decision_boundaries_rejects_titles_of_the_wrong_length():
    from cnnlib import Linear, Sequential

    model = Sequential(Linear(2, 2, rng=0, dtype=np.float64))
    with pytest.raises(ValueError, match="one entry per model"):
        fc.plot_decision_boundaries([model], np.zeros((2, 2)), np.array([0, 1]),
                                    titles=["a", "b"])
