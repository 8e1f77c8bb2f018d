"""Tests for cnnlib.book.widgets.convolution: the kernel explorer and the window explainer."""

import numpy as np
import pytest
import traitlets
from conftest import fake_digits

from cnnlib import conv2d
from cnnlib.book import widgets
from cnnlib.book.widgets.base import BookWidget, unpack


def test_preset_kernels_are_read_only_3x3_floats():
    assert {"identity", "edge", "Sobel x", "Sobel y", "blur", "sharpen",
            "emboss"} <= set(widgets.PRESET_KERNELS)
    for name, k in widgets.PRESET_KERNELS.items():
        assert k.shape == (3, 3) and k.dtype == np.float64, name
        with pytest.raises(ValueError, match="read-only"):
            k[0, 0] = 5.0


def test_blur_kernel_sums_to_one_and_identity_copies_the_image():
    assert widgets.PRESET_KERNELS["blur"].sum() == pytest.approx(1.0)
    explorer = widgets.kernel_explorer(fake_digits(), kernel="identity")
    np.testing.assert_allclose(explorer.data["feature_map"], explorer.data["image"][1:-1, 1:-1])


# ---- kernel explorer


def test_kernel_explorer_is_an_anywidget_with_its_front_end():
    explorer = widgets.kernel_explorer(fake_digits())
    assert isinstance(explorer, BookWidget)
    assert "kernel_explorer" in explorer._esm and "function unpack" in explorer._esm


def test_kernel_explorer_initial_state():
    images = fake_digits()
    explorer = widgets.kernel_explorer(images, labels=np.arange(5), index=2)
    assert explorer.data["output_shape"] == (26, 26)
    np.testing.assert_array_equal(explorer.data["kernel"], widgets.PRESET_KERNELS["edge"])
    np.testing.assert_allclose(explorer.data["image"], images[2] / 255.0)
    assert explorer.preset == "edge" and explorer.labels == [0, 1, 2, 3, 4]


def test_kernel_explorer_sends_the_exact_uint8_digits():
    images = fake_digits()
    explorer = widgets.kernel_explorer(images)
    assert explorer.images["dtype"] == "uint8"
    np.testing.assert_allclose(unpack(explorer.images), images / 255.0, rtol=1e-15)


def test_kernel_explorer_state_is_small():
    # 200 MNIST-sized digits, as the chapter sends: well under the 2.5 MB page budget
    explorer = widgets.kernel_explorer(np.zeros((200, 28, 28), dtype=np.uint8))
    assert len(explorer.images["b64"]) < 220_000


def test_kernel_explorer_index_picks_another_digit():
    explorer = widgets.kernel_explorer(fake_digits())
    before = explorer.data["feature_map"]
    explorer.index = 3
    assert explorer.data["index"] == 3
    assert not np.array_equal(explorer.data["feature_map"], before)


def test_kernel_explorer_stride_changes_the_output_shape():
    explorer = widgets.kernel_explorer(fake_digits())
    explorer.stride = 2
    assert explorer.data["output_shape"] == (13, 13)


def test_kernel_explorer_padding_changes_the_output_shape():
    explorer = widgets.kernel_explorer(fake_digits(), stride=3)
    explorer.padding = 2
    assert explorer.data["output_shape"] == (10, 10)  # (28 + 4 - 3) // 3 + 1


def test_kernel_explorer_preset_fills_the_kernel():
    explorer = widgets.kernel_explorer(fake_digits())
    explorer.preset = "Sobel x"
    np.testing.assert_array_equal(explorer.kernel, widgets.PRESET_KERNELS["Sobel x"])
    np.testing.assert_array_equal(explorer.data["kernel"], widgets.PRESET_KERNELS["Sobel x"])
    assert explorer.preset == "Sobel x"  # filling the cells kept the name


def test_kernel_explorer_editing_the_kernel_switches_to_custom():
    explorer = widgets.kernel_explorer(fake_digits(), kernel="identity")
    explorer.kernel = [[2, 0, 0], [0, 1, 0], [0, 0, 0]]
    assert explorer.preset == "custom"
    assert explorer.data["kernel"][0, 0] == 2.0 and explorer.data["kernel"][1, 1] == 1.0


def test_kernel_explorer_typing_a_preset_names_it():
    explorer = widgets.kernel_explorer(fake_digits(), kernel="identity")
    explorer.kernel = widgets.PRESET_KERNELS["sharpen"].tolist()
    assert explorer.preset == "sharpen"


