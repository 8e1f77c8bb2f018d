"""Exercise checkers for Chapter 4, softmax and cross-entropy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlib import SoftmaxCrossEntropy, softmax

from .harness import CheckResult, call, checker, compare_on_cases, diagnose, quietly

__all__ = ["check_softmax", "check_cross_entropy", "check_softmax_cross_entropy_backward"]


_OVERFLOW_HINT = ("it contains nan or inf: exp overflowed (exp(1000) is inf in floating "
                  "point, and inf / inf is nan). Subtract the maximum of each row from the "
                  "logits before exponentiating; the softmax does not change.")


def _nonfinite(got: tuple, want: tuple) -> bool:
    return any(not np.all(np.isfinite(g)) for g in got)


def _overflow_diagnosis(fn: Callable, cases: list[dict], message: str = _OVERFLOW_HINT) -> list:
    """The "exp overflowed" diagnosis for :func:`diagnose`, if overflow can explain a NaN.

    It can only if ``fn`` is finite on every case whose logits are moderate (|z| < 700, where
    exp cannot overflow); otherwise there is no such diagnosis, and the comparison reports
    where the NaN is.
    """
    for case in cases:
        if np.abs(case["logits"]).max() >= 700:
            continue
        try:
            got = np.asarray(call(fn, {k: np.copy(v) for k, v in case.items()}))
        except Exception:  # raises, or returns a ragged list: the comparison says so
            continue
        if got.dtype.kind in "biuf" and not np.all(np.isfinite(got)):
            return []
    return [(_nonfinite, message)]


def _softmax_cases(seed: int, with_labels: bool = False) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = [{"logits": np.array([[2.0, 1.0, 0.1]])},
             {"logits": rng.standard_normal((4, 10)) * 3},
             {"logits": rng.standard_normal((6, 5)) * 2 + 50},
             {"logits": rng.standard_normal((5, 10)) * 5 + 1000},   # exp overflows
             {"logits": rng.standard_normal((3, 10)) * 5 - 1000}]   # exp underflows to 0
    if with_labels:
        for case in cases:
            n, c = case["logits"].shape
            case["labels"] = rng.integers(0, c, size=n)
        # a true class far below the others: softmax rounds its probability to 0
        cases.append({"logits": np.array([[0.0, 800.0, 5.0], [1.0, 2.0, 3.0]]),
                      "labels": np.array([0, 2])})
    return cases


@checker
def check_softmax(fn: Callable) -> CheckResult:
    """Check ``fn(logits) -> probs``, a softmax over the last axis, including huge logits.

    Shape
    -----
    logits (N, C) -> probs (N, C), every row positive and summing to 1.
    """

    def reference(logits):
        return softmax(logits, axis=-1)

    cases = _softmax_cases(2)
    found = diagnose("softmax", fn, reference, cases, _overflow_diagnosis(fn, cases))
    if found is not None:
        return found
    return compare_on_cases(
        "softmax", quietly(fn), reference, cases,
        hint="Each row is one example: exponentiate its logits and divide by that row's sum, "
             "so every row sums to 1.")


def _reference_cross_entropy(logits, labels):
    return SoftmaxCrossEntropy().forward(logits, labels)


@checker
def check_cross_entropy(fn: Callable) -> CheckResult:
    """Check ``fn(logits, labels) -> loss``, the mean cross-entropy of softmax(logits).

    Shape
    -----
    logits (N, C), labels (N,) integers in [0, C) -> loss, one number.
    """
    cases = _softmax_cases(3, with_labels=True)
    overflow = _overflow_diagnosis(
        fn, cases, "the loss is nan or inf: a probability rounded to exactly 0 (log 0 is -inf) "
        "or exp overflowed. Compute the log-probabilities directly with the maximum subtracted "
        "(log-softmax) instead of taking log(softmax(z)).")
    diagnoses = overflow + [
        (lambda g, w: float(g[0]) < 0 and np.isclose(-float(g[0]), float(w[0])),
         "the sign is flipped: the loss is the *negative* log-probability of the true class, "
         "a positive number."),
        (lambda g, w: not np.isclose(float(g[0]), float(w[0]))
         and any(np.isclose(float(g[0]), float(w[0]) * n) for n in range(2, 11)),
         "your value is a multiple of the right one: the loss is the mean over the batch, "
         "not the sum."),
    ]
    found = diagnose("cross_entropy", fn, _reference_cross_entropy, cases, diagnoses)
    if found is not None:
        return found
    return compare_on_cases(
        "cross_entropy", quietly(fn), _reference_cross_entropy, cases,
        hint="Take minus the log-probability of each example's true class (labels[i]) and "
             "average over the batch: the result is one number.")


def _reference_ce_backward(logits, labels):
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    return loss.backward()


@checker
def check_softmax_cross_entropy_backward(fn: Callable) -> CheckResult:
    """Check ``fn(logits, labels) -> grad``, the gradient of the mean loss for the logits.

    Shape
    -----
    logits (N, C), labels (N,) -> grad (N, C)
    """
    cases = _softmax_cases(4, with_labels=True)
    diagnoses = _overflow_diagnosis(fn, cases) + [
        (lambda g, w: np.allclose(g[0], -w[0]), "the sign is flipped: raising the true "
         "class's logit must lower the loss, so its gradient entry is negative."),
        (lambda g, w: len(g[0]) > 1 and np.allclose(g[0], w[0] * len(g[0])),
         "your gradient is N times too large (N = batch size): the loss is the mean over "
         "the batch, so its gradient is divided by N."),
    ]
    found = diagnose("softmax_cross_entropy_backward", fn, _reference_ce_backward, cases,
                      diagnoses)
    if found is not None:
        return found
    return compare_on_cases(
        "softmax_cross_entropy_backward", quietly(fn), _reference_ce_backward, cases,
        hint="Row i is the gradient for example i (see the derivation in this chapter); "
             "remember that the loss is a mean over the batch.")
