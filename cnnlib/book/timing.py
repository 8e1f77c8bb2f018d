"""Timing helpers for chapter 6: the fastest of several runs, and where a training step goes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

import cnnlib

__all__ = ["best_time", "LayerTime", "layer_times", "format_layer_times"]


def best_time(run: Callable[[], object], min_time: float = 0.5, max_runs: int = 50) -> float:
    """Seconds taken by the fastest of several calls of ``run()``, after one warm-up call.

    Calls ``run`` until ``min_time`` seconds have passed or ``max_runs`` calls were timed (at
    least one). The fastest call is the one least disturbed by everything else the computer
    was doing.
    """
    if not callable(run):
        raise TypeError(f"expected a function to time, got {type(run).__name__}.")
    if min_time < 0 or max_runs < 1:
        raise ValueError(f"expected min_time >= 0 and max_runs >= 1, got min_time={min_time!r}, "
                         f"max_runs={max_runs!r}.")
    run()
    times: list[float] = []
    start = time.perf_counter()
    while not times or (time.perf_counter() - start < min_time and len(times) < max_runs):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


class LayerTime(NamedTuple):
    """Fastest forward and backward time of one part of a training step, in seconds."""

    name: str
    forward: float
    backward: float

    @property
    def total(self) -> float:
        return self.forward + self.backward


def layer_times(model: cnnlib.Sequential, x: np.ndarray, y: np.ndarray, loss_fn=None,
                optimizer=None, min_time: float = 0.2) -> list[LayerTime]:
    """Time the forward and the backward pass of every layer of ``model`` on one batch.

    Each layer is timed on its own input (the output of the layer before it) and its own
    upstream gradient, as in a training step: the first layer skips its input gradient, as
    ``Sequential.backward(..., input_grad=False)`` does. A row ``loss`` times the softmax
    cross-entropy, and a row ``optimizer step`` (its time under ``backward``) times
    ``optimizer.step()`` when an optimiser is given. The model's parameters are not changed,
    except by the optimiser's step.

    Parameters
    ----------
    model : Sequential
    x, y : ndarray
        One batch of inputs and integer labels.
    loss_fn : SoftmaxCrossEntropy, optional
    optimizer : optional
        Built on ``model.parameters()``; its steps change the weights.
    min_time : float
        Seconds spent timing each call (see :func:`best_time`).

    Returns
    -------
    list of LayerTime
        One per layer, named ``"<index> <class>"``, then ``loss`` and ``optimizer step``.

    Shape
    -----
    x: (N, ...) as the model expects; y: (N,)
    """
    if not isinstance(model, cnnlib.Sequential):
        raise TypeError(f"expected a cnnlib.Sequential, got {type(model).__name__}.")
    if len(x) != len(y):
        raise ValueError(f"expected as many labels as inputs, got {len(x)} inputs and "
                         f"{len(y)} labels.")
    loss_fn = loss_fn if loss_fn is not None else cnnlib.SoftmaxCrossEntropy()
    model.train()
    inputs = [x]
    for layer in model:                       # every layer's input, and its cache
        inputs.append(layer.forward(inputs[-1]))
    loss_fn.forward(inputs[-1], y)
    grads = [loss_fn.backward()]              # grads[k]: upstream gradient of layer n - 1 - k
    for i in range(len(model) - 1, 0, -1):
        grads.append(model[i].backward(grads[-1]))
    grads.reverse()                           # grads[i]: upstream gradient of layer i

    rows = []
    for i, layer in enumerate(model):
        fwd = best_time(lambda layer=layer, a=inputs[i]: layer.forward(a), min_time)
        if i == 0 and isinstance(layer, (cnnlib.Conv2d, cnnlib.Linear)):
            def back(layer=layer, g=grads[0]):
                layer.backward(g, input_grad=False)
        else:
            def back(layer=layer, g=grads[i]):
                layer.backward(g)
        layer.forward(inputs[i])              # restore the cache backward needs
        bwd = best_time(back, min_time) if i > 0 or layer.params else 0.0
        rows.append(LayerTime(f"{i} {type(layer).__name__}", fwd, bwd))
    rows.append(LayerTime("loss", best_time(lambda: loss_fn.forward(inputs[-1], y), min_time),
                          best_time(loss_fn.backward, min_time)))
    if optimizer is not None:
        rows.append(LayerTime("optimizer step", 0.0, best_time(optimizer.step, min_time)))
    return rows


def format_layer_times(rows: list[LayerTime]) -> str:
    """A Markdown table of :func:`layer_times`: milliseconds and share of the whole step."""
    if not rows:
        raise ValueError("expected the rows layer_times() returns, got an empty list.")
    total = sum(r.total for r in rows)
    lines = ["| part | forward (ms) | backward (ms) | share of the step |",
             "|:-----|-----:|-----:|-----:|"]
    for r in rows:
        lines.append(f"| {r.name} | {r.forward * 1e3:.3f} | {r.backward * 1e3:.3f} | "
                     f"{r.total / total:.1%} |")
    lines.append(f"| **all** | {sum(r.forward for r in rows) * 1e3:.3f} | "
                 f"{sum(r.backward for r in rows) * 1e3:.3f} | 100% |")
    return "\n".join(lines)