def test_kernel_explorer_feature_map_matches_conv2d():
    explorer = widgets.kernel_explorer(fake_digits(), kernel="sharpen", stride=2, padding=1)
    x = explorer.data["image"][None, None]
    k = widgets.PRESET_KERNELS["sharpen"][None, None]
    np.testing.assert_allclose(explorer.data["feature_map"],
                               conv2d(x, k, stride=2, padding=1)[0, 0])


def test_kernel_explorer_accepts_a_custom_array():
    kernel = np.arange(9.0).reshape(3, 3)
    explorer = widgets.kernel_explorer(fake_digits(), kernel=kernel)
    assert explorer.preset == "custom"
    np.testing.assert_array_equal(explorer.data["kernel"], kernel)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"kernel": "laplace"}, "unknown kernel 'laplace'"),
    ({"kernel": np.ones((5, 5))}, "must be 3x3"),
    ({"index": 5}, r"index must be an integer in 0\.\.4"),
    ({"labels": [1, 2]}, "one entry per image"),
    ({"stride": 4}, "stride must be 1, 2 or 3"),
    ({"padding": 3}, "padding must be 0, 1 or 2"),
])
def test_kernel_explorer_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        widgets.kernel_explorer(fake_digits(), **kwargs)


def test_kernel_explorer_rejects_a_single_image():
    with pytest.raises(ValueError, match=r"shape \(N, H, W\)"):
        widgets.kernel_explorer(np.zeros((28, 28)))


@pytest.mark.parametrize(("name", "value", "match"), [
    ("stride", 4, r"stride must be an integer in 1\.\.3, got 4"),
    ("padding", -1, r"padding must be an integer in 0\.\.2, got -1"),
    ("index", 5, r"index must be an integer in 0\.\.4, got 5"),
    ("kernel", [[1, 2], [3, 4]], "kernel must be 3x3 finite numbers"),
    ("preset", "laplace", "preset must be one of"),
])
def test_kernel_explorer_rejects_bad_trait_values(name, value, match):
    explorer = widgets.kernel_explorer(fake_digits())
    with pytest.raises(traitlets.TraitError, match=match):
        setattr(explorer, name, value)


# ---- window explainer


def test_window_explainer_initial_state_is_the_strongest_response():
    explainer = widgets.window_explainer(fake_digits()[0], "Sobel x")
    fmap = explainer.data["feature_map"]
    row, col = explainer.data["position"]
    assert abs(fmap[row, col]) == pytest.approx(np.abs(fmap).max())
    assert explainer.data["value"] != 0.0


def test_window_explainer_value_is_the_sum_of_the_product():
    image = fake_digits()[1]
    explainer = widgets.window_explainer(image, "edge", row=4, col=7)
    patch = image[4:7, 7:10] / 255.0
    np.testing.assert_allclose(explainer.data["patch"], patch)
    np.testing.assert_allclose(explainer.data["product"], patch * widgets.PRESET_KERNELS["edge"])
    assert explainer.data["value"] == pytest.approx(explainer.data["feature_map"][4, 7])


def test_window_explainer_row_and_col_move_the_window():
    explainer = widgets.window_explainer(fake_digits()[0], "Sobel y", row=0, col=0)
    explainer.col = 12
    explainer.row = 9
    assert explainer.data["position"] == (9, 12)
    assert explainer.data["value"] == pytest.approx(explainer.data["feature_map"][9, 12])


def test_window_explainer_with_stride_padding_and_a_5x5_kernel():
    image = fake_digits()[2] / 255.0
    kernel = np.random.default_rng(0).standard_normal((5, 5))
    explainer = widgets.window_explainer(image, kernel, row=3, col=2, stride=2, padding=2)
    np.testing.assert_allclose(explainer.data["patch"], np.pad(image, 2)[6:11, 4:9])
    assert explainer.data["feature_map"].shape == (14, 14)


def test_window_explainer_rejects_a_row_outside_the_feature_map():
    explainer = widgets.window_explainer(fake_digits()[0], "edge")
    with pytest.raises(traitlets.TraitError, match=r"row must be an integer in 0\.\.25, got 26"):
        explainer.row = 26


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    ((fake_digits(), "edge"), {}, "one grey image"),
    ((fake_digits()[0], "edge"), {"row": 26, "col": 0},
     r"row must be an output position in 0\.\.25"),
    ((fake_digits()[0], np.ones((3, 2))), {}, "square 2-D array"),
    ((fake_digits()[0], "edge"), {"stride": 0}, "stride must be 1, 2 or 3"),
])
def test_window_explainer_rejects_bad_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        widgets.window_explainer(*args, **kwargs)
