"""Exercise checkers for Chapter 2, pooling."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlib import maxpool2d_backward_naive as _maxpool2d_backward_naive
from cnnlib import maxpool2d_naive as _maxpool2d_naive

from .harness import CheckResult, checker, compare_on_cases, not_a_function

__all__ = ["check_maxpool2d", "check_maxpool2d_backward"]


# (H, W, size, stride): tiling windows, rows and columns left over, overlapping windows.
_POOL_SHAPES = [(4, 4, 2, 2), (6, 6, 2, 2), (7, 7, 2, 2), (6, 8, 3, 3), (7, 7, 3, 2),
                (5, 6, 2, 1), (8, 8, 4, 4)]


def _pool_cases(rng: np.random.Generator, with_grad: bool) -> list[dict]:
    cases = []
    for number, (h, w, size, stride) in enumerate(_POOL_SHAPES):
        x = rng.standard_normal((h, w))
        if number == 2:
            x = -np.abs(x) - 0.1  # every value negative: the maximum is below zero
        if number == 5:
            x = np.maximum(rng.integers(-2, 3, (h, w)), 0).astype(np.float64)  # ReLU'd: ties
        case = {"x": x, "size": size, "stride": stride}
        if with_grad:
            oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
            case = {"grad_out": rng.standard_normal((oh, ow)), **case}
        cases.append(case)
    return cases


def _maxpool2d_one(x, size, stride):
    return _maxpool2d_naive(x[None, None], size, stride)[0, 0]


@checker
def check_maxpool2d(fn: Callable, seed: int = 0) -> CheckResult:
    """Check ``fn(x, size, stride)``: max pooling of one (H, W) array with size x size
    windows every ``stride`` pixels; returns (OH, OW), ``OH = (H - size) // stride + 1``."""
    name = "check_maxpool2d"
    if (bad := not_a_function(name, fn)) is not None:
        return bad
    cases = _pool_cases(np.random.default_rng(seed), with_grad=False)
    return compare_on_cases(
        name, lambda x, size, stride: fn(x, size, stride), _maxpool2d_one, cases,
        hint="Windows start every `stride` pixels (they may overlap or leave the last rows "
        "out: O = ⌊(H − size)/stride⌋ + 1), and a window of negative numbers has a negative "
        "maximum.")


def _maxpool2d_backward_one(grad_out, x, size, stride):
    return _maxpool2d_backward_naive(grad_out[None, None], x[None, None], size, stride)[0, 0]


@checker
def check_maxpool2d_backward(fn: Callable, seed: int = 0) -> CheckResult:
    """Check ``fn(grad_out, x, size, stride) -> dx``, the backward pass of max pooling of one
    (H, W) array: ``dx`` has the shape of ``x``. Ties go to the first maximum of a window in
    row-major order (as ``np.argmax`` finds it)."""
    name = "check_maxpool2d_backward"
    if (bad := not_a_function(name, fn)) is not None:
        return bad
    cases = _pool_cases(np.random.default_rng(seed), with_grad=True)
    return compare_on_cases(
        name, lambda grad_out, x, size, stride: fn(grad_out, x, size, stride),
        _maxpool2d_backward_one, cases,
        hint="Each grad_out value goes to one input only, the maximum of its window (the "
        "first one, row by row, when several are equal); where windows overlap the "
        "gradients add up, and inputs that no window reads get 0.")
