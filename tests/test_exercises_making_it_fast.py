"""Tests for cnnlib.book.exercises.making_it_fast (Chapter 6's checkers)."""

import numpy as np

from cnnlib.book import exercises


def _im2col_loop(x, kernel_size, stride):
    n, _, h, w = x.shape
    k = kernel_size
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    return np.array([x[i, :, r * stride : r * stride + k, s * stride : s * stride + k].ravel()
                     for i in range(n) for r in range(oh) for s in range(ow)])


def test_check_im2col_passes_a_loop_version():
    assert exercises.check_im2col(_im2col_loop).passed


def test_check_im2col_spots_windows_flattened_by_column():
    def by_column(x, kernel_size, stride):
        cols = _im2col_loop(x, kernel_size, stride)
        k = kernel_size
        return cols.reshape(len(cols), -1, k, k).transpose(0, 1, 3, 2).reshape(len(cols), -1)

    assert "column by column" in exercises.check_im2col(by_column).message


def test_check_im2col_reports_a_wrong_shape():
    result = exercises.check_im2col(lambda x, kernel_size, stride: _im2col_loop(x, kernel_size,
                                                                               stride).T)
    assert not result.passed and "has shape" in result.message


def _conv_via_im2col(x, weight, bias):
    from cnnlib import im2col

    n, _, h, w = x.shape
    f, _, k, _ = weight.shape
    out = im2col(x, k) @ weight.reshape(f, -1).T + bias
    return out.reshape(n, h - k + 1, w - k + 1, f).transpose(0, 3, 1, 2)


def test_check_conv2d_im2col_passes_a_correct_function():
    assert exercises.check_conv2d_im2col(_conv_via_im2col).passed


def test_check_conv2d_im2col_spots_a_straight_reshape():
    from cnnlib import im2col

    def straight(x, weight, bias):
        n, _, h, w = x.shape
        f, _, k, _ = weight.shape
        out = im2col(x, k) @ weight.reshape(f, -1).T + bias
        return out.reshape(n, f, h - k + 1, w - k + 1)

    result = exercises.check_conv2d_im2col(straight)
    assert not result.passed and "wrong places" in result.message


def test_check_conv2d_im2col_spots_a_missing_bias():
    def no_bias(x, weight, bias):
        return _conv_via_im2col(x, weight, 0 * bias)

    assert "forgot the bias" in exercises.check_conv2d_im2col(no_bias).message
