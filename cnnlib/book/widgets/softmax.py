"""Widgets for Chapter 4, softmax."""

from __future__ import annotations

import math

import numpy as np
import traitlets

from cnnlib import (
    log_softmax,
    softmax,
)

from ..plots import (
    DIGIT_CMAP,
    as_images,
    make_figure,
    no_ticks,
    plot_probabilities,
)
from .base import BookWidget

__all__ = ["SoftmaxExplorer", "softmax_explorer", "show_predictions", "DEFAULT_LOGITS"]


DEFAULT_LOGITS = (1.0, -1.5, 0.5, 3.0, -2.0, 1.5, -1.0, 0.0, 2.0, -0.5)


class SoftmaxExplorer(BookWidget):
    """Ten logits, a temperature and a true class; the page computes softmax and the loss.

    The page (in the browser) computes ``log_softmax(logits / temperature)``, the
    probabilities and ``-log p[true_class]`` exactly as :func:`cnnlib.log_softmax` does
    (subtract the largest, log-sum-exp); with a kernel ``data`` holds cnnlib's numbers for the
    same setting. See :func:`softmax_explorer`.
    """

    _js = "softmax_explorer.js"
    _inputs = ("logits", "temperature", "true_class")
    LIMIT = 10.0
    T_MIN, T_MAX = 0.1, 10.0
    logits = traitlets.List(traitlets.Float(), minlen=10, maxlen=10).tag(sync=True)
    temperature = traitlets.Float(1.0).tag(sync=True)
    true_class = traitlets.Int(3).tag(sync=True)
    limit = traitlets.Float(LIMIT).tag(sync=True)

    def __init__(self, logits=None, true_class: int = 3, temperature: float = 1.0) -> None:
        z = np.array(DEFAULT_LOGITS if logits is None else logits, dtype=np.float64)
        _check_logits(z, self.LIMIT)
        _check_true_class(true_class)
        _check_temperature(temperature, self.T_MIN, self.T_MAX)
        super().__init__(logits=[float(v) for v in z], temperature=float(temperature),
                         true_class=int(true_class))

    @traitlets.validate("logits")
    def _valid_logits(self, proposal):
        _check_logits(np.array(proposal["value"], dtype=np.float64), self.LIMIT,
                      traitlets.TraitError)
        return proposal["value"]

    @traitlets.validate("temperature")
    def _valid_temperature(self, proposal):
        _check_temperature(proposal["value"], self.T_MIN, self.T_MAX, traitlets.TraitError)
        return proposal["value"]

    @traitlets.validate("true_class")
    def _valid_true_class(self, proposal):
        _check_true_class(proposal["value"], traitlets.TraitError)
        return proposal["value"]

    def compute(self) -> dict:
        """cnnlib's softmax, log-probabilities and loss for the current traits."""
        z = np.array(self.logits, dtype=np.float64)
        t = float(self.temperature)
        y = int(self.true_class)
        logp = log_softmax(z / t)
        return {"logits": z, "probs": softmax(z / t), "log_probs": logp,
                "loss": float(-logp[y]), "temperature": t, "true_class": y}


def _check_logits(z: np.ndarray, limit: float, error=ValueError) -> None:
    if z.shape != (10,):
        raise error(f"logits must hold 10 numbers, one per digit, received "
                                   f"shape {z.shape}.")
    if not np.all(np.isfinite(z)) or np.abs(z).max() > limit:
        raise error(f"logits must lie in [-{limit:g}, {limit:g}] (the slider "
                                   f"range), received values up to {np.abs(z).max():.3g}; "
                                   "pass np.clip(logits, -10, 10).")


def _check_true_class(true_class, error=ValueError) -> None:
    if isinstance(true_class, bool) or not isinstance(true_class, (int, np.integer)) \
            or not 0 <= true_class < 10:
        raise error(f"true_class must be a class in 0..9, received "
                                   f"{true_class!r}.")


