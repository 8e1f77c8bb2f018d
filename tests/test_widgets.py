"""Tests for cnnlib.book.widgets (one section per chapter)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib.book import widgets  # noqa: E402

# ----------------------------------------------------------------------- chapter 1: convolution


def _digits(n=5, seed=0):
    """Small stand-ins for MNIST test digits: uint8 strokes on a 28x28 canvas."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    for i in range(n):
        r, c = rng.integers(4, 20, size=2)
        images[i, r : r + 6, c : c + 2] = 255
        images[i, r + 2, c - 3 : c + 5] = 200
    return images


def test_preset_kernels_are_read_only_3x3_floats():
    assert {"identity", "edge", "Sobel x", "Sobel y", "blur", "sharpen",
            "emboss"} <= set(widgets.PRESET_KERNELS)
    for name, k in widgets.PRESET_KERNELS.items():
        assert k.shape == (3, 3) and k.dtype == np.float64, name
        with pytest.raises(ValueError, match="read-only"):
            k[0, 0] = 5.0


def test_blur_kernel_sums_to_one_and_identity_copies_the_image():
    assert widgets.PRESET_KERNELS["blur"].sum() == pytest.approx(1.0)
    explorer = widgets.kernel_explorer(_digits(), kernel="identity")
    np.testing.assert_allclose(explorer.data["feature_map"], explorer.data["image"][1:-1, 1:-1])


def test_kernel_explorer_initial_state():
    images = _digits()
    explorer = widgets.kernel_explorer(images, labels=np.arange(5), index=2)
    assert explorer.data["output_shape"] == (26, 26)
    assert explorer.data["feature_map"].shape == (26, 26)
    np.testing.assert_array_equal(explorer.data["kernel"], widgets.PRESET_KERNELS["edge"])
    np.testing.assert_allclose(explorer.data["image"], images[2] / 255.0)
    assert explorer.controls["preset"].value == "edge"
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert "(26, 26)" in explorer.info.value


def test_kernel_explorer_first_control_is_an_int_slider():
    # the live JupyterLab test moves the first slider of the first widget on the page
    import ipywidgets

    explorer = widgets.kernel_explorer(_digits())
    assert isinstance(next(iter(explorer.controls.values())), ipywidgets.IntSlider)


def test_kernel_explorer_digit_slider_redraws():
    explorer = widgets.kernel_explorer(_digits())
    before_png, before_map = explorer.image.value, explorer.data["feature_map"]
    explorer.controls["index"].value = 3
    assert explorer.data["index"] == 3
    assert not np.array_equal(explorer.data["feature_map"], before_map)
    assert explorer.image.value != before_png


def test_kernel_explorer_stride_and_padding_change_the_output_shape():
    explorer = widgets.kernel_explorer(_digits())
    explorer.controls["padding"].value = 1
    assert explorer.data["output_shape"] == (28, 28)
    explorer.controls["stride"].value = 2
    assert explorer.data["output_shape"] == (14, 14)
    explorer.controls["stride"].value = 3
    explorer.controls["padding"].value = 2
    assert explorer.data["output_shape"] == (10, 10)  # (28 + 4 - 3) // 3 + 1
    assert "(10, 10)" in explorer.info.value


def test_kernel_explorer_preset_fills_the_cells():
    explorer = widgets.kernel_explorer(_digits())
    explorer.controls["preset"].value = "Sobel x"
    np.testing.assert_array_equal(explorer.kernel, widgets.PRESET_KERNELS["Sobel x"])
    np.testing.assert_array_equal(explorer.data["kernel"], widgets.PRESET_KERNELS["Sobel x"])
    assert explorer.controls["preset"].value == "Sobel x"  # filling the cells kept the name


def test_kernel_explorer_editing_a_cell_switches_to_custom():
    explorer = widgets.kernel_explorer(_digits(), kernel="identity")
    before = explorer.image.value
    explorer.controls["k00"].value = 2.0
    assert explorer.controls["preset"].value == "custom"
    assert explorer.data["kernel"][0, 0] == 2.0 and explorer.data["kernel"][1, 1] == 1.0
    assert explorer.image.value != before


