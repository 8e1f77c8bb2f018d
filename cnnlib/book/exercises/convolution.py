"""Exercise checkers for Chapter 1, convolution."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlib import conv2d as _conv2d
from cnnlib import conv2d_backward_naive as _conv2d_backward_naive
from cnnlib import conv_output_size as _conv_output_size

from .harness import CheckResult, checker, compare_on_cases, not_a_function

__all__ = ["check_output_size", "check_conv2d", "check_conv2d_backward"]


_OUTPUT_SIZE_HINT = ("Count how many positions the window can take: the padded length is "
                     "H + 2P, the window needs K of it, and it moves S pixels at a time.")


@checker
def check_output_size(fn: Callable, seed: int = 0) -> CheckResult:
    """Check ``fn(size, kernel_size, stride, padding) -> int``, the output length of a
    convolution along one axis, against :func:`cnnlib.conv_output_size`."""
    name = "check_output_size"
    if (bad := not_a_function(name, fn)) is not None:
        return bad
    rng = np.random.default_rng(seed)
    cases = [(5, 3, 1, 0), (28, 5, 1, 0), (28, 3, 1, 1), (28, 3, 2, 1), (8, 3, 2, 0),
             (5, 5, 1, 0), (10, 4, 3, 2)]
    while len(cases) < 20:
        size, k, s, p = (int(rng.integers(1, 40)), int(rng.integers(1, 8)),
                         int(rng.integers(1, 5)), int(rng.integers(0, 4)))
        if k <= size + 2 * p:
            cases.append((size, k, s, p))
    for number, (size, k, s, p) in enumerate(cases, start=1):
        where = (f"case {number} of {len(cases)} (size={size}, kernel_size={k}, stride={s}, "
                 f"padding={p})")
        try:
            got = fn(size, k, s, p)
        except Exception as exc:
            return CheckResult(name, False, f"{where}: your function raised "
                               f"{type(exc).__name__}: {exc}.")
        want = _conv_output_size(size, k, s, p)
        if got is None:
            return CheckResult(name, False, f"{where}: the result is None; did you forget "
                               "to return it?")
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            return CheckResult(name, False, f"{where}: you returned {got!r} "
                               f"({type(got).__name__}); a size must be an int. Floor division "
                               "(//) divides and rounds down in one step.")
        if got != want:
            return CheckResult(name, False, f"{where}: you returned {got}, expected {want}. "
                               f"{_OUTPUT_SIZE_HINT}")
    return CheckResult(name, True, f"matches cnnlib.conv_output_size on all {len(cases)} cases.")


def _conv2d_one(x, kernel, stride=1, padding=0):
    """cnnlib's convolution of one 2-D image with one 2-D kernel."""
    return _conv2d(x[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]


@checker
def check_conv2d(fn: Callable, seed: int = 0) -> CheckResult:
    """Check ``fn(x, kernel, stride, padding)``: one (H, W) image convolved with one (k, k)
    kernel (no flip, as in cnnlib and PyTorch), zero padding on every side; returns
    (OH, OW) with ``OH = (H + 2 * padding - k) // stride + 1``."""
    name = "check_conv2d"
    if (bad := not_a_function(name, fn)) is not None:
        return bad
    rng = np.random.default_rng(seed)
    shapes = [(5, 5, 3, 1, 0), (6, 7, 3, 1, 1), (7, 7, 3, 2, 0), (8, 6, 2, 2, 1),
              (9, 8, 4, 3, 2), (5, 6, 5, 1, 0), (10, 9, 3, 2, 1)]
    cases = [{"x": rng.standard_normal((h, w)), "kernel": rng.standard_normal((k, k)),
              "stride": s, "padding": p} for h, w, k, s, p in shapes]
    return compare_on_cases(
        name, lambda x, kernel, stride, padding: fn(x, kernel, stride, padding), _conv2d_one,
        cases, hint="Pad with zeros on all four sides, move the window `stride` pixels at a "
        "time, size the output with O = ⌊(H + 2P − K)/S⌋ + 1 (rows and columns separately), "
        "and do not flip the kernel.")


def _as_triple(result):
    # A bare None (a stub that returns nothing) reads as "return value 1 is None".
    return (None, None, None) if result is None else result


def _conv2d_backward_one(grad_out, x, kernel):
    dx, dw, db = _conv2d_backward_naive(grad_out[None, None], x[None, None], kernel[None, None])
    return dx[0, 0], dw[0, 0], float(db[0])


@checker
def check_conv2d_backward(fn: Callable, seed: int = 0) -> CheckResult:
    """Check ``fn(grad_out, x, kernel) -> (dx, dkernel, dbias)``, the backward pass of a
    stride-1, unpadded convolution of one (H, W) image with one (k, k) kernel plus a scalar
    bias; ``grad_out`` is (H - k + 1, W - k + 1) and ``dbias`` a number."""
    name = "check_conv2d_backward"
    if (bad := not_a_function(name, fn)) is not None:
        return bad
    rng = np.random.default_rng(seed)
    cases = []
    for h, w, k in [(4, 4, 3), (5, 5, 3), (6, 7, 3), (7, 5, 2), (6, 6, 4)]:
        cases.append({"grad_out": rng.standard_normal((h - k + 1, w - k + 1)),
                      "x": rng.standard_normal((h, w)), "kernel": rng.standard_normal((k, k))})
    return compare_on_cases(
        name, lambda grad_out, x, kernel: _as_triple(fn(grad_out, x, kernel)),
        _conv2d_backward_one, cases,
        hint="Return (dx, dkernel, dbias). dkernel slides grad_out over x; dx is a full "
        "convolution of grad_out with the kernel turned by 180 degrees (or: every output "
        "adds grad_out[r, c] * kernel to the patch it read); dbias adds up grad_out.")
