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
