"""Tests for cnnlib.functional: hand-checked examples, loop versus vectorised versions, col2im as
the adjoint of im2col, finite-difference gradient checks, max-pool ties, and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import PROPERTY, close, conv_cases, distinct, normal, pool_cases

from cnnlib.functional import (
    col2im,
    conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_naive,
    conv_output_size,
    im2col,
    maxpool2d,
    maxpool2d_backward,
    maxpool2d_backward_naive,
    maxpool2d_naive,
)
from cnnlib.gradcheck import numerical_gradient_array, rel_error

GRAD_TOL = 1e-6  # largest relative error a float64 gradient check may show
# (channels, kernel, stride, padding)
CONV_SETTINGS = [(1, 3, 1, 0), (1, 2, 2, 1), (3, 3, 1, 2), (2, 3, 2, 1), (2, 1, 1, 0),
                 (3, 4, 3, 1)]
POOL_SETTINGS = [(2, None), (3, 2), (2, 1), (3, 3), (1, 1)]


def relu_ties(shape, seed=0):
    """Small integers after a ReLU: many windows hold several equal maxima (often zeros)."""
    return np.maximum(np.random.default_rng(seed).integers(-3, 3, size=shape), 0).astype(float)


def conv_inputs(c, k, f=4, seed=0):
    x = normal((2, c, 7, 6), seed=seed)
    weight = normal((f, c, k, k), seed=seed + 1)
    bias = normal(f, seed=seed + 2)
    return x, weight, bias


# --------------------------------------------------------------------------- conv_output_size
@pytest.mark.parametrize(
    ("size", "k", "stride", "padding", "expected"),
    [(28, 5, 1, 0, 24), (28, 3, 2, 1, 14), (5, 5, 1, 0, 1), (7, 3, 3, 0, 2), (1, 3, 1, 1, 1)],
)
def test_conv_output_size_formula(size, k, stride, padding, expected):
    assert conv_output_size(size, k, stride, padding) == expected


def test_conv_output_size_rejects_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"kernel_size 6 is larger than the padded input "
                                         r"\(3 \+ 2\*1 = 5\)"):
        conv_output_size(3, 6, padding=1)


# --------------------------------------------------------------------------- im2col
def test_im2col_matches_hand_built_example():
    x = np.arange(9.0).reshape(1, 1, 3, 3)  # [[0 1 2] [3 4 5] [6 7 8]]
    expected = np.array([[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]], dtype=float)
    close(im2col(x, 2), expected)


def test_im2col_rows_hold_channels_in_c_k_k_order():
    x = np.concatenate([np.arange(9.0), np.arange(9.0) + 10]).reshape(1, 2, 3, 3)
    cols = im2col(x, 2)
    close(cols[0], [0, 1, 3, 4, 10, 11, 13, 14])
    close(cols[3], [4, 5, 7, 8, 14, 15, 17, 18])


def test_im2col_with_padding_and_stride_matches_hand_built_example():
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # padded to 5x5 with a ring of zeros
    expected = np.array([[0, 0, 0, 1], [0, 0, 2, 3], [0, 4, 0, 7], [5, 6, 8, 9]], dtype=float)
    close(im2col(x, 2, stride=2, padding=1), expected)


def test_im2col_orders_rows_by_image_then_output_position():
    x = np.stack([np.arange(9.0), np.arange(9.0) + 100]).reshape(2, 1, 3, 3)
    cols = im2col(x, 2)  # 4 windows per image
    assert cols.shape == (8, 4)
    close(cols[4], [100, 101, 103, 104])


# --------------------------------------------------------------------------- col2im
def test_col2im_adds_overlapping_windows_by_hand():
    # 3x3 image, 2x2 windows, all ones: the centre is in 4 windows, edges in 2, corners in 1
    expected = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]])[None, None]
    close(col2im(np.ones((4, 4)), (1, 1, 3, 3), 2), expected)


def test_col2im_drops_the_padding():
    # one window per 2x2 block of the padded 4x4 image: only its inner 2x2 is kept
    cols = np.arange(16.0).reshape(4, 4)
    expected = np.array([[[[3.0, 6.0], [9.0, 12.0]]]])
    close(col2im(cols, (1, 1, 2, 2), 2, stride=2, padding=1), expected)


@pytest.mark.parametrize(("c", "k", "stride", "padding"), CONV_SETTINGS)
def test_col2im_is_the_adjoint_of_im2col(c, k, stride, padding):
    # <im2col(x), C> = <x, col2im(C)> for every x and C: the definition of the adjoint
    x = normal((2, c, 7, 6), seed=1)
    cols = im2col(x, k, stride, padding)
    c_mat = normal(cols.shape, seed=2)
    lhs = np.sum(cols * c_mat)
    rhs = np.sum(x * col2im(c_mat, x.shape, k, stride, padding))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_col2im_inverts_im2col_when_windows_do_not_overlap():
    x = normal((2, 3, 6, 4), seed=1)
    close(col2im(im2col(x, 2, stride=2), x.shape, 2, stride=2), x)


def test_col2im_keeps_float32():
    assert col2im(np.ones((4, 4), np.float32), (1, 1, 3, 3), 2).dtype == np.float32


def test_col2im_rejects_cols_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"col2im: expected cols of shape \(4, 4\) for input "
                                         r"shape \(1, 1, 3, 3\).*got \(4, 5\)"):
        col2im(np.ones((4, 5)), (1, 1, 3, 3), 2)


# --------------------------------------------------------------------------- convolution
def test_conv2d_naive_matches_hand_computed_cross_correlation():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    kernel = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
    # top-left: 0*0 + 1*1 + 3*2 + 4*3 = 19, and so on
    close(conv2d_naive(x, kernel), np.array([[[[19.0, 25.0], [37.0, 43.0]]]]))


def test_conv2d_matches_hand_computed_cross_correlation():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    kernel = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
    close(conv2d(x, kernel, bias=np.array([1.0])), np.array([[[[20.0, 26.0], [38.0, 44.0]]]]))


@pytest.mark.parametrize(("c", "k", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_matches_conv2d_naive(c, k, stride, padding):
    x, weight, bias = conv_inputs(c, k)
    close(conv2d(x, weight, bias, stride, padding), conv2d_naive(x, weight, bias, stride, padding))


def test_conv2d_without_bias_matches_conv2d_naive():
    x, weight, _ = conv_inputs(2, 3)
    close(conv2d(x, weight), conv2d_naive(x, weight))


@pytest.mark.parametrize(("c", "k", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_backward_matches_conv2d_backward_naive(c, k, stride, padding):
    x, weight, _ = conv_inputs(c, k)
    grad_out = normal(conv2d_naive(x, weight, None, stride, padding).shape, seed=4)
    ours = conv2d_backward(grad_out, x, weight, stride, padding)
    loops = conv2d_backward_naive(grad_out, x, weight, stride, padding)
    for a, b in zip(ours, loops, strict=True):
        close(a, b)


@pytest.mark.parametrize(("c", "k", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_backward_input_gradient_matches_finite_differences(c, k, stride, padding):
    x, weight, bias = conv_inputs(c, k, f=3)
    grad_out = normal(conv2d(x, weight, bias, stride, padding).shape, seed=5)
    dx, _, _ = conv2d_backward(grad_out, x, weight, stride, padding)
    num = numerical_gradient_array(lambda: conv2d(x, weight, bias, stride, padding), x, grad_out)
    assert rel_error(dx, num) < GRAD_TOL


@pytest.mark.parametrize(("c", "k", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_backward_weight_and_bias_gradients_match_finite_differences(c, k, stride,
                                                                             padding):
    x, weight, bias = conv_inputs(c, k, f=3)
    grad_out = normal(conv2d(x, weight, bias, stride, padding).shape, seed=5)
    _, dweight, dbias = conv2d_backward(grad_out, x, weight, stride, padding)

    def forward():
        return conv2d(x, weight, bias, stride, padding)

    assert rel_error(dweight, numerical_gradient_array(forward, weight, grad_out)) < GRAD_TOL
    assert rel_error(dbias, numerical_gradient_array(forward, bias, grad_out)) < GRAD_TOL


def test_conv2d_keeps_float32():
    x, weight, bias = (a.astype(np.float32) for a in conv_inputs(2, 3))
    out = conv2d(x, weight, bias, 1, 1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in conv2d_backward(np.ones_like(out), x, weight, 1, 1))


# --------------------------------------------------------------------------- pooling
def test_maxpool2d_naive_matches_hand_computed_example():
    x = np.array([[1, 2, 5, 0], [3, 4, 1, 1], [0, 0, 9, 8], [7, 0, 6, 7]], float)[None, None]
    close(maxpool2d_naive(x, 2), np.array([[[[4.0, 5.0], [7.0, 9.0]]]]))


@pytest.mark.parametrize(("k", "stride"), POOL_SETTINGS)
def test_maxpool2d_matches_maxpool2d_naive(k, stride):
    x = normal((2, 3, 7, 8), seed=5)
    np.testing.assert_array_equal(maxpool2d(x, k, stride), maxpool2d_naive(x, k, stride))


@pytest.mark.parametrize(("k", "stride"), POOL_SETTINGS)
def test_maxpool2d_backward_matches_the_loop_version(k, stride):
    x = distinct((2, 3, 7, 8), seed=5)
    grad_out = normal(maxpool2d(x, k, stride).shape, seed=6)
    close(maxpool2d_backward(grad_out, x, k, stride),
          maxpool2d_backward_naive(grad_out, x, k, stride))


@pytest.mark.parametrize(("k", "stride"), POOL_SETTINGS)
def test_maxpool2d_backward_matches_finite_differences(k, stride):
    x = distinct((2, 2, 5, 6), seed=1)
    grad_out = normal(maxpool2d(x, k, stride).shape, seed=2)
    num = numerical_gradient_array(lambda: maxpool2d(x, k, stride), x, grad_out)
    assert rel_error(maxpool2d_backward(grad_out, x, k, stride), num) < GRAD_TOL


@pytest.mark.parametrize("backward", [maxpool2d_backward, maxpool2d_backward_naive],
                         ids=["vectorised", "naive"])
def test_maxpool_ties_send_the_gradient_to_the_first_maximum(backward):
    x = np.maximum(np.array([[-1.0, -2.0, 3.0, 3.0], [-3.0, -4.0, 3.0, 1.0]]), 0)[None, None]
    # after the ReLU the left window is all zeros and the right one holds 3 three times
    expected = np.array([[[[5.0, 0.0, 7.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])
    np.testing.assert_array_equal(backward(np.array([[[[5.0, 7.0]]]]), x, 2), expected)


@pytest.mark.parametrize(("k", "stride"), [(2, None), (3, 1), (2, 1)])
def test_maxpool2d_backward_with_ties_matches_the_loop_version(k, stride):
    x = relu_ties((2, 2, 6, 6), seed=3)
    grad_out = normal(maxpool2d(x, k, stride).shape, seed=4)
    close(maxpool2d_backward(grad_out, x, k, stride),
          maxpool2d_backward_naive(grad_out, x, k, stride))


def test_maxpool2d_backward_adds_up_where_overlapping_windows_share_a_maximum():
    x = np.array([[0.0, 1.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]])[None, None]
    # stride 1: all four 2x2 windows hold the 9, so it receives every gradient
    dx = maxpool2d_backward(np.ones((1, 1, 2, 2)), x, 2, 1)
    assert dx[0, 0, 1, 1] == 4.0 and dx.sum() == 4.0


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("func", "args"),
    [(conv2d, (np.ones((1, 1, 3, 3)),)), (conv2d_naive, (np.ones((1, 1, 3, 3)),)),
     (maxpool2d, (2,)), (maxpool2d_naive, (2,)), (im2col, (2,))],
    ids=["conv2d", "conv2d_naive", "maxpool2d", "maxpool2d_naive", "im2col"],
)
def test_functions_reject_input_that_is_not_4d(func, args):
    with pytest.raises(ValueError, match=r"4-D input of shape \(N, C, H, W\), got shape \(3, 5\)"):
        func(np.zeros((3, 5)), *args)


@pytest.mark.parametrize("func", [conv2d, conv2d_naive])
def test_conv2d_functions_reject_wrong_channel_count(func):
    with pytest.raises(ValueError, match=r"expected 2 input channel\(s\), i\.e\. shape "
                                         r"\(N, 2, H, W\), got shape \(1, 3, 5, 5\)"):
        func(np.zeros((1, 3, 5, 5)), np.zeros((4, 2, 3, 3)))


@pytest.mark.parametrize("func", [conv2d, conv2d_naive])
def test_conv2d_functions_reject_a_non_square_weight(func):
    with pytest.raises(ValueError, match=r"weight of shape \(F, C, k, k\) with a square k x k "
                                         r"kernel, got shape \(4, 1, 3, 2\)"):
        func(np.zeros((1, 1, 5, 5)), np.zeros((4, 1, 3, 2)))


def test_conv2d_rejects_a_bias_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"bias of shape \(4,\), one per filter, got shape "
                                         r"\(3,\)"):
        conv2d(np.zeros((1, 1, 5, 5)), np.zeros((4, 1, 3, 3)), np.zeros(3))


@pytest.mark.parametrize(
    ("func", "args", "message"),
    [(conv2d, (np.ones((1, 1, 2, 2)), None, 0), r"stride: expected a positive integer, got 0\."),
     (conv2d_naive, (np.ones((1, 1, 2, 2)), None, 1, -1),
      r"padding: expected a non-negative integer, got -1\."),
     (maxpool2d, (0,), r"kernel_size: expected a positive integer, got 0\."),
     (maxpool2d_naive, (2, 0), r"stride: expected a positive integer, got 0\."),
     (im2col, (2, 1, -2), r"padding: expected a non-negative integer, got -2\.")],
    ids=["conv2d", "conv2d_naive", "maxpool2d", "maxpool2d_naive", "im2col"],
)
def test_functions_reject_bad_sizes(func, args, message):
    with pytest.raises(ValueError, match=message):
        func(np.zeros((1, 1, 4, 4)), *args)


# --------------------------------------------------------------------------- properties
def _conv_case(case):
    x = normal((case["n"], case["c"], case["h"], case["w"]), seed=case["seed"])
    weight = normal((case["f"], case["c"], case["k"], case["k"]), seed=case["seed"] + 1)
    return x, weight, case["stride"], case["padding"]


@PROPERTY
@given(conv_cases())
def test_property_im2col_times_weight_is_the_convolution(case):
    x, w, s, p = _conv_case(case)
    cols = im2col(x, case["k"], s, p)
    out = conv2d_naive(x, w, None, s, p)
    assert cols.shape == (out.shape[0] * out.shape[2] * out.shape[3], case["c"] * case["k"] ** 2)
    close(cols @ w.reshape(case["f"], -1).T, out.transpose(0, 2, 3, 1).reshape(-1, case["f"]))


@PROPERTY
@given(conv_cases())
def test_property_col2im_is_the_adjoint_of_im2col(case):
    x, _, s, p = _conv_case(case)
    cols = im2col(x, case["k"], s, p)
    c_mat = normal(cols.shape, seed=case["seed"] + 2)
    assert np.sum(cols * c_mat) == pytest.approx(
        np.sum(x * col2im(c_mat, x.shape, case["k"], s, p)), rel=1e-10, abs=1e-10)


@PROPERTY
@given(conv_cases())
def test_property_conv2d_backward_versions_agree(case):
    x, w, s, p = _conv_case(case)
    grad_out = normal(conv2d_naive(x, w, None, s, p).shape, seed=case["seed"] + 3)
    for a, b in zip(conv2d_backward(grad_out, x, w, s, p),
                    conv2d_backward_naive(grad_out, x, w, s, p), strict=True):
        close(a, b)


@PROPERTY
@given(pool_cases())
def test_property_maxpool_backward_versions_agree_with_ties(case):
    x = relu_ties((case["n"], case["c"], case["h"], case["w"]), seed=case["seed"])
    k, s = case["k"], case["stride"]
    grad_out = normal(maxpool2d(x, k, s).shape, seed=case["seed"] + 1)
    close(maxpool2d_backward(grad_out, x, k, s), maxpool2d_backward_naive(grad_out, x, k, s))
