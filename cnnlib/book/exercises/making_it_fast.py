"""Exercise checkers for Chapter 6, making it fast."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlib import conv2d, im2col

from .harness import CheckResult, check_with_known_mistakes, checker

__all__ = ["check_im2col", "check_conv2d_im2col"]


def _fast_im2col_cases(seed: int = 3) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [dict(x=rng.standard_normal(shape), kernel_size=k, stride=s)
            for shape, k, s in [((1, 1, 4, 4), 3, 1), ((2, 3, 5, 5), 3, 1),
                                ((1, 2, 6, 6), 2, 2), ((2, 1, 7, 5), 3, 2)]]


@checker
def check_im2col(fn: Callable) -> CheckResult:
    """Check ``fn(x, kernel_size, stride) -> cols`` against :func:`cnnlib.im2col`.

    Shape
    -----
    x (N, C, H, W) -> cols (N * OH * OW, C * k * k); row ``(i * OH + r) * OW + s`` is the window
    under output position (r, s) of image i, flattened in (C, k, k) order.
    """

    def reference(x, kernel_size, stride):
        return im2col(x, kernel_size, stride=stride)

    def channels_last(x, kernel_size, stride):
        n, c = x.shape[:2]
        cols = im2col(x, kernel_size, stride=stride).reshape(-1, c, kernel_size, kernel_size)
        return cols.transpose(0, 2, 3, 1).reshape(cols.shape[0], -1)

    def transposed_windows(x, kernel_size, stride):
        k = kernel_size
        cols = im2col(x, k, stride=stride).reshape(-1, x.shape[1], k, k)
        return cols.transpose(0, 1, 3, 2).reshape(cols.shape[0], -1)

    variants = [
        (channels_last, "Each row holds the right numbers in (k, k, C) order; flatten each "
                        "window as (C, k, k), the order of weight.reshape(F, -1)."),
        (transposed_windows, "Each window is flattened column by column; flatten it row by "
                             "row, as window.reshape(-1) does."),
    ]
    return check_with_known_mistakes(
        "check_im2col", fn, reference, _fast_im2col_cases(), variants,
        hint="Rows run over images, then output rows, then output columns; each row is one "
             "window flattened.")


@checker
def check_conv2d_im2col(fn: Callable) -> CheckResult:
    """Check ``fn(x, weight, bias) -> out``: a convolution (stride 1, no padding) written with
    :func:`cnnlib.im2col` and one matrix product, against :func:`cnnlib.conv2d`.

    Shape
    -----
    x (N, C, H, W), weight (F, C, k, k), bias (F,) -> out (N, F, OH, OW)
    """

    rng = np.random.default_rng(4)
    cases = [dict(x=rng.standard_normal((n, c, h, h)), weight=rng.standard_normal((f, c, k, k)),
                  bias=rng.standard_normal(f))
             for n, c, h, f, k in [(1, 1, 4, 1, 3), (2, 3, 6, 4, 3), (3, 2, 7, 5, 2)]]

    def reference(x, weight, bias):
        return conv2d(x, weight, bias)

    def straight_reshape(x, weight, bias):
        n, _, h, w = x.shape
        f, _, k, _ = weight.shape
        out = im2col(x, k) @ weight.reshape(f, -1).T + bias
        return out.reshape(n, f, h - k + 1, w - k + 1)

    def no_bias(x, weight, bias):
        return conv2d(x, weight)

    variants = [
        (straight_reshape, "The numbers are right but in the wrong places: the product has one "
                           "row per output position and one column per filter; think about "
                           "which shape that reshapes to before the filter axis can move."),
        (no_bias, "You forgot the bias: add bias[f] to every output of filter f."),
    ]
    return check_with_known_mistakes(
        "check_conv2d_im2col", fn, reference, cases, variants,
        hint="Flatten the weight to (F, C*k*k) so each filter lines up with a row of im2col.")
