"""Exercise checkers for Chapter 2, pooling."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlib import maxpool2d_backward_naive as _maxpool2d_backward_naive
from cnnlib import maxpool2d_naive as _maxpool2d_naive

from .harness import CheckResult, checker, compare_on_cases, not_a_function

__all__ = ["check_maxpool2d", "check_maxpool2d_backward", "check_receptive_field"]


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


def _receptive_field(kernel_sizes, strides):
    """Side of the input square that one unit after ``len(kernel_sizes)`` layers reads.

    Layer ``l`` widens the field by ``(k_l - 1)`` steps of the input distance between two
    neighbouring units of layer ``l - 1``; that distance is the product of the earlier strides.
    """
    size, step = 1, 1
    for k, s in zip(kernel_sizes, strides, strict=True):
        size += (k - 1) * step
        step *= s
    return size


def _rf_sum_of_kernels(kernel_sizes, strides):
    return sum(kernel_sizes)


def _rf_without_strides(kernel_sizes, strides):
    return 1 + sum(k - 1 for k in kernel_sizes)


def _rf_own_stride(kernel_sizes, strides):
    size, step = 1, 1
    for k, s in zip(kernel_sizes, strides, strict=True):
        step *= s
        size += (k - 1) * step
    return size


def _rf_product_of_kernels(kernel_sizes, strides):
    return int(np.prod(kernel_sizes))


# Known mistakes and what to say about them; checked in this order.
_RF_MISTAKES = [
    (_rf_own_stride, "A layer's stride spaces out the windows of the layers *after* it, not "
     "its own: update the step after widening the field, not before."),
    (_rf_without_strides, "Strides are missing: after a stride-2 layer, neighbouring units are "
     "2 input pixels apart, so one more kernel row of the next layer reaches 2 pixels further."),
    (_rf_sum_of_kernels, "Neighbouring windows overlap: a k x k layer on top of a field of "
     "size r reaches k - 1 steps further, not k (two stacked 3x3 convolutions see 5x5, not 6x6)."),
    (_rf_product_of_kernels, "Receptive fields grow by adding, not multiplying: two stacked 3x3 "
     "convolutions see 5x5, not 9x9."),
]


def _rf_cases(seed: int) -> list[tuple[list[int], list[int]]]:
    cases = [([5, 5, 2], [1, 1, 2]),            # the seed network: conv, conv, pool
             ([3], [1]), ([3, 3], [1, 1]),       # one and two 3x3 convolutions
             ([2, 3], [2, 1]),                   # pooling, then a 3x3 convolution
             ([3, 2], [1, 2]),                   # the same layers in the other order
             ([3, 3, 3], [2, 2, 2]),             # strided convolutions
             ([], []),                           # no layer: a unit sees one pixel
             ([7, 3, 3, 3], [2, 2, 1, 1])]
    rng = np.random.default_rng(seed)
    while len(cases) < 20:
        depth = int(rng.integers(1, 7))
        cases.append(([int(k) for k in rng.integers(1, 8, depth)],
                      [int(s) for s in rng.integers(1, 4, depth)]))
    return cases


def check_receptive_field(fn: Callable, seed: int = 0) -> CheckResult:
    """Check ``fn(kernel_sizes, strides) -> int``: the side, in input pixels, of the square
    that one unit of the last layer of a stack of convolutions and poolings reads.

    ``kernel_sizes[l]`` and ``strides[l]`` are layer ``l``'s window size and stride (no
    padding; padding moves the field but does not change its size). Both are lists of ints
    of equal length; for no layers the answer is 1.
    """
    name = "check_receptive_field"
    if (bad := not_a_function(name, fn)) is not None:
        return bad
    cases = _rf_cases(seed)
    for number, (ks, ss) in enumerate(cases, start=1):
        where = f"case {number} of {len(cases)} (kernel_sizes={ks}, strides={ss})"
        try:
            got = fn(list(ks), list(ss))
        except Exception as exc:
            return CheckResult(name, False, f"{where}: your function raised "
                               f"{type(exc).__name__}: {exc}.")
        if got is None:
            return CheckResult(name, False, f"{where}: the result is None; did you forget "
                               "to return it?")
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            return CheckResult(name, False, f"{where}: expected an int (a number of pixels), "
                               f"got {type(got).__name__} {got!r}.")
        want = _receptive_field(ks, ss)
        if got == want:
            continue
        hint = next((message for wrong, message in _RF_MISTAKES
                     if all(wrong(k, s) == fn_value
                            for (k, s), fn_value in _values_so_far(fn, cases, number))),
                    "Start from one pixel (a field of 1) and a step of 1; each layer adds "
                    "(k - 1) * step, then multiplies the step by its stride.")
        return CheckResult(name, False, f"{where}: you returned {got}, expected {want}. {hint}")
    return CheckResult(name, True, f"matches the receptive-field recurrence on all "
                       f"{len(cases)} cases.")


def _values_so_far(fn: Callable, cases, upto: int):
    """``fn``'s results on the first ``upto`` cases, as ``((kernels, strides), value)`` pairs.

    Used to recognise a known mistake: a wrong formula must agree with ``fn`` on every case
    seen so far. Cases on which ``fn`` raised or returned junk are skipped.
    """
    pairs = []
    for ks, ss in cases[:upto]:
        try:
            value = fn(list(ks), list(ss))
        except Exception:
            continue
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            pairs.append(((ks, ss), value))
    return pairs
