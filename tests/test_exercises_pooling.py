"""Tests for cnnlib.book.exercises.pooling (Chapter 2's checkers)."""

import numpy as np

from cnnlib.book import exercises


def _good_maxpool2d(x, size, stride):
    oh, ow = (x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1
    out = np.empty((oh, ow))
    for r in range(oh):
        for c in range(ow):
            out[r, c] = x[r * stride : r * stride + size, c * stride : c * stride + size].max()
    return out


def _good_maxpool2d_backward(grad_out, x, size, stride):
    dx = np.zeros_like(x)
    for r in range(grad_out.shape[0]):
        for c in range(grad_out.shape[1]):
            window = x[r * stride : r * stride + size, c * stride : c * stride + size]
            a, b = np.unravel_index(np.argmax(window), window.shape)
            dx[r * stride + a, c * stride + b] += grad_out[r, c]
    return dx


def test_check_maxpool2d_passes_a_correct_function():
    assert exercises.check_maxpool2d(_good_maxpool2d).passed


def test_check_maxpool2d_catches_a_zero_initialised_maximum():
    def from_zero(x, size, stride):
        return np.maximum(_good_maxpool2d(x, size, stride), 0.0)

    result = exercises.check_maxpool2d(from_zero)
    assert not result.passed
    assert "negative maximum" in result.message


def test_check_maxpool2d_catches_ignored_stride():
    result = exercises.check_maxpool2d(lambda x, size, stride: _good_maxpool2d(x, size, size))
    assert not result.passed and "shape" in result.message and "case 5 of 7" in result.message


def test_check_maxpool2d_catches_a_missing_return():
    result = exercises.check_maxpool2d(lambda x, size, stride: None)
    assert not result.passed and "None" in result.message


def test_check_maxpool2d_backward_passes_a_correct_function():
    assert exercises.check_maxpool2d_backward(_good_maxpool2d_backward).passed


def test_check_maxpool2d_backward_catches_gradient_to_every_tied_maximum():
    def every_tie(grad_out, x, size, stride):
        dx = np.zeros_like(x)
        for r in range(grad_out.shape[0]):
            for c in range(grad_out.shape[1]):
                rows = slice(r * stride, r * stride + size)
                cols = slice(c * stride, c * stride + size)
                window = x[rows, cols]
                dx[rows, cols] += grad_out[r, c] * (window == window.max())
        return dx

    result = exercises.check_maxpool2d_backward(every_tie)
    assert not result.passed
    assert "case 6 of 7" in result.message and "first one" in result.message


def test_check_maxpool2d_backward_catches_overwritten_overlaps():
    def overwrite(grad_out, x, size, stride):
        dx = np.zeros_like(x)
        for r in range(grad_out.shape[0]):
            for c in range(grad_out.shape[1]):
                window = x[r * stride : r * stride + size, c * stride : c * stride + size]
                a, b = np.unravel_index(np.argmax(window), window.shape)
                dx[r * stride + a, c * stride + b] = grad_out[r, c]  # = instead of +=
        return dx

    result = exercises.check_maxpool2d_backward(overwrite)
    assert not result.passed and "wrong values" in result.message


def test_check_maxpool2d_backward_catches_a_wrong_shape():
    result = exercises.check_maxpool2d_backward(lambda g, x, size, stride: g)
    assert not result.passed and "expected (4, 4)" in result.message


def test_check_maxpool2d_backward_catches_a_function_that_modifies_grad_out():
    def in_place(grad_out, x, size, stride):
        dx = _good_maxpool2d_backward(grad_out, x, size, stride)
        grad_out[...] = 0
        return dx

    result = exercises.check_maxpool2d_backward(in_place)
    assert not result.passed and "changed its input 'grad_out'" in result.message


def _good_receptive_field(kernel_sizes, strides):
    size, step = 1, 1
    for k, s in zip(kernel_sizes, strides, strict=True):
        size += (k - 1) * step
        step *= s
    return size


def test_check_receptive_field_passes_a_correct_function():
    result = exercises.check_receptive_field(_good_receptive_field)
    assert result.passed and "20 cases" in result.message


def test_check_receptive_field_accepts_numpy_integers():
    result = exercises.check_receptive_field(
        lambda ks, ss: np.int64(_good_receptive_field(ks, ss)))
    assert result.passed


def test_check_receptive_field_explains_a_sum_of_kernel_sizes():
    result = exercises.check_receptive_field(lambda ks, ss: sum(ks))
    assert not result.passed
    assert "returned 12, expected 10" in result.message and "overlap" in result.message


def test_check_receptive_field_explains_ignored_strides():
    result = exercises.check_receptive_field(lambda ks, ss: 1 + sum(k - 1 for k in ks))
    assert not result.passed
    assert "case 4 of 20" in result.message and "Strides are missing" in result.message


def test_check_receptive_field_explains_a_stride_applied_too_early():
    def too_early(kernel_sizes, strides):
        size, step = 1, 1
        for k, s in zip(kernel_sizes, strides, strict=True):
            step *= s
            size += (k - 1) * step
        return size

    result = exercises.check_receptive_field(too_early)
    assert not result.passed and "not its own" in result.message


def test_check_receptive_field_explains_a_product_of_kernel_sizes():
    result = exercises.check_receptive_field(lambda ks, ss: int(np.prod(ks)))
    assert not result.passed and "not multiplying" in result.message


def test_check_receptive_field_gives_a_general_hint_for_other_mistakes():
    result = exercises.check_receptive_field(lambda ks, ss: 3)
    assert not result.passed and "(k - 1) * step" in result.message


def test_check_receptive_field_rejects_a_float():
    result = exercises.check_receptive_field(lambda ks, ss: float(_good_receptive_field(ks, ss)))
    assert not result.passed and "expected an int" in result.message and "float" in result.message


def test_check_receptive_field_reports_a_stub_that_returns_none():
    result = exercises.check_receptive_field(lambda ks, ss: None)
    assert not result.passed and "the result is None" in result.message


def test_check_receptive_field_reports_an_exception():
    result = exercises.check_receptive_field(lambda ks, ss: ks[0] + ss[5])
    assert not result.passed and "raised IndexError" in result.message


def test_check_receptive_field_survives_junk_results():
    for junk in ("10", [10], {"size": 10}, np.array([10, 10]), True):
        result = exercises.check_receptive_field(lambda ks, ss, junk=junk: junk)
        assert not result.passed and "expected an int" in result.message


def test_check_receptive_field_needs_a_function():
    result = exercises.check_receptive_field(10)
    assert not result.passed and "your function itself" in result.message
