"""Exercise checkers for Chapter 5, training."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlib import accuracy

from .harness import CheckResult, call, check_with_known_mistakes, checker

__all__ = ["check_adam_step", "check_accuracy", "check_train_val_split", "check_standardize"]


def _adam_reference(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_cases(seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for shape, t, lr, betas in [((3,), 1, 1e-3, (0.9, 0.999)), ((4, 5), 2, 1e-2, (0.95, 0.99)),
                                ((2, 3, 3), 10, 1e-3, (0.9, 0.999)),
                                ((6,), 100, 3e-4, (0.8, 0.9))]:
        cases.append(dict(param=rng.standard_normal(shape), grad=rng.standard_normal(shape),
                          m=0.1 * rng.standard_normal(shape),
                          v=0.05 * rng.random(shape), t=t, lr=lr, beta1=betas[0],
                          beta2=betas[1], eps=1e-8))
    return cases


@checker
def check_adam_step(fn: Callable) -> CheckResult:
    """Check ``fn(param, grad, m, v, t, lr, beta1, beta2, eps) -> (param, m, v)``.

    One Adam update with bias correction, returning new arrays (the inputs must stay
    unchanged): the updated parameter and the updated first and second moments. ``t`` is the
    number of the step being taken, 1 for the first.
    """
    name = "check_adam_step"

    def uncorrected(param, grad, m, v, t, lr, beta1, beta2, eps):
        m2 = beta1 * m + (1 - beta1) * grad
        v2 = beta2 * v + (1 - beta2) * grad**2
        return param - lr * m2 / (np.sqrt(v2) + eps), m2, v2

    def step_off_by_one(param, grad, m, v, t, lr, beta1, beta2, eps):
        return _adam_reference(param, grad, m, v, t + 1, lr, beta1, beta2, eps)

    def reset_moments(param, grad, m, v, t, lr, beta1, beta2, eps):
        zero = np.zeros_like(param)
        return _adam_reference(param, grad, zero, zero, t, lr, beta1, beta2, eps)

    def uphill(param, grad, m, v, t, lr, beta1, beta2, eps):
        p, m2, v2 = _adam_reference(param, grad, m, v, t, lr, beta1, beta2, eps)
        return 2 * param - p, m2, v2

    def eps_inside(param, grad, m, v, t, lr, beta1, beta2, eps):
        m2 = beta1 * m + (1 - beta1) * grad
        v2 = beta2 * v + (1 - beta2) * grad**2
        return param - lr * (m2 / (1 - beta1**t)) / np.sqrt(v2 / (1 - beta2**t) + eps), m2, v2

    variants = [
        (uncorrected, "Your update matches Adam without bias correction: divide each moment "
                      "by (1 - beta**t) before using it in the update."),
        (reset_moments, "Your update starts from zero moments, the seed article's bug: build "
                        "on the m and v passed in, which carry the history of past steps."),
        (step_off_by_one, "Your bias correction uses the wrong step number: t is the number of "
                          "the step being taken, 1 for the first one."),
        (uphill, "Your parameter moved in the direction of the gradient, uphill: gradient "
                 "descent subtracts the step."),
        (eps_inside, "eps belongs outside the square root, added to sqrt(v_hat)."),
    ]
    return check_with_known_mistakes(
        name, fn, _adam_reference, _adam_cases(), variants,
        hint="Update m and v first, bias-correct them with the step number t, then step.",
        rtol=1e-6, atol=1e-9)


def _accuracy_cases(seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for n, c in [(8, 10), (50, 10), (1, 10), (30, 3)]:
        labels = rng.integers(0, c, size=n)
        logits = rng.standard_normal((n, c))
        # make about half of the predictions right, so the accuracy is not near 0
        right = rng.random(n) < 0.5
        logits[right, labels[right]] += 5.0
        cases.append(dict(logits=logits, labels=labels))
    return cases


@checker
def check_accuracy(fn: Callable) -> CheckResult:
    """Check ``fn(logits, labels) -> float``: the fraction of rows whose largest logit is the
    label.

    Shape
    -----
    logits (N, C), labels (N,) -> a number in [0, 1]
    """

    def reference(logits, labels):
        return accuracy(logits, labels)

    variants = [
        (lambda logits, labels: accuracy(logits, labels) * len(labels),
         "You returned the number of correct predictions; the accuracy is a fraction of the "
         "examples."),
        (lambda logits, labels: accuracy(logits, labels) * 100,
         "You returned a percentage; return a fraction between 0 and 1."),
        (lambda logits, labels: 1 - accuracy(logits, labels),
         "You returned the error rate, the fraction of wrong predictions."),
    ]
    return check_with_known_mistakes(
        "check_accuracy", fn, reference, _accuracy_cases(), variants,
        hint="The predicted class of a row is the position of its largest logit.")


class _Verdict(Exception):
    """What is wrong with the reader's result (raised and caught inside a checker)."""