def _check_temperature(t, low: float, high: float, error=ValueError) -> None:
    if not low <= t <= high:
        raise error(f"temperature must lie in [{low:g}, {high:g}], received "
                                   f"{t!r}.")


def softmax_explorer(logits=None, true_class: int = 3,
                     temperature: float = 1.0) -> SoftmaxExplorer:
    """Edit ten logits and a temperature and watch the softmax probabilities and the loss.

    The probabilities are ``softmax(logits / temperature)``; the page also shows the
    log-probabilities and the cross-entropy loss ``-log p[true_class]``. The page computes
    them in the browser; in a live notebook ``w.logits``, ``w.temperature`` and
    ``w.true_class`` drive it from Python too.

    Parameters
    ----------
    logits : array_like, optional
        Ten starting values in [-10, 10] (a slider each); a fixed example that favours class
        3 when omitted.
    true_class : int, default 3
        The class whose probability the loss reads (a drop-down).
    temperature : float, default 1.0
        Starting temperature in [0.1, 10] (a logarithmic slider).

    Returns
    -------
    SoftmaxExplorer
        ``data``: ``"logits"`` (10,), ``"probs"`` (10,), ``"log_probs"`` (10,), ``"loss"``,
        ``"temperature"``, ``"true_class"``, all from :func:`cnnlib.log_softmax`.

    Raises
    ------
    ValueError
        For logits, a class or a temperature out of range (setting such a trait later raises
        ``traitlets.TraitError`` with the same message).
    """
    return SoftmaxExplorer(logits, true_class=true_class, temperature=temperature)


def show_predictions(images, probs, labels, fig=None, titles=None, ncols: int = 2):
    """Each digit beside the bar chart of the probabilities a network gave it.

    Parameters
    ----------
    images : array_like
        The digits.
    probs : array_like
        Predicted probabilities, one row per digit (``model.predict_proba``).
    labels : array_like of int
        The true classes (green bar; a wrong prediction is red).
    fig : Figure, optional
        Figure to draw into (it is cleared first). A new one is made when omitted.
    titles : sequence of str, optional
        One title per digit; by default ``"true t, predicted p"``.
    ncols : int, default 2
        Digits per row.

    Returns
    -------
    Figure

    Shape
    -----
    - images: ``(N, H, W)`` or ``(N, 1, H, W)``; probs: ``(N, K)``; labels: ``(N,)``.
    """
    imgs = as_images(images)
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels).reshape(-1)
    n = len(imgs)
    if n == 0 or p.shape[0] != n or p.ndim != 2 or y.shape != (n,):
        raise ValueError(f"images, probs and labels must describe the same N > 0 digits, "
                         f"received shapes {np.shape(images)}, {p.shape} and {y.shape}.")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must have one entry per digit: expected {n}, "
                         f"received {len(titles)}.")
    cols = max(1, min(int(ncols), n))
    rows = math.ceil(n / cols)
    fig = make_figure(fig, (4.6 * cols, 1.95 * rows))
    cells = fig.subfigures(rows, cols, squeeze=False).ravel()
    for k, cell in enumerate(cells):
        if k >= n:
            continue
        ax_img, ax_p = cell.subplots(1, 2, width_ratios=[1, 2.3])
        ax_img.imshow(imgs[k], cmap=DIGIT_CMAP, interpolation="nearest")
        no_ticks(ax_img)
        pred = int(p[k].argmax())
        text = titles[k] if titles is not None else f"true {y[k]}, predicted {pred}"
        ax_img.set_title(text, fontsize=9, loc="left",
                         color="black" if pred == y[k] else "tab:red")
        plot_probabilities(p[k], ax=ax_p, true_label=int(y[k]))
        ax_p.get_legend().remove()
        ax_p.tick_params(labelsize=8)
        ax_p.set_xlabel("")
        ax_p.set_ylabel("p", fontsize=9)
    return fig
