"""Tests for cnnlib.losses: stable softmax, the cross-entropy loss and its gradient, errors."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib.gradcheck import numerical_gradient, rel_error
from cnnlib.losses import CrossEntropyLoss, SoftmaxCrossEntropy, log_softmax, softmax


def logits_and_labels(n=4, c=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)), rng.integers(0, c, size=n)


# --------------------------------------------------------------------------- softmax
def test_softmax_rows_sum_to_one():
    logits, _ = logits_and_labels()
    np.testing.assert_allclose(softmax(logits).sum(axis=1), 1.0, rtol=1e-12)


def test_softmax_is_shift_invariant():
    logits, _ = logits_and_labels()
    np.testing.assert_allclose(softmax(logits + 50.0), softmax(logits), rtol=1e-12)


def test_softmax_of_extreme_logits_is_finite_and_correct():
    np.testing.assert_array_equal(softmax(np.array([1000.0, -1000.0])), [1.0, 0.0])


def test_log_softmax_of_extreme_logits_is_finite_and_correct():
    np.testing.assert_array_equal(log_softmax(np.array([1000.0, -1000.0])), [0.0, -2000.0])


def test_softmax_of_equal_huge_logits_is_uniform():
    np.testing.assert_array_equal(softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])


def test_log_softmax_equals_log_of_softmax():
    logits, _ = logits_and_labels()
    np.testing.assert_allclose(log_softmax(logits), np.log(softmax(logits)), rtol=1e-12)


def test_softmax_respects_the_axis_argument():
    logits, _ = logits_and_labels()
    np.testing.assert_allclose(softmax(logits, axis=0), softmax(logits.T).T, rtol=1e-12)


# --------------------------------------------------------------------------- loss values
def test_loss_of_zero_logits_is_log_of_the_class_count():
    assert SoftmaxCrossEntropy()(np.zeros((3, 10)), np.array([0, 4, 9])) == pytest.approx(
        np.log(10))


def test_loss_matches_hand_computed_value():
    # -log(e^2 / (e^2 + e^1 + e^0)) for the first row, -log(1 / 3) for the second
    expected = (-np.log(np.e**2 / (np.e**2 + np.e + 1)) + np.log(3)) / 2
    loss = SoftmaxCrossEntropy()(np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]]), np.array([0, 1]))
    assert loss == pytest.approx(expected, rel=1e-12)


def test_loss_returns_a_python_float():
    logits, labels = logits_and_labels()
    assert type(SoftmaxCrossEntropy()(logits.astype(np.float32), labels)) is float


def test_loss_of_extreme_logits_is_finite():
    loss_fn = SoftmaxCrossEntropy()
    assert loss_fn(np.array([[1000.0, -1000.0]]), np.array([1])) == pytest.approx(2000.0)
    np.testing.assert_allclose(loss_fn.backward(), [[1.0, -1.0]])


def test_forward_caches_the_probabilities():
    logits, labels = logits_and_labels()
    loss_fn = SoftmaxCrossEntropy()
    loss_fn(logits, labels)
    np.testing.assert_allclose(loss_fn.probs, softmax(logits), rtol=1e-12)


def test_loss_accepts_uint8_labels():
    logits, labels = logits_and_labels()
    loss_fn = SoftmaxCrossEntropy()
    assert loss_fn(logits, labels.astype(np.uint8)) == pytest.approx(loss_fn(logits, labels))


def test_cross_entropy_loss_is_an_alias():
    assert CrossEntropyLoss is SoftmaxCrossEntropy


# --------------------------------------------------------------------------- gradient
def test_backward_is_softmax_minus_one_hot_over_n():
    logits, labels = logits_and_labels()
    loss_fn = SoftmaxCrossEntropy()
    loss_fn(logits, labels)
    expected = softmax(logits, axis=1)
    expected[np.arange(4), labels] -= 1
    np.testing.assert_allclose(loss_fn.backward(), expected / 4, rtol=1e-12)


def test_backward_matches_finite_differences():
    logits, labels = logits_and_labels(n=6, c=4, seed=1)
    loss_fn = SoftmaxCrossEntropy()
    loss_fn(logits, labels)
    analytic = loss_fn.backward()
    numeric = numerical_gradient(lambda: loss_fn(logits, labels), logits)
    assert rel_error(analytic, numeric) < 1e-6


def test_backward_does_not_change_the_cached_probabilities():
    logits, labels = logits_and_labels()
    loss_fn = SoftmaxCrossEntropy()
    loss_fn(logits, labels)
    probs = loss_fn.probs.copy()
    loss_fn.backward()
    np.testing.assert_array_equal(loss_fn.probs, probs)


# --------------------------------------------------------------------------- errors
def test_logits_must_be_2d():
    with pytest.raises(ValueError, match=r"logits must have shape \(N, C\), got shape \(10,\)"):
        SoftmaxCrossEntropy()(np.zeros(10), np.array([1]))


@pytest.mark.parametrize(("shape", "shown"), [((4, 1), r"\(4, 1\)"), ((3,), r"\(3,\)"),
                                             ((5,), r"\(5,\)")])
def test_labels_of_the_wrong_shape_are_rejected(shape, shown):
    labels = np.zeros(shape, dtype=int)
    with pytest.raises(ValueError, match=rf"labels must have shape \(4,\) .* got shape {shown}"):
        SoftmaxCrossEntropy()(np.zeros((4, 10)), labels)


def test_float_labels_are_rejected():
    with pytest.raises(ValueError, match=r"labels: expected integers .* got dtype float64"):
        SoftmaxCrossEntropy()(np.zeros((2, 10)), np.array([1.0, 2.0]))


@pytest.mark.parametrize(("bad", "low", "high"), [(10, 0, 10), (-1, -1, 3)])
def test_labels_out_of_range_are_rejected(bad, low, high):
    labels = np.array([0, 3, bad])
    message = rf"labels must lie in \[0, 9\] for 10 classes, got values from {low} to {high}"
    with pytest.raises(ValueError, match=message):
        SoftmaxCrossEntropy()(np.zeros((3, 10)), labels)


def test_an_empty_batch_is_rejected():
    with pytest.raises(ValueError, match=r"expected at least one example, got logits of shape "
                                         r"\(0, 5\)"):
        SoftmaxCrossEntropy().forward(np.zeros((0, 5)), np.zeros(0, dtype=int))


def test_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        SoftmaxCrossEntropy().backward()


# --------------------------------------------------------------------------- PyTorch as an oracle
def test_loss_and_gradient_match_torch_cross_entropy():
    torch = pytest.importorskip("torch")
    logits, labels = logits_and_labels(n=8, c=10, seed=2)
    logits_t = torch.tensor(logits, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(logits_t, torch.tensor(labels))
    loss_t.backward()
    loss_fn = SoftmaxCrossEntropy()
    assert loss_fn(logits, labels) == pytest.approx(loss_t.item(), rel=1e-6)
    np.testing.assert_allclose(loss_fn.backward(), logits_t.grad.numpy(), rtol=1e-6, atol=1e-9)
