"""Widgets for Chapter 4, softmax."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np

from cnnlib import (
    log_softmax,
)

from ..plots import (
    DIGIT_CMAP,
    RIGHT_COLOUR,
    as_images,
    make_figure,
    no_ticks,
    plot_probabilities,
)
from .base import FigureWidget

__all__ = ["SoftmaxExplorer", "softmax_explorer", "show_predictions", "DEFAULT_LOGITS"]


DEFAULT_LOGITS = (1.0, -1.5, 0.5, 3.0, -2.0, 1.5, -1.0, 0.0, 2.0, -0.5)


class SoftmaxExplorer(FigureWidget):
    """Ten logit sliders and a temperature; the softmax and the loss redrawn live.

    See :func:`softmax_explorer`.
    """

    LIMIT = 10.0

    def __init__(self, logits=None, true_class: int = 3, temperature: float = 1.0,
                 dpi: int = 90) -> None:

        z = np.array(DEFAULT_LOGITS if logits is None else logits, dtype=np.float64)
        if z.shape != (10,):
            raise ValueError(f"logits must hold 10 numbers, one per digit, received shape "
                             f"{z.shape}.")
        if not np.all(np.isfinite(z)) or np.abs(z).max() > self.LIMIT:
            raise ValueError(f"logits must lie in [-{self.LIMIT:g}, {self.LIMIT:g}] (the slider "
                             f"range), received values up to {np.abs(z).max():.3g}; "
                             "pass np.clip(logits, -10, 10).")
        if isinstance(true_class, bool) or not isinstance(true_class, (int, np.integer)) \
                or not 0 <= true_class < 10:
            raise ValueError(f"true_class must be a class in 0..9, received {true_class!r}.")
        if not 0.1 <= temperature <= 10:
            raise ValueError(f"temperature must lie in [0.1, 10], received {temperature!r}.")
        controls = {
            f"z{k}": widgets.FloatSlider(
                value=float(z[k]), min=-self.LIMIT, max=self.LIMIT, step=0.1,
                description=f"z{k}", orientation="vertical", readout_format=".1f",
                continuous_update=False, layout=widgets.Layout(width="48px"))
            for k in range(10)
        }
        controls["temperature"] = widgets.FloatLogSlider(
            value=float(temperature), base=10, min=-1, max=1, step=0.05,
            description="temperature", readout_format=".2f", continuous_update=False,
            style={"description_width": "initial"})
        controls["true_class"] = widgets.Dropdown(
            options=list(range(10)), value=int(true_class), description="true class",
            style={"description_width": "initial"}, layout=widgets.Layout(width="160px"))
        sliders = [controls[f"z{k}"] for k in range(10)]
        rows = [widgets.HBox(sliders, layout=widgets.Layout(flex_flow="row wrap")),
                widgets.HBox([controls["temperature"], controls["true_class"]])]
        super().__init__(controls, layout_rows=rows, dpi=dpi)

    def draw(self):
        z = np.array([self.controls[f"z{k}"].value for k in range(10)], dtype=np.float64)
        t = float(self.controls["temperature"].value)
        y = int(self.controls["true_class"].value)
        logp = log_softmax(z / t)
        probs = np.exp(logp)
        loss = float(-logp[y])
        self.data = {"logits": z, "probs": probs, "loss": loss, "temperature": t,
                     "true_class": y}

        fig = make_figure(None, (9.0, 3.0))
        ax_z, ax_p = fig.subplots(1, 2, width_ratios=[1, 1.25])
        colours = ["0.55"] * y + [RIGHT_COLOUR] + ["0.55"] * (9 - y)
        ax_z.bar(np.arange(10), z, color=colours, width=0.7)
        ax_z.axhline(0, color="0.3", lw=0.8)
        ax_z.set_ylim(-self.LIMIT, self.LIMIT)
        ax_z.set_xticks(range(10))
        ax_z.set_xlabel("class")
        ax_z.set_ylabel("logit $z_k$")
        ax_z.set_title(f"logits (green: the true class; divided by T = {t:.2f})", fontsize=9)
        ax_z.spines[["top", "right"]].set_visible(False)
        plot_probabilities(probs, ax=ax_p, true_label=y)
        ax_p.set_title(f"softmax(z / T);  loss = −log p[{y}] = {loss:.3f}", fontsize=10,
                       pad=18)
        return fig


def softmax_explorer(logits=None, true_class: int = 3,
                     temperature: float = 1.0) -> SoftmaxExplorer:
    """Move ten logits and a temperature and watch the softmax probabilities and the loss.

    The probabilities are ``softmax(logits / temperature)``, drawn with
    :func:`cnnlib.book.plots.plot_probabilities`; the title shows the cross-entropy loss
    ``-log p[true_class]``.

    Parameters
    ----------
    logits : array_like, optional
        Ten starting values in [-10, 10] (vertical FloatSliders ``z0`` .. ``z9``); a fixed
        example that favours class 3 when omitted.
    true_class : int, default 3
        The class whose probability the loss reads (Dropdown).
    temperature : float, default 1.0
        Starting temperature in [0.1, 10] (FloatLogSlider).

    Returns
    -------
    SoftmaxExplorer
        ``data``: ``"logits"`` (10,), ``"probs"`` (10,), ``"loss"``, ``"temperature"``,
        ``"true_class"``.
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
