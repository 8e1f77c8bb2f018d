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


# ----------------------------------------------------------------------- chapter 6: making it fast
# (chapters 3-5 moved to tests/test_widgets_fully_connected.py, _softmax.py, _training.py)


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
