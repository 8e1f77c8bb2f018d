"""Tests for cnnlib.book.widgets.making_it_fast: the im2col explorer."""

import numpy as np
import pytest
import traitlets

from cnnlib import im2col
from cnnlib.book import widgets


def test_im2col_explorer_default_is_the_4x4_example():
    w = widgets.im2col_explorer()
    assert w.data["cols"].shape == (4, 9)
    np.testing.assert_array_equal(w.data["window"], [[1, 2, 3], [5, 6, 7], [9, 10, 11]])
    assert w.data["position"] == (0, 0)


def test_im2col_explorer_row_is_the_flattened_window():
    w = widgets.im2col_explorer()
    w.window = 3
    assert w.data["row"] == 3 and w.data["position"] == (1, 1)
    np.testing.assert_array_equal(w.data["im2col_row"], w.data["window"].ravel())


def test_im2col_explorer_row_is_a_row_of_cnnlib_im2col():
    image = np.arange(36.0).reshape(6, 6)
    w = widgets.im2col_explorer(image, kernel_size=2, stride=2, window=4)
    np.testing.assert_array_equal(w.data["im2col_row"], im2col(image[None, None], 2, stride=2)[4])


def test_im2col_explorer_follows_the_stride():
    w = widgets.im2col_explorer(np.arange(36).reshape(6, 6), kernel_size=2, stride=2, window=4)
    assert w.data["cols"].shape == (9, 4)
    np.testing.assert_array_equal(w.data["window"], [[14, 15], [20, 21]])


def test_im2col_explorer_kernel_size_reshapes_the_matrix():
    w = widgets.im2col_explorer()
    w.kernel_size = 2
    assert w.data["cols"].shape == (9, 4)


def test_im2col_explorer_keeps_the_window_inside_a_smaller_matrix():
    w = widgets.im2col_explorer(kernel_size=2, window=8)
    w.kernel_size = 3
    assert w.window == 3 and w.data["position"] == (1, 1)


def test_im2col_explorer_stride_changes_the_windows():
    w = widgets.im2col_explorer(np.arange(25).reshape(5, 5), kernel_size=3, window=1)
    w.stride = 2
    assert w.data["cols"].shape == (4, 9) and w.data["position"] == (0, 1)
    np.testing.assert_array_equal(w.data["window"][0], [2, 3, 4])


def test_im2col_explorer_rejects_a_large_image():
    with pytest.raises(ValueError, match=r"small images"):
        widgets.im2col_explorer(np.zeros((28, 28)))


def test_im2col_explorer_rejects_a_window_out_of_range():
    with pytest.raises(ValueError, match=r"window must be an integer from 0 to 3"):
        widgets.im2col_explorer(window=4)


def test_im2col_explorer_rejects_a_kernel_larger_than_the_image():
    with pytest.raises(ValueError, match=r"kernel_size must be an integer from 1 to 4"):
        widgets.im2col_explorer(kernel_size=5)


def test_im2col_explorer_rejects_a_window_trait_out_of_range():
    w = widgets.im2col_explorer()
    with pytest.raises(traitlets.TraitError, match=r"window must be an integer in 0\.\.3, got 4"):
        w.window = 4
