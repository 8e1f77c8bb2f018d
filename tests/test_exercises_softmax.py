"""Tests for cnnlib.book.exercises.softmax (Chapter 4's checkers)."""

import numpy as np
import pytest

from cnnlib.book import exercises


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _naive_softmax(logits):
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _cross_entropy(logits, labels):
    return float(-_log_softmax(logits)[np.arange(len(labels)), labels].mean())


def _ce_backward(logits, labels):
    grad = _softmax(logits)
    grad[np.arange(len(labels)), labels] -= 1
    return grad / len(labels)


def test_check_softmax_passes_a_stable_softmax():
    result = exercises.check_softmax(_softmax)
    assert result.passed and "subtract" not in result.message.lower()


def test_check_softmax_hints_subtract_the_maximum_on_overflow(recwarn):
    result = exercises.check_softmax(_naive_softmax)
    assert not result.passed and "Subtract the maximum" in result.message
    assert "nan or inf" in result.message
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("check", ["check_softmax", "check_cross_entropy",
                                   "check_softmax_cross_entropy_backward"])
def test_a_nan_on_moderate_logits_is_located_not_blamed_on_overflow(check):
    def nan_everywhere(logits, labels=None):
        return np.full(np.shape(logits) if check != "check_cross_entropy" else (), np.nan)

    result = getattr(exercises, check)(nan_everywhere)
    assert not result.passed
    assert "returned NaN" in result.message and "at index" in result.message
    assert "overflow" not in result.message


def test_check_softmax_gives_no_overflow_hint_for_finite_wrong_values():
    def wrong_axis(logits):
        e = np.exp(logits - logits.max())
        return e / e.sum(axis=0, keepdims=True)

    result = exercises.check_softmax(wrong_axis)
    assert not result.passed and "wrong values" in result.message
    assert "maximum" not in result.message


@pytest.mark.parametrize(("fn", "message"), [
    (lambda logits: None, "forget to return"),
    (lambda logits: _softmax(logits)[0], "has shape (3,), expected (1, 3)"),
    (lambda logits: _softmax(logits.T), "has shape (3, 1), expected (1, 3)"),
])
def test_check_softmax_catches_a_missing_return_and_wrong_shapes(fn, message):
    result = exercises.check_softmax(fn)
    assert not result.passed and message in result.message


def test_check_softmax_catches_modified_input():
    def in_place(logits):
        logits -= logits.max(axis=1, keepdims=True)
        return _softmax(logits)

    result = exercises.check_softmax(in_place)
    assert not result.passed and "changed its input 'logits' in place" in result.message


def test_check_cross_entropy_passes_a_stable_loss():
    assert exercises.check_cross_entropy(_cross_entropy).passed


def test_check_cross_entropy_catches_log_of_a_rounded_zero():
    def log_of_softmax(logits, labels):
        return float(-np.log(_softmax(logits)[np.arange(len(labels)), labels]).mean())

    result = exercises.check_cross_entropy(log_of_softmax)
    assert not result.passed and "log-softmax" in result.message


def test_check_cross_entropy_catches_sum_instead_of_mean():
    result = exercises.check_cross_entropy(lambda logits, labels: _cross_entropy(
        logits, labels) * len(labels))
    assert not result.passed and "mean over the batch, not the sum" in result.message


def test_check_cross_entropy_catches_a_flipped_sign():
    result = exercises.check_cross_entropy(lambda logits, labels: -_cross_entropy(logits, labels))
    assert not result.passed and "sign is flipped" in result.message


def test_check_cross_entropy_catches_per_example_losses():
    result = exercises.check_cross_entropy(
        lambda logits, labels: -_log_softmax(logits)[np.arange(len(labels)), labels])
    assert not result.passed and "expected ()" in result.message


def test_check_softmax_cross_entropy_backward_passes_a_correct_gradient():
    assert exercises.check_softmax_cross_entropy_backward(_ce_backward).passed


def test_check_softmax_cross_entropy_backward_catches_missing_division_by_n():
    result = exercises.check_softmax_cross_entropy_backward(
        lambda logits, labels: _ce_backward(logits, labels) * len(labels))
    assert not result.passed and "N times too large" in result.message


def test_check_softmax_cross_entropy_backward_catches_a_flipped_sign():
    result = exercises.check_softmax_cross_entropy_backward(
        lambda logits, labels: -_ce_backward(logits, labels))
    assert not result.passed and "sign is flipped" in result.message


def test_check_softmax_cross_entropy_backward_catches_a_missing_return():
    result = exercises.check_softmax_cross_entropy_backward(lambda logits, labels: None)
    assert not result.passed and "forget to return" in result.message