@checker
def check_train_val_split(fn: Callable) -> CheckResult:
    """Check ``fn(n, val_size, seed) -> (train_idx, val_idx)``, a seeded random split.

    The two integer arrays must be disjoint, together hold every index ``0 .. n-1`` once, have
    ``n - val_size`` and ``val_size`` entries, be shuffled (not simply the first or last
    examples), and depend on ``seed`` only: the same seed gives the same split.
    """
    name = "check_train_val_split"
    cases = [(10, 3), (100, 20), (1000, 100), (60000, 5000)]

    def split(n, val_size, seed):
        try:
            got = call(fn, {"n": n, "val_size": val_size, "seed": seed})
        except Exception as exc:
            raise _Verdict(f"your function raised {type(exc).__name__}: {exc}") from None
        if got is None:
            raise _Verdict("the result is None; did you forget to return it?")
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise _Verdict(f"return two arrays, (train_idx, val_idx); got {type(got).__name__}.")
        arrays = []
        for label, part in zip(("train_idx", "val_idx"), got, strict=True):
            if part is None or isinstance(part, (str, bytes)):
                raise _Verdict(f"{label} is {type(part).__name__}, expected a 1-D array of "
                               "integer indices.")
            try:
                arrays.append(np.asarray(part))
            except (ValueError, TypeError):
                raise _Verdict(f"{label} is a {type(part).__name__} that NumPy cannot turn "
                               "into one array, expected a 1-D array of integer "
                               "indices.") from None
        for label, a in zip(("train_idx", "val_idx"), arrays, strict=True):
            if a.dtype.kind == "c":
                raise _Verdict(f"{label} holds complex values; indices are integers.")
            if a.dtype.kind == "f" and np.isnan(a).any():
                raise _Verdict(f"your function returned NaN in {label}; indices are integers.")
        train, val = arrays
        if train.ndim != 1 or val.ndim != 1:
            raise _Verdict(f"train_idx and val_idx must be 1-D arrays of indices, got shapes "
                           f"{train.shape} and {val.shape}.")
        if (train.size and train.dtype.kind not in "iu") or \
                (val.size and val.dtype.kind not in "iu"):
            raise _Verdict(f"indices must be integers, got dtypes {train.dtype} and "
                           f"{val.dtype}.")
        return train, val

    for n, val_size in cases:
        where = f"n={n}, val_size={val_size}"
        try:
            train, val = split(n, val_size, 0)
            if len(val) != val_size or len(train) != n - val_size:
                raise _Verdict(f"got {len(train)} training and {len(val)} validation indices, "
                               f"expected {n - val_size} and {val_size}.")
            both = np.concatenate([train, val])
            if both.min() < 0 or both.max() >= n:
                raise _Verdict(f"indices must lie in 0..{n - 1}, got values from {both.min()} "
                               f"to {both.max()}.")
            if np.intersect1d(train, val).size:
                raise _Verdict("some examples are in both splits; each must land in exactly "
                               "one, or validation would measure memorisation.")
            if np.unique(both).size != n:
                raise _Verdict("some indices appear twice and others never; each example must "
                               "land in exactly one split, once.")
            if n >= 100 and (np.array_equal(np.sort(val), np.arange(n - val_size, n))
                             or np.array_equal(np.sort(val), np.arange(val_size))):
                raise _Verdict("the validation set is simply the last (or first) examples: "
                               "shuffle first, a file may be sorted by class or by writer.")
            again_train, again_val = split(n, val_size, 0)
            if not (np.array_equal(again_val, val) and np.array_equal(again_train, train)):
                raise _Verdict("the same seed gave two different splits; draw the randomness "
                               "from a generator made from the seed.")
            _, other_val = split(n, val_size, 1)
            if n >= 100 and np.array_equal(np.sort(other_val), np.sort(val)):
                raise _Verdict("seeds 0 and 1 gave the same split; the seed should choose the "
                               "shuffle.")
        except _Verdict as verdict:
            return CheckResult(name, False, f"{where}: {verdict}")
        except Exception as exc:
            return CheckResult(name, False, f"{where}: your function raised "
                               f"{type(exc).__name__}: {exc}")
    return CheckResult(name, True, f"a valid seeded split on all {len(cases)} cases: the right "
                       "sizes, disjoint, complete, shuffled and reproducible.")


def _standardize_reference(train, test):
    mean, std = train.mean(), train.std()
    return (train - mean) / std, (test - mean) / std


@checker
def check_standardize(fn: Callable) -> CheckResult:
    """Check ``fn(train, test) -> (train_std, test_std)``: both standardised with the mean and
    standard deviation of ``train`` (one number each, over all pixels), as floats.
    """
    rng = np.random.default_rng(2)
    cases = [dict(train=rng.integers(0, 256, size=s1).astype(np.float64) / 255,
                  test=rng.integers(0, 256, size=s2).astype(np.float64) / 255)
             for s1, s2 in [((20, 4, 4), (5, 4, 4)), ((50, 28, 28), (10, 28, 28)),
                            ((7, 1, 3, 3), (3, 1, 3, 3))]]
    cases.append(dict(train=3 + 2 * rng.standard_normal(100), test=rng.standard_normal(40)))

    def own_statistics(train, test):
        return (train - train.mean()) / train.std(), (test - test.mean()) / test.std()

    def truncated(train, test):
        mean, std = np.trunc(train.mean()), np.trunc(train.std())
        return (train - mean) / (std or 1.0), (test - mean) / (std or 1.0)

    def per_pixel(train, test):
        mean, std = train.mean(axis=0), train.std(axis=0) + 1e-12
        return (train - mean) / std, (test - mean) / std

    variants = [
        (own_statistics, "You standardised the test set with its own statistics (the seed "
                         "article's mistake): use the training mean and std for both."),
        (truncated, "Your statistics were rounded to integers (the seed article's mistake): "
                    "keep them as floats."),
        (per_pixel, "You used a mean and std per pixel; this exercise wants one mean and one "
                    "std over all training pixels."),
    ]
    return check_with_known_mistakes(
        "check_standardize", fn, _standardize_reference, cases, variants,
        hint="Subtract the training mean and divide by the training standard deviation.")