def test_kernel_explorer_feature_map_matches_conv2d():
    from cnnlib import conv2d

    explorer = widgets.kernel_explorer(_digits(), kernel="sharpen", stride=2, padding=1)
    x = explorer.data["image"][None, None]
    k = widgets.PRESET_KERNELS["sharpen"][None, None]
    np.testing.assert_allclose(explorer.data["feature_map"],
                               conv2d(x, k, stride=2, padding=1)[0, 0])


def test_kernel_explorer_accepts_a_custom_array():
    kernel = np.arange(9.0).reshape(3, 3)
    explorer = widgets.kernel_explorer(_digits(), kernel=kernel)
    assert explorer.controls["preset"].value == "custom"
    np.testing.assert_array_equal(explorer.data["kernel"], kernel)


def test_kernel_explorer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown kernel 'laplace'"):
        widgets.kernel_explorer(_digits(), kernel="laplace")
    with pytest.raises(ValueError, match="must be 3x3"):
        widgets.kernel_explorer(_digits(), kernel=np.ones((5, 5)))
    with pytest.raises(ValueError, match=r"index must be an integer in 0\.\.4"):
        widgets.kernel_explorer(_digits(), index=5)
    with pytest.raises(ValueError, match=r"shape \(N, H, W\)"):
        widgets.kernel_explorer(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="one entry per image"):
        widgets.kernel_explorer(_digits(), labels=[1, 2])
    with pytest.raises(ValueError, match="stride must be 1, 2 or 3"):
        widgets.kernel_explorer(_digits(), stride=4)


def test_window_explainer_initial_state_is_the_strongest_response():
    image = _digits()[0]
    explainer = widgets.window_explainer(image, "Sobel x")
    fmap = explainer.data["feature_map"]
    row, col = explainer.data["position"]
    assert abs(fmap[row, col]) == pytest.approx(np.abs(fmap).max())
    assert explainer.data["value"] != 0.0
    assert explainer.data["patch"].shape == (3, 3)


def test_window_explainer_value_is_the_sum_of_the_product():
    image = _digits()[1]
    explainer = widgets.window_explainer(image, "edge", row=4, col=7)
    patch = image[4:7, 7:10] / 255.0
    np.testing.assert_allclose(explainer.data["patch"], patch)
    np.testing.assert_allclose(explainer.data["product"], patch * widgets.PRESET_KERNELS["edge"])
    assert explainer.data["value"] == pytest.approx(explainer.data["product"].sum())
    assert explainer.data["value"] == pytest.approx(explainer.data["feature_map"][4, 7])


def test_window_explainer_sliders_move_the_window():
    explainer = widgets.window_explainer(_digits()[0], "Sobel y", row=0, col=0)
    before = explainer.image.value
    explainer.controls["col"].value = 12
    explainer.controls["row"].value = 9
    assert explainer.data["position"] == (9, 12)
    assert explainer.data["value"] == pytest.approx(explainer.data["feature_map"][9, 12])
    assert explainer.image.value != before


def test_window_explainer_with_stride_padding_and_a_5x5_kernel():
    image = _digits()[2] / 255.0
    kernel = np.random.default_rng(0).standard_normal((5, 5))
    explainer = widgets.window_explainer(image, kernel, row=3, col=2, stride=2, padding=2)
    padded = np.pad(image, 2)
    np.testing.assert_allclose(explainer.data["patch"], padded[6:11, 4:9])
    assert explainer.data["feature_map"].shape == (14, 14)
    assert explainer.controls["row"].max == 13


def test_window_explainer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="one grey image"):
        widgets.window_explainer(_digits(), "edge")
    with pytest.raises(ValueError, match=r"row must be an output position in 0\.\.25"):
        widgets.window_explainer(_digits()[0], "edge", row=26, col=0)
    with pytest.raises(ValueError, match="square 2-D array"):
        widgets.window_explainer(_digits()[0], np.ones((3, 2)))


# ----------------------------------------------------------------------- chapter 2: pooling


def test_pooling_explorer_initial_state():
    explorer = widgets.pooling_explorer(_digits(), index=1)
    fmap = explorer.data["feature_map"]
    assert fmap.shape == (26, 26) and fmap.min() >= 0.0  # after ReLU
    assert explorer.data["output_shape"] == (13, 13)
    assert explorer.data["elements"] == 169
    assert explorer.data["pooled"].shape == (13, 13)
    assert explorer.controls["stride"].value == 2 and explorer.controls["stride"].disabled
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert "169" in explorer.info.value


