"""Exercise checkers for Chapter 3, fully-connected layers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlib import Linear

from .harness import CheckResult, checker, compare_on_cases, diagnose

__all__ = ["check_linear_forward", "check_linear_backward"]


def _linear_cases(seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for n, d_in, d_out in [(1, 3, 2), (4, 5, 3), (7, 12, 9), (3, 800, 128)]:
        cases.append({"x": rng.standard_normal((n, d_in)),
                      "weight": rng.standard_normal((d_out, d_in)),
                      "bias": rng.standard_normal(d_out)})
    return cases


def _reference_linear(x, weight, bias):
    layer = Linear(weight.shape[1], weight.shape[0], dtype=np.float64)
    layer.params["weight"][...] = weight
    layer.params["bias"][...] = bias
    return layer.forward(x)


@checker
def check_linear_forward(fn: Callable) -> CheckResult:
    """Check ``fn(x, weight, bias) -> y``, a dense layer's forward pass.

    Shape
    -----
    x (N, in_features), weight (out_features, in_features), bias (out_features,)
    -> y (N, out_features)
    """
    return compare_on_cases(
        "linear_forward", fn, _reference_linear, _linear_cases(0),
        hint="weight has shape (out_features, in_features): check which of its axes meets "
             "the features of x, and that bias is added to every row of the result.")


def _reference_linear_backward(grad_out, x, weight):
    layer = Linear(weight.shape[1], weight.shape[0], dtype=np.float64)
    layer.params["weight"][...] = weight
    layer.forward(x)
    dx = layer.backward(grad_out)
    return dx, layer.grads["weight"].copy(), layer.grads["bias"].copy()


@checker
def check_linear_backward(fn: Callable) -> CheckResult:
    """Check ``fn(grad_out, x, weight) -> (dx, dweight, dbias)``, a dense layer's backward pass.

    Shape
    -----
    grad_out (N, out_features), x (N, in_features), weight (out_features, in_features)
    -> dx (N, in_features), dweight (out_features, in_features), dbias (out_features,)
    """
    cases = []
    for case in _linear_cases(1):
        n, d_out = case["x"].shape[0], case["weight"].shape[0]
        grad_out = np.random.default_rng(n).standard_normal((n, d_out))
        cases.append({"grad_out": grad_out, "x": case["x"], "weight": case["weight"]})
    hint = ("Each gradient has the shape of what it is the gradient of (dx like x, dweight "
            "like weight, dbias like the bias); the parameter gradients add up the "
            "contributions of every example in the batch.")
    diagnoses = [(lambda g, w: np.allclose(g[1], w[1] / len(w[0])) and len(w[0]) > 1,
                  "dweight is N times too small (N = batch size): add up the contributions "
                  "of the examples rather than averaging them; any averaging already "
                  "happened in the loss, and grad_out carries it.")]
    found = diagnose("linear_backward", fn, _reference_linear_backward, cases, diagnoses)
    if found is not None:
        return found
    return compare_on_cases("linear_backward", fn, _reference_linear_backward, cases,
                            hint=hint)
