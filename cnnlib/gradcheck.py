"""Finite-difference gradient checking (centred differences, float64)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["rel_error", "numerical_gradient", "numerical_gradient_array", "check_layer_gradients"]


def rel_error(a, b) -> float:
    """Largest relative error ``|a - b| / max(1e-8, |a| + |b|)`` over all entries.

    Around 1e-7 or smaller means the analytic and numerical gradients agree.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs equal shapes, got {a.shape} and {b.shape}.")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def _require_float64(x: np.ndarray, what: str) -> None:
    if x.dtype != np.float64:
        raise ValueError(
            f"gradient checks need float64 {what}, got {x.dtype}: with float32 the "
            "finite differences drown in rounding error. Use x.astype(np.float64) "
            "(and dtype=np.float64 for layers)."
        )


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of a scalar function by centred differences.

    ``f`` takes no arguments and reads ``x``, which is nudged in place (and restored):
    ``df/dx[i] ~ (f(x + h e_i) - f(x - h e_i)) / (2h)``.

    Shape
    -----
    x any shape -> gradient of the same shape
    """
    _require_float64(x, "input")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_array(
    f: Callable[[], np.ndarray], x: np.ndarray, grad_out: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of ``sum(f() * grad_out)`` with respect to ``x``, by centred differences.

    This is what a layer's ``backward(grad_out)`` must return for its input.
    """
    return numerical_gradient(lambda: float(np.sum(f() * grad_out)), x, h)


def check_layer_gradients(layer, x: np.ndarray, seed: int = 0, h: float = 1e-5) -> dict:
    """Compare a layer's backward pass with finite differences.

    The layer and ``x`` must be float64. A random upstream gradient is pushed through
    ``backward``; the input gradient and every ``params`` gradient are compared with numerical
    estimates.

    Layers with randomness (dropout) keep their generator in ``layer.rng``. Every forward pass
    of the check starts from the generator state of the first one, so each finite difference
    sees the same random mask as the analytic gradient did; the state the layer had before the
    check is restored at the end.

    Returns
    -------
    dict
        Relative error for ``"input"`` and for each parameter name (e.g. ``"weight"``).
    """
    x = np.array(x, dtype=x.dtype, copy=True)
    _require_float64(x, "input")
    for name, p in layer.params.items():
        _require_float64(p, f"parameter {name!r}")
    rng = np.random.default_rng(seed)
    layer_rng = getattr(layer, "rng", None)
    start = layer_rng.bit_generator.state if isinstance(layer_rng, np.random.Generator) else None

    def forward() -> np.ndarray:
        if start is not None:
            layer_rng.bit_generator.state = start  # the same random draws every time
        return layer.forward(x)

    try:
        out = forward()
        grad_out = rng.standard_normal(out.shape)
        dx = layer.backward(grad_out)
        analytic = {name: g.copy() for name, g in layer.grads.items()}
        errors = {"input": rel_error(dx, numerical_gradient_array(forward, x, grad_out, h))}
        for name, p in layer.params.items():
            num = numerical_gradient_array(forward, p, grad_out, h)
            errors[name] = rel_error(analytic[name], num)
    finally:
        if start is not None:
            layer_rng.bit_generator.state = start
    return errors