def test_pooling_explorer_pooled_matches_maxpool2d():
    from cnnlib import maxpool2d

    explorer = widgets.pooling_explorer(_digits(), kernel="Sobel x")
    expected = maxpool2d(explorer.data["feature_map"][None, None], 2)[0, 0]
    np.testing.assert_array_equal(explorer.data["pooled"], expected)


def test_pooling_explorer_stride_follows_size_while_tied():
    explorer = widgets.pooling_explorer(_digits())
    before = explorer.image.value
    explorer.controls["size"].value = 3
    assert explorer.controls["stride"].value == 3
    assert explorer.data["output_shape"] == (8, 8)  # (26 - 3) // 3 + 1
    assert explorer.data["elements"] == 64
    assert explorer.image.value != before


def test_pooling_explorer_untied_stride_overlaps_windows():
    explorer = widgets.pooling_explorer(_digits())
    explorer.controls["tied"].value = False
    assert not explorer.controls["stride"].disabled
    explorer.controls["size"].value = 3
    assert explorer.controls["stride"].value == 2  # no longer follows the size
    assert explorer.data["output_shape"] == (12, 12)  # (26 - 3) // 2 + 1
    explorer.controls["stride"].value = 1
    assert explorer.data["output_shape"] == (24, 24)


def test_pooling_explorer_average_mode():
    explorer = widgets.pooling_explorer(_digits(), size=2)
    max_pooled = explorer.data["pooled"]
    explorer.controls["mode"].value = "average"
    fmap = explorer.data["feature_map"]
    expected = fmap.reshape(13, 2, 13, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(explorer.data["pooled"], expected)
    assert np.all(explorer.data["pooled"] <= max_pooled + 1e-12)


def test_pooling_explorer_size_one_keeps_everything():
    explorer = widgets.pooling_explorer(_digits(), size=1)
    np.testing.assert_array_equal(explorer.data["pooled"], explorer.data["feature_map"])
    assert explorer.data["elements"] == 26 * 26


def test_pooling_explorer_kernel_and_digit_change_the_feature_map():
    explorer = widgets.pooling_explorer(_digits())
    before = explorer.data["feature_map"]
    explorer.controls["kernel"].value = "blur"
    blurred = explorer.data["feature_map"]
    assert not np.array_equal(before, blurred)
    explorer.controls["index"].value = 4
    assert not np.array_equal(blurred, explorer.data["feature_map"])


def test_pooling_explorer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kernel must be one of"):
        widgets.pooling_explorer(_digits(), kernel="laplace")
    with pytest.raises(ValueError, match="size must be 1, 2, 3 or 4"):
        widgets.pooling_explorer(_digits(), size=5)
    with pytest.raises(ValueError, match="stride must be 1, 2, 3, 4 or None"):
        widgets.pooling_explorer(_digits(), stride=0)
    with pytest.raises(ValueError, match="mode must be 'max' or 'average'"):
        widgets.pooling_explorer(_digits(), mode="min")


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


def test_im2col_explorer_default_is_the_4x4_example():
    w = widgets.im2col_explorer()
    assert w.controls["window"].max == 3
    assert w.data["cols"].shape == (4, 9)
    np.testing.assert_array_equal(w.data["window"], [[1, 2, 3], [5, 6, 7], [9, 10, 11]])
    assert w.data["position"] == (0, 0)


def test_im2col_explorer_row_is_the_flattened_window():
    w = widgets.im2col_explorer()
    before = w.image.value
    w.controls["window"].value = 3
    assert w.data["row"] == 3 and w.data["position"] == (1, 1)
    np.testing.assert_array_equal(w.data["cols"][3], w.data["window"].ravel())
    assert w.image.value != before


def test_im2col_explorer_follows_the_stride():
    w = widgets.im2col_explorer(np.arange(36).reshape(6, 6), kernel_size=2, stride=2, window=4)
    assert w.data["cols"].shape == (9, 4)
    assert w.data["position"] == (1, 1)
    np.testing.assert_array_equal(w.data["window"], [[14, 15], [20, 21]])


def test_im2col_explorer_rejects_a_large_image():
    with pytest.raises(ValueError, match=r"small images"):
        widgets.im2col_explorer(np.zeros((28, 28)))


def test_im2col_explorer_rejects_a_window_out_of_range():
    with pytest.raises(ValueError, match=r"window must be an integer from 0 to 3"):
        widgets.im2col_explorer(window=4)
