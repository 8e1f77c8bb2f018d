"""Tests for cnnlib.book.exercises.convolution (Chapter 1's checkers)."""

import numpy as np
import pytest

from cnnlib.book import exercises


def _good_output_size(size, kernel_size, stride, padding):
    return (size + 2 * padding - kernel_size) // stride + 1


def _good_conv2d(x, kernel, stride=1, padding=0):
    k = kernel.shape[0]
    xp = np.pad(x, padding)
    oh = (xp.shape[0] - k) // stride + 1
    ow = (xp.shape[1] - k) // stride + 1
    out = np.zeros((oh, ow))
    for r in range(oh):
        for c in range(ow):
            out[r, c] = np.sum(xp[r * stride : r * stride + k, c * stride : c * stride + k]
                               * kernel)
    return out


def _good_conv2d_backward(grad_out, x, kernel):
    k = kernel.shape[0]
    dx, dk = np.zeros_like(x), np.zeros_like(kernel)
    for r in range(grad_out.shape[0]):
        for c in range(grad_out.shape[1]):
            dk += grad_out[r, c] * x[r : r + k, c : c + k]
            dx[r : r + k, c : c + k] += grad_out[r, c] * kernel
    return dx, dk, grad_out.sum()


def test_check_output_size_passes_a_correct_function():
    result = exercises.check_output_size(_good_output_size)
    assert result.passed and "passed" in str(result)


@pytest.mark.parametrize(("wrong", "message"), [
    (lambda h, k, s, p: (h + 2 * p - k) / s + 1, "must be an int"),      # true division
    (lambda h, k, s, p: (h - k) // s + 1, "padding=1): you returned 26, expected 28"),
    (lambda h, k, s, p: (h + 2 * p - k) // s, "you returned 2, expected 3"),  # off by one
    (lambda h, k, s, p: None, "the result is None"),
    (lambda h, k, s: 1, "raised TypeError"),
])
def test_check_output_size_catches_mistakes(wrong, message):
    result = exercises.check_output_size(wrong)
    assert not result.passed
    assert message in result.message


def test_check_output_size_needs_a_function():
    result = exercises.check_output_size(24)
    assert not result.passed and "your function itself" in result.message


def test_check_conv2d_passes_a_correct_function():
    assert exercises.check_conv2d(_good_conv2d).passed


def test_check_conv2d_catches_a_missing_return():
    result = exercises.check_conv2d(lambda x, kernel, stride=1, padding=0: None)
    assert not result.passed and "None" in result.message
    assert "❌ not yet" in str(result)


def test_check_conv2d_catches_ignored_padding():
    def no_padding(x, kernel, stride=1, padding=0):
        return _good_conv2d(x, kernel, stride, 0)

    result = exercises.check_conv2d(no_padding)
    assert not result.passed
    assert "shape" in result.message and "expected (6, 7)" in result.message


def test_check_conv2d_catches_ignored_stride():
    def no_stride(x, kernel, stride=1, padding=0):
        return _good_conv2d(x, kernel, 1, padding)

    result = exercises.check_conv2d(no_stride)
    assert not result.passed and "expected (3, 3)" in result.message


def test_check_conv2d_catches_a_flipped_kernel():
    def flipped(x, kernel, stride=1, padding=0):
        return _good_conv2d(x, kernel[::-1, ::-1], stride, padding)

    result = exercises.check_conv2d(flipped)
    assert not result.passed
    assert "wrong values" in result.message and "do not flip" in result.message


def test_check_conv2d_catches_a_function_that_modifies_its_input():
    def in_place(x, kernel, stride=1, padding=0):
        out = _good_conv2d(x, kernel, stride, padding)
        x *= 0
        return out

    result = exercises.check_conv2d(in_place)
    assert not result.passed and "changed its input 'x'" in result.message


def test_check_conv2d_backward_passes_a_correct_function():
    assert exercises.check_conv2d_backward(_good_conv2d_backward).passed


def test_check_conv2d_backward_catches_a_missing_bias_gradient():
    result = exercises.check_conv2d_backward(lambda g, x, k: _good_conv2d_backward(g, x, k)[:2])
    assert not result.passed and "expected 3 return value(s), got 2" in result.message


def test_check_conv2d_backward_catches_a_wrong_input_gradient():
    def unflipped(grad_out, x, kernel):
        dx, dk, db = _good_conv2d_backward(grad_out, x, kernel[::-1, ::-1])
        return dx, _good_conv2d_backward(grad_out, x, kernel)[1], db

    result = exercises.check_conv2d_backward(unflipped)
    assert not result.passed and "return value 1" in result.message


def test_check_conv2d_backward_reports_a_stub_that_returns_none():
    result = exercises.check_conv2d_backward(lambda grad_out, x, kernel: None)
    assert not result.passed and "return value 1 is None" in result.message
