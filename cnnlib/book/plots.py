"""Plot helpers for the book: digits, filters, feature maps, training curves.

Every helper draws into a figure (or axes) that you may pass in, and returns the figure
(``show_matrix`` returns the axes). Nothing is stored between calls and ``plt.show()`` is
never called, so the helpers work the same in a notebook, a widget and a test.

Colour conventions used throughout the book:

* digits and other images are drawn in ``DIGIT_CMAP`` (dark ink on white paper);
* filters, weights and other signed arrays use ``DIVERGING_CMAP`` with limits symmetric
  around zero, so white always means 0, red positive and blue negative.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure, FigureBase
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

__all__ = [
    "DIGIT_CMAP",
    "DIVERGING_CMAP",
    "figure_to_png",
    "plot_confusion_matrix",
    "plot_history",
    "plot_probabilities",
    "show_digits",
    "show_feature_maps",
    "show_filters",
    "show_matrix",
    "show_misclassified",
    "show_receptive_fields",
]

DIGIT_CMAP = "gray_r"
DIVERGING_CMAP = "RdBu_r"

_WRONG = "tab:red"
RIGHT_COLOUR = "tab:green"
_TRAIN = "tab:blue"
_VAL = "tab:orange"
_FRAME = "0.8"


# --------------------------------------------------------------------------- helpers


def make_figure(fig: FigureBase | None, figsize: tuple[float, float]) -> FigureBase:
    """Return ``fig`` cleared, or a new constrained-layout figure of ``figsize``."""
    if fig is None:
        return plt.figure(figsize=figsize, layout="constrained")
    if not isinstance(fig, FigureBase):
        raise ValueError(
            f"fig must be a matplotlib Figure (or SubFigure), received {type(fig).__name__}; "
            "create one with plt.figure() or leave fig=None."
        )
    fig.clear()
    if isinstance(fig, Figure) and fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    return fig


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """Return ``ax``, or the axes of a new constrained-layout figure of ``figsize``."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax
    if not isinstance(ax, Axes):
        raise ValueError(
            f"ax must be a matplotlib Axes, received {type(ax).__name__}; "
            "create one with fig, ax = plt.subplots() or leave ax=None."
        )
    return ax


def _grid(fig: FigureBase, n: int, ncols: int) -> list[Axes]:
    """Add an ``n``-panel grid with ``ncols`` columns to ``fig``; unused cells are removed."""
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.remove()
    return axes[:n]


def no_ticks(ax: Axes, frame: str = _FRAME) -> None:
    """Hide ticks but keep a thin frame (and room for an xlabel)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color(frame)
        spine.set_linewidth(0.8)


def symmetric_limit(a: np.ndarray) -> float:
    """Largest absolute finite value of ``a`` (1.0 for an all-zero array)."""
    finite = np.abs(a[np.isfinite(a)])
    limit = float(finite.max()) if finite.size else 0.0
    return limit if limit > 0 else 1.0


def _shape_hint(a: Any) -> str:
    return str(tuple(np.shape(a)))


def as_images(images: Any, name: str = "images") -> np.ndarray:
    """Return a stack of 2-D images ``(N, H, W)`` from (H, W), (N, H, W) or (N, 1, H, W)."""
    a = np.asarray(images)
    if a.ndim == 2:
        return a[None]
    if a.ndim == 3:
        return a
    if a.ndim == 4 and a.shape[1] == 1:
        return a[:, 0]
    raise ValueError(
        f"{name} must have shape (N, H, W) or (N, 1, H, W), received {_shape_hint(a)}; "
        "for a single image pass an (H, W) array, and for multi-channel feature maps "
        "use show_feature_maps."
    )


def _as_labels(values: Any, n: int, name: str) -> np.ndarray:
    a = np.asarray(values).reshape(-1) if np.ndim(values) else np.asarray([values])
    if a.shape[0] != n:
        raise ValueError(
            f"{name} must have one entry per image: expected shape ({n},), "
            f"received {_shape_hint(values)}."
        )
    return a


def _text_colour(rgba: Sequence[float]) -> str:
    """Black or white, whichever reads better on a cell of colour ``rgba``."""
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def _annotate_cells(
    ax: Axes, a: np.ndarray, image: Any, fmt: str, fontsize: float, mute_zeros: bool = False
) -> None:
    """Write every value of ``a`` in its cell, in black or white to contrast with the cell."""
    cmap, norm = image.get_cmap(), image.norm
    for (i, j), value in np.ndenumerate(a):
        if mute_zeros and value == 0:
            text, colour = "0", "0.7"
        else:
            text = format(value, fmt) if np.isfinite(value) else str(value)
            colour = _text_colour(cmap(norm(value)))
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=fontsize)


def _auto_fmt(a: np.ndarray) -> str:
    finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
    if a.dtype.kind in "iub" or np.all(finite == np.round(finite)):
        return ".0f"
    return ".2f"


# --------------------------------------------------------------------------- images


def show_digits(
    images: Any,
    labels: Any = None,
    predictions: Any = None,
    ncols: int = 10,
    fig: FigureBase | None = None,
    title: str | None = None,
) -> FigureBase:
    """Draw a grid of digits, optionally with labels and predictions.

    Parameters
    ----------
    images : array_like
        Images to draw, one panel each.
    labels : array_like of int, optional
        True class of each image, written under it.
    predictions : array_like of int, optional
        Predicted class of each image. The panel title then reads ``"pred (true)"``
        (just ``"pred"`` without labels) and wrong predictions are drawn in red.
    ncols : int, default 10
        Panels per row.
    fig : Figure or SubFigure, optional
        Figure to draw into (it is cleared first). A new one is made when omitted.
    title : str, optional
        Title above the grid.

    Returns
    -------
    Figure

    Shape
    -----
    - images: ``(N, H, W)``, ``(N, 1, H, W)`` or a single ``(H, W)`` image.
    - labels, predictions: ``(N,)``.
    """
    imgs = as_images(images)
    n = imgs.shape[0]
    if n == 0:
        raise ValueError("images is empty: received shape (0, H, W); pass at least one image.")
    true = None if labels is None else _as_labels(labels, n, "labels")
    pred = None if predictions is None else _as_labels(predictions, n, "predictions")

    cols = max(1, min(ncols, n))
    rows = math.ceil(n / cols)
    text_rows = 0.25 if (true is not None or pred is not None) else 0.0
    fig = make_figure(fig, (0.9 * cols, (0.9 + text_rows) * rows + (0.3 if title else 0)))
    for i, ax in enumerate(_grid(fig, n, cols)):
        ax.imshow(imgs[i], cmap=DIGIT_CMAP, interpolation="nearest")
        no_ticks(ax)
        if pred is not None:
            wrong = true is not None and pred[i] != true[i]
            text = f"{pred[i]}" if true is None else f"{pred[i]} ({true[i]})"
            ax.set_title(text, fontsize=9, color=_WRONG if wrong else "black", pad=3)
            if wrong:
                for spine in ax.spines.values():
                    spine.set_color(_WRONG)
                    spine.set_linewidth(1.5)
        elif true is not None:
            ax.set_xlabel(f"{true[i]}", fontsize=9, labelpad=2)
    if title:
        fig.suptitle(title)
    return fig


def show_filters(
    weight: Any,
    fig: FigureBase | None = None,
    title: str | None = None,
    cmap: str = DIVERGING_CMAP,
    ncols: int = 8,
) -> FigureBase:
    """Draw convolution filters on one colour scale symmetric around zero.

    With one input channel the filters are laid out in a compact grid of ``ncols``
    columns; otherwise row ``i`` holds output channel ``i`` and column ``j`` the kernel
    it applies to input channel ``j``. A shared colour bar sits on the right.

    Parameters
    ----------
    weight : array_like or layer
        Convolution weight, or a layer whose ``params["weight"]`` is one (e.g. ``Conv2d``).
    fig : Figure or SubFigure, optional
        Figure to draw into (it is cleared first). A new one is made when omitted.
    title : str, optional
        Title above the grid.
    cmap : str, default ``DIVERGING_CMAP``
        Colormap; a diverging one keeps white at zero.
    ncols : int, default 8
        Panels per row when there is a single input channel.

    Returns
    -------
    Figure

    Shape
    -----
    - weight: ``(out_channels, in_channels, kH, kW)``.
    """
    params = getattr(weight, "params", None)
    if isinstance(params, Mapping) and "weight" in params:
        weight = params["weight"]
    w = np.asarray(weight)
    if w.ndim != 4:
        raise ValueError(
            "show_filters expects a convolution weight of shape "
            f"(out_channels, in_channels, kH, kW), received {_shape_hint(w)}; "
            "for a single-channel stack of kernels (out, kH, kW) pass weight[:, None], "
            "for a Linear weight reshape it first, e.g. weight.reshape(-1, 1, 28, 28)."
        )
    out_c, in_c = w.shape[:2]
    if out_c == 0 or in_c == 0:
        raise ValueError(f"weight has no filters: received shape {_shape_hint(w)}.")
    limit = symmetric_limit(w)
    style = dict(cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")

    if in_c == 1:
        cols = max(1, min(ncols, out_c))
        rows = math.ceil(out_c / cols)
        fig = make_figure(fig, (0.95 * cols + 0.9, 1.05 * rows + (0.3 if title else 0)))
        axes = _grid(fig, out_c, cols)
        for i, ax in enumerate(axes):
            image = ax.imshow(w[i, 0], **style)
            no_ticks(ax)
            ax.set_title(f"out {i}", fontsize=8, pad=2)
    else:
        size = min(0.8, 9.0 / in_c)
        fig = make_figure(fig, (size * in_c + 1.3, size * out_c + 0.4 + (0.3 if title else 0)))
        grid = fig.subplots(out_c, in_c, squeeze=False)
        for i in range(out_c):
            for j in range(in_c):
                ax = grid[i, j]
                image = ax.imshow(w[i, j], **style)
                no_ticks(ax)
                if i == 0:
                    ax.set_title(f"in {j}", fontsize=8, pad=2)
                if j == 0:
                    ax.set_ylabel(f"out {i}", fontsize=8, rotation=0, ha="right", va="center")
        axes = list(grid.ravel())
    fig.colorbar(image, ax=axes, shrink=0.8, aspect=25, pad=0.02)
    if title:
        fig.suptitle(title)
    return fig


def one_image_maps(maps: Any) -> np.ndarray:
    """The feature maps of one image as (C, H, W), from (C, H, W) or (1, C, H, W)."""
    a = np.asarray(maps)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 3:
        hint = (
            "pass one image at a time, e.g. maps[0]"
            if a.ndim == 4
            else "for a single map pass maps[None]"
        )
        raise ValueError(
            f"maps must have shape (C, H, W) or (1, C, H, W), received {_shape_hint(a)}; {hint}."
        )
    return a


def show_feature_maps(
    maps: Any,
    fig: FigureBase | None = None,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    cmap: str = DIVERGING_CMAP,
    symmetric: bool = True,
    title: str | None = None,
) -> FigureBase:
    """Draw the channels of one image's feature maps on a shared colour scale.

    Parameters
    ----------
    maps : array_like
        Activations of one image after some layer.
    fig : Figure or SubFigure, optional
        Figure to draw into (it is cleared first). A new one is made when omitted.
    titles : sequence of str, optional
        One title per channel; defaults to ``"channel i"``.
    ncols : int, default 8
        Panels per row.
    cmap : str, default ``DIVERGING_CMAP``
        Colormap shared by all channels.
    symmetric : bool, default True
        Colour limits ``[-m, m]`` with ``m = max |maps|`` (white = 0). When False the
        limits are the data minimum and maximum.
    title : str, optional
        Title above the grid.

    Returns
    -------
    Figure

    Shape
    -----
    - maps: ``(C, H, W)`` or ``(1, C, H, W)``.
    """
    a = one_image_maps(maps)
    c = a.shape[0]
    if c == 0:
        raise ValueError(f"maps has no channels: received shape {_shape_hint(a)}.")
    if titles is None:
        titles = [f"channel {i}" for i in range(c)]
    elif len(titles) != c:
        raise ValueError(
            f"titles must have one entry per channel: expected {c}, received {len(titles)}."
        )
    if symmetric:
        vmax = symmetric_limit(a)
        vmin = -vmax
    else:
        vmin, vmax = float(np.nanmin(a)), float(np.nanmax(a))

    cols = max(1, min(ncols, c))
    rows = math.ceil(c / cols)
    fig = make_figure(fig, (1.1 * cols + 0.9, 1.2 * rows + (0.3 if title else 0)))
    axes = _grid(fig, c, cols)
    for i, ax in enumerate(axes):
        image = ax.imshow(a[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        no_ticks(ax)
        ax.set_title(titles[i], fontsize=8, pad=2)
    fig.colorbar(image, ax=axes, shrink=0.8, aspect=25, pad=0.02)
    if title:
        fig.suptitle(title)
    return fig


def show_matrix(
    a: Any,
    ax: Axes | None = None,
    annotate: bool = True,
    fmt: str | None = None,
    cmap: str | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a small 2-D array as a heatmap with its numbers written in the cells.

    Meant for hand-checkable examples such as a 5x5 input and a 3x3 kernel. Row and
    column indices are shown on the axes.

    Parameters
    ----------
    a : array_like
        The array to draw.
    ax : Axes, optional
        Axes to draw into; a new figure is made when omitted.
    annotate : bool, default True
        Write each value in its cell.
    fmt : str, optional
        Format spec for the values, e.g. ``".2f"``; integers by default when all values
        are whole numbers, otherwise ``".2f"``.
    cmap : str, optional
        Colormap. Defaults to ``DIGIT_CMAP`` for non-negative arrays and to
        ``DIVERGING_CMAP`` (symmetric around zero) when there are negative values.
    title : str, optional
        Axes title.

    Returns
    -------
    Axes

    Shape
    -----
    - a: ``(H, W)``.
    """
    m = np.asarray(a)
    if m.ndim != 2:
        raise ValueError(
            f"show_matrix expects a 2-D array (H, W), received {_shape_hint(m)}; "
            "pick one slice, e.g. x[0, 0] for an NCHW batch, or reshape a vector with "
            "v.reshape(1, -1)."
        )
    if m.size == 0:
        raise ValueError(f"show_matrix received an empty array of shape {_shape_hint(m)}.")
    if m.dtype.kind == "b":
        m = m.astype(int)
    signed = bool(np.nanmin(m) < 0)
    if signed:
        limit = symmetric_limit(m.astype(float))
        vmin, vmax = -limit, limit
        cmap = cmap or DIVERGING_CMAP
    else:
        vmin, vmax = 0.0, float(np.nanmax(m)) or 1.0
        cmap = cmap or DIGIT_CMAP
    h, w = m.shape
    ax = _axes(ax, (0.5 * w + 0.6, 0.5 * h + 0.5))
    # Stretch the limits a little so the extreme cells are not solid ink and their numbers
    # stay readable.
    soft = 0.25 * (vmax - vmin) if signed else 0.3 * (vmax - vmin)
    norm = Normalize(vmin=vmin - (soft if signed else 0), vmax=vmax + soft)
    image = ax.imshow(m, cmap=cmap, norm=norm, interpolation="nearest")
    if annotate:
        fontsize = 10 if max(h, w) <= 8 else 8
        _annotate_cells(ax, m, image, fmt or _auto_fmt(m), fontsize)
    ax.set_xticks(range(w))
    ax.set_yticks(range(h))
    ax.tick_params(length=0, labelsize=8, labelcolor="0.4")
    ax.set_xticks(np.arange(w + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(h + 1) - 0.5, minor=True)
    ax.grid(which="minor", color=_FRAME, linewidth=1)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_color(_FRAME)
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- training


def _history_lists(history: Any) -> tuple[Mapping[str, Sequence[float]], Sequence[int] | None]:
    h = getattr(history, "history", history)
    if not isinstance(h, Mapping):
        raise ValueError(
            "plot_history expects a History (an object with a .history dict) or a dict of "
            "per-epoch lists such as {'loss': [...], 'val_loss': [...]}; "
            f"received {type(history).__name__}."
        )
    return h, getattr(history, "epoch", None)


def _lower_is_better(metric: str) -> bool:
    return metric.endswith("loss") or "error" in metric


def plot_history(
    history: Any,
    fig: FigureBase | None = None,
    metrics: Sequence[str] = ("loss", "accuracy"),
    title: str | None = None,
) -> FigureBase:
    """Plot training and validation curves per epoch, one panel per metric.

    The epoch with the best validation value (lowest loss, highest accuracy) is marked
    with a dot and a dashed vertical line; when training keeps improving after it, the
    network is overfitting.

    Parameters
    ----------
    history : History or dict
        ``fit``'s ``History`` (its ``.history`` dict is used) or a dict of per-epoch
        lists with keys like ``"loss"``, ``"accuracy"``, ``"val_loss"``,
        ``"val_accuracy"``; the ``val_*`` lists are optional.
    fig : Figure or SubFigure, optional
        Figure to draw into (it is cleared first). A new one is made when omitted.
    metrics : sequence of str, default ("loss", "accuracy")
        Metrics to plot; each must be a key of the history.
    title : str, optional
        Title above the panels.

    Returns
    -------
    Figure

    Shape
    -----
    - each history list: ``(epochs,)``; epochs are numbered from 1.
    """
    h, epoch_numbers = _history_lists(history)
    if isinstance(metrics, str):
        metrics = (metrics,)
    if len(metrics) == 0:
        raise ValueError("metrics is empty; pass e.g. metrics=('loss', 'accuracy').")
    available = sorted(k for k in h if not k.startswith("val_"))
    for metric in metrics:
        if metric not in h:
            raise ValueError(
                f"metric {metric!r} is not in the history; available metrics: {available}. "
                f"Pass metrics=... with some of them."
            )
        if len(h[metric]) == 0:
            raise ValueError(f"history[{metric!r}] is empty; train for at least one epoch.")

    fig = make_figure(fig, (4.2 * len(metrics), 3.1 + (0.3 if title else 0)))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics, strict=True):
        train = np.asarray(h[metric], dtype=float)
        epochs = np.arange(1, len(train) + 1)
        if epoch_numbers is not None and len(epoch_numbers) == len(train):
            epochs = np.asarray(epoch_numbers)
        ax.plot(epochs, train, "o-", color=_TRAIN, markersize=4, label="training")
        val_key = f"val_{metric}"
        val_values = h.get(val_key)
        if val_values is not None and len(val_values) > 0:
            val = np.asarray(val_values, dtype=float)
            val_epochs = (
                epochs[: len(val)] if len(val) <= len(epochs) else np.arange(1, len(val) + 1)
            )
            ax.plot(val_epochs, val, "s-", color=_VAL, markersize=4, label="validation")
            if np.any(np.isfinite(val)):
                best = int(np.nanargmin(val) if _lower_is_better(metric) else np.nanargmax(val))
                e = val_epochs[best]
                ax.axvline(e, color="0.5", linestyle="--", linewidth=1, zorder=0)
                ax.plot(
                    [e],
                    [val[best]],
                    "o",
                    markersize=11,
                    markerfacecolor="none",
                    markeredgecolor="black",
                    markeredgewidth=1.5,
                    zorder=3,
                    label=f"best validation (epoch {e})",
                )
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric.replace("_", " "))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(epochs) == 1:
            ax.set_xticks(epochs)
            ax.set_xlim(epochs[0] - 0.5, epochs[0] + 0.5)
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- evaluation


def plot_confusion_matrix(
    cm: Any,
    ax: Axes | None = None,
    normalize: bool = False,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    cmap: str = "Blues",
) -> FigureBase:
    """Draw a confusion matrix with the count (or row fraction) in every cell.

    Parameters
    ----------
    cm : array_like of int
        ``cm[i, j]`` counts examples of true class ``i`` predicted as class ``j``, as
        returned by ``cnnlib.train.confusion_matrix``.
    ax : Axes, optional
        Axes to draw into; a new figure is made when omitted.
    normalize : bool, default False
        Divide each row by its total and write percentages, so a cell is the share of
        class ``i`` predicted as ``j`` and the diagonal is the per-class recall.
    class_names : sequence of str, optional
        Tick labels; defaults to ``0 .. K-1``.
    title : str, optional
        Axes title.
    cmap : str, default "Blues"
        Colormap.

    Returns
    -------
    Figure
        The figure holding ``ax``.

    Shape
    -----
    - cm: ``(K, K)``, rows true class, columns predicted class.
    """
    m = np.asarray(cm)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(
            f"cm must be a square (K, K) matrix, received {_shape_hint(m)}; build it with "
            "cnnlib.train.confusion_matrix(y_true, y_pred, num_classes=K)."
        )
    if m.dtype.kind not in "iuf" or np.any(m < 0):
        raise ValueError("cm must hold non-negative counts (rows true, columns predicted).")
    k = m.shape[0]
    if class_names is None:
        class_names = [str(i) for i in range(k)]
    elif len(class_names) != k:
        raise ValueError(
            f"class_names must have one name per class: expected {k}, received {len(class_names)}."
        )
    if normalize:
        totals = m.sum(axis=1, keepdims=True).astype(float)
        values = np.divide(m, totals, out=np.zeros(m.shape, dtype=float), where=totals > 0)
        fmt, vmax = ".1%", 1.0
    else:
        values = m
        fmt = ".0f"
        vmax = float(m.max()) or 1.0

    side = max(3.0, 0.45 * k + 1.2)
    ax = _axes(ax, (side, side - 0.3))
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    fontsize = (8 if normalize else 9) if k <= 10 else 7
    _annotate_cells(ax, values, image, fmt, fontsize, mute_zeros=True)
    ax.set_xticks(range(k), labels=class_names)
    ax.set_yticks(range(k), labels=class_names)
    ax.tick_params(length=0, labelsize=9)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    for spine in ax.spines.values():
        spine.set_color(_FRAME)
    if title is None:
        title = "confusion matrix (% of each true class)" if normalize else "confusion matrix"
    ax.set_title(title, fontsize=10)
    return ax.figure


def show_misclassified(
    images: Any,
    y_true: Any,
    y_pred: Any,
    probs: Any = None,
    n: int = 20,
    ncols: int = 10,
    fig: FigureBase | None = None,
) -> FigureBase:
    """Draw the first ``n`` misclassified images, titled ``"pred p (true t)"``.

    Parameters
    ----------
    images : array_like
        All evaluated images.
    y_true, y_pred : array_like of int
        True and predicted class of every image.
    probs : array_like, optional
        Predicted class probabilities; the probability of the predicted class is shown
        under each title.
    n : int, default 20
        Maximum number of examples to draw.
    ncols : int, default 10
        Panels per row.
    fig : Figure or SubFigure, optional
        Figure to draw into (it is cleared first). A new one is made when omitted.

    Returns
    -------
    Figure
        When nothing is misclassified, the figure says so in a line of text.

    Shape
    -----
    - images: ``(N, H, W)`` or ``(N, 1, H, W)``.
    - y_true, y_pred: ``(N,)``.
    - probs: ``(N, K)``.
    """
    imgs = as_images(images)
    total = imgs.shape[0]
    true = _as_labels(y_true, total, "y_true")
    pred = _as_labels(y_pred, total, "y_pred")
    p = None
    if probs is not None:
        p = np.asarray(probs)
        if p.ndim != 2 or p.shape[0] != total:
            raise ValueError(
                f"probs must have shape (N, K) = ({total}, K), received {_shape_hint(p)}; "
                "use model.predict_proba(x)."
            )
    if n < 1:
        raise ValueError(f"n must be at least 1, received {n}.")
    wrong = np.flatnonzero(true != pred)
    shown = wrong[:n]

    if shown.size == 0:
        fig = make_figure(fig, (6.0, 1.2))
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            f"No misclassified examples: all {total} predictions are correct.",
            ha="center",
            va="center",
            fontsize=11,
            transform=ax.transAxes,
        )
        return fig

    cols = max(1, min(ncols, shown.size))
    rows = math.ceil(shown.size / cols)
    line = 0.45 if p is not None else 0.3
    fig = make_figure(fig, (1.0 * cols, (0.95 + line) * rows + 0.35))
    for ax, i in zip(_grid(fig, shown.size, cols), shown, strict=True):
        ax.imshow(imgs[i], cmap=DIGIT_CMAP, interpolation="nearest")
        no_ticks(ax, frame=_WRONG)
        text = f"pred {pred[i]} (true {true[i]})"
        if p is not None:
            text += f"\np = {p[i, int(pred[i])]:.2f}"
        ax.set_title(text, fontsize=8, color=_WRONG, pad=3)
    fig.suptitle(
        f"{wrong.size} of {total} misclassified"
        + (f" (first {shown.size} shown)" if wrong.size > shown.size else ""),
        fontsize=11,
    )
    return fig


def plot_probabilities(
    probs: Any,
    ax: Axes | None = None,
    true_label: int | None = None,
) -> FigureBase:
    """Bar chart of the class probabilities of one image.

    The predicted class (argmax) is blue, or red when it differs from ``true_label``;
    the true class is then green. A correct prediction is green.

    Parameters
    ----------
    probs : array_like
        Probabilities of one image, e.g. ``model.predict_proba(x[:1])``.
    ax : Axes, optional
        Axes to draw into; a new figure is made when omitted.
    true_label : int, optional
        The true class, highlighted when given.

    Returns
    -------
    Figure
        The figure holding ``ax``.

    Shape
    -----
    - probs: ``(K,)`` or ``(1, K)``.
    """
    p = np.asarray(probs, dtype=float)
    if p.ndim == 2 and p.shape[0] == 1:
        p = p[0]
    if p.ndim != 1 or p.size == 0:
        raise ValueError(
            f"probs must have shape (K,) or (1, K), received {_shape_hint(probs)}; "
            "pass the probabilities of one image, e.g. probs[i]."
        )
    k = p.size
    if true_label is not None and not 0 <= int(true_label) < k:
        raise ValueError(f"true_label must be a class in 0..{k - 1}, received {true_label}.")
    ax = _axes(ax, (4.5, 2.6))
    predicted = int(np.argmax(p))
    colours = ["0.78"] * k
    handles = []
    if true_label is None:
        colours[predicted] = _TRAIN
        handles.append(Patch(color=_TRAIN, label="predicted"))
    elif int(true_label) == predicted:
        colours[predicted] = RIGHT_COLOUR
        handles.append(Patch(color=RIGHT_COLOUR, label="predicted (correct)"))
    else:
        colours[predicted] = _WRONG
        colours[int(true_label)] = RIGHT_COLOUR
        handles += [Patch(color=_WRONG, label="predicted"), Patch(color=RIGHT_COLOUR, label="true")]
    bars = ax.bar(np.arange(k), p, color=colours, width=0.7)
    marked = {predicted} if true_label is None else {predicted, int(true_label)}
    ax.bar_label(
        bars, labels=[f"{p[i]:.2f}" if i in marked else "" for i in range(k)], fontsize=8, padding=2
    )
    ax.set_xticks(range(k))
    for i, tick in enumerate(ax.get_xticklabels()):
        if i in marked:
            tick.set_color(colours[i])
            tick.set_fontweight("bold")
    ax.set_xlabel("class")
    ax.set_ylabel("probability")
    if np.nanmax(p) <= 1.0 and np.nanmin(p) >= 0.0:
        ax.set_ylim(0, 1.1)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(
        handles=handles,
        frameon=False,
        fontsize=8,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=len(handles),
        borderaxespad=0.2,
    )
    return ax.figure


# --------------------------------------------------------------------------- receptive fields

_FIELD_COLOURS = ("tab:orange", "tab:blue", "tab:green", "tab:purple", "tab:red", "tab:cyan")


def show_receptive_fields(
    image: Any,
    fields: Sequence[Any],
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw an image with the receptive field of one unit of each layer outlined on it.

    A receptive field is given as a boolean mask over the image: True where a pixel can
    change the unit (for instance where the gradient of the unit with respect to the input is
    non-zero). Each field is outlined by the rectangle around its pixels, in its own colour,
    with its size in the legend.

    Parameters
    ----------
    image : array_like
        The input image, drawn in ``DIGIT_CMAP``.
    fields : sequence of array_like of bool
        One mask per layer, each the shape of ``image`` with at least one True pixel.
    labels : sequence of str, optional
        One legend label per field (the field's size is appended); ``"layer i"`` by default.
    ax : Axes, optional
        Axes to draw into; a new figure is made when omitted.
    title : str, optional
        Axes title.

    Returns
    -------
    Axes

    Shape
    -----
    - image: ``(H, W)``; every field: ``(H, W)``.
    """
    img = np.asarray(image)
    if img.ndim != 2:
        raise ValueError(
            f"image must be one 2-D image (H, W), received {_shape_hint(img)}; "
            "pick one, e.g. digits[0] or x[0, 0] for an NCHW batch."
        )
    masks = [np.asarray(f) for f in fields]
    if not masks:
        raise ValueError("fields is empty: pass at least one (H, W) boolean mask.")
    if labels is None:
        labels = [f"layer {i + 1}" for i in range(len(masks))]
    elif len(labels) != len(masks):
        raise ValueError(
            f"labels must have one entry per field: expected {len(masks)}, "
            f"received {len(labels)}."
        )
    for i, m in enumerate(masks):
        if m.shape != img.shape:
            raise ValueError(
                f"field {i} must have the image's shape {img.shape}, received "
                f"{_shape_hint(m)}; pass one boolean mask per layer over the input pixels."
            )
        if not np.any(m):
            raise ValueError(
                f"field {i} selects no pixel: expected a mask with at least one True value, "
                "received an all-False one."
            )
    ax = _axes(ax, (4.2, 3.6))
    ax.imshow(img, cmap=DIGIT_CMAP, interpolation="nearest")
    for i, (m, label) in enumerate(zip(masks, labels, strict=True)):
        rows, cols = np.nonzero(m)
        top, left = rows.min(), cols.min()
        height, width = rows.max() - top + 1, cols.max() - left + 1
        colour = _FIELD_COLOURS[i % len(_FIELD_COLOURS)]
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=True,
                               facecolor=colour, alpha=0.12, edgecolor="none"))
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False,
                               edgecolor=colour, linewidth=2.2 - 0.3 * (i % 3),
                               label=f"{label}: {height}×{width}"))
    no_ticks(ax)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, fontsize=9)
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- export


def figure_to_png(fig: Figure, dpi: float = 100) -> bytes:
    """Render ``fig`` to PNG bytes (the figure stays open).

    Parameters
    ----------
    fig : Figure
        The figure to render; for a SubFigure its parent figure is rendered.
    dpi : float, default 100
        Resolution in dots per inch.

    Returns
    -------
    bytes
        The PNG file contents, e.g. for ``ipywidgets.Image(value=...)``.
    """
    if isinstance(fig, FigureBase) and not isinstance(fig, Figure):
        fig = fig.get_figure(root=True)
    if not isinstance(fig, Figure):
        raise ValueError(
            f"figure_to_png expects a matplotlib Figure, received {type(fig).__name__}; "
            "for axes pass ax.figure."
        )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


# --------------------------------------------------------------------------- optimisers


def plot_optimiser_paths(
    loss: Any,
    paths: Mapping[str, Any],
    ax: Axes | None = None,
    xlim: tuple[float, float] = (-1.0, 1.0),
    ylim: tuple[float, float] = (-1.0, 1.0),
    levels: int = 12,
) -> FigureBase:
    """Contours of a 2-D loss with the path each optimiser took over it.

    Parameters
    ----------
    loss : callable
        ``loss(x, y)`` evaluated elementwise on grids of x and y values.
    paths : mapping of str to array_like
        Label -> the points visited, start first, shape ``(T, 2)``.
    ax : Axes, optional
        Axes to draw into; a new figure is made when omitted.
    xlim, ylim : (float, float)
        The region drawn.
    levels : int, default 12
        Number of contour lines, spaced evenly in the square root of the loss.

    Returns
    -------
    Figure
        The figure holding ``ax``.

    Shape
    -----
    - each path: ``(T, 2)``, T >= 1.
    """
    if not callable(loss):
        raise ValueError(f"loss must be a function loss(x, y), received {type(loss).__name__}.")
    if not isinstance(paths, Mapping) or not paths:
        raise ValueError(
            f"paths must be a non-empty mapping of label -> (T, 2) points, received "
            f"{type(paths).__name__}; e.g. {{'SGD': points}}."
        )
    arrays = {}
    for label, points in paths.items():
        a = np.asarray(points, dtype=float)
        if a.ndim != 2 or a.shape[1] != 2 or len(a) == 0:
            raise ValueError(
                f"path {label!r} must have shape (T, 2), received {_shape_hint(points)}."
            )
        arrays[label] = a
    ax = _axes(ax, (5.5, 3.6))
    gx, gy = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
    z = np.asarray(loss(gx, gy), dtype=float)
    root = np.sqrt(np.clip(z - z.min(), 0, None))
    ax.contour(gx, gy, root, levels=levels, colors="0.75", linewidths=0.7)
    for i, (label, a) in enumerate(arrays.items()):
        ax.plot(a[:, 0], a[:, 1], "o-", color=f"C{i}", markersize=2.5, linewidth=1.2,
                label=label)
    start = next(iter(arrays.values()))[0]
    ax.plot(*start, "ks", markersize=5)
    ax.set(xlim=xlim, ylim=ylim, xlabel="$w_1$", ylabel="$w_2$")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax.figure


__all__ += ["plot_optimiser_paths"]


# --------------------------------------------------------------------------- several runs


def plot_histories(
    histories: Mapping[str, Any],
    fig: FigureBase | None = None,
    metrics: Sequence[str] = ("loss", "accuracy"),
    title: str | None = None,
) -> FigureBase:
    """Overlay the curves of several training runs, one panel per metric.

    Each run gets one colour: its training curve dashed, its validation curve solid, and a
    dot on the validation curve at the run's best epoch (lowest loss, highest accuracy).

    Parameters
    ----------
    histories : mapping of str to History or dict
        Run name -> ``fit``'s ``History`` or a dict of per-epoch lists (as in
        :func:`plot_history`). Runs may have different numbers of epochs.
    fig : Figure or SubFigure, optional
        Figure to draw into (it is cleared first). A new one is made when omitted.
    metrics : sequence of str, default ("loss", "accuracy")
    title : str, optional

    Returns
    -------
    Figure

    Shape
    -----
    - each history list: ``(epochs,)``; epochs are numbered from 1.
    """
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError(
            "plot_histories expects a non-empty mapping of run name -> History, received "
            f"{type(histories).__name__}; e.g. {{'no remedy': history}}."
        )
    if isinstance(metrics, str):
        metrics = (metrics,)
    runs = {name: _history_lists(h)[0] for name, h in histories.items()}
    for name, h in runs.items():
        for metric in metrics:
            if not h.get(metric):
                raise ValueError(
                    f"run {name!r} has no values for {metric!r}; recorded: "
                    f"{sorted(k for k, v in h.items() if v)}."
                )
    fig = make_figure(fig, (4.6 * len(metrics), 3.4 + (0.3 if title else 0)))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics, strict=True):
        for i, (name, h) in enumerate(runs.items()):
            colour = f"C{i}"
            train = np.asarray(h[metric], dtype=float)
            ax.plot(np.arange(1, len(train) + 1), train, "--", color=colour, linewidth=1,
                    alpha=0.7)
            val = np.asarray(h.get(f"val_{metric}") or [], dtype=float)
            if len(val):
                epochs = np.arange(1, len(val) + 1)
                ax.plot(epochs, val, "-", color=colour, linewidth=1.6, label=name)
                best = int(np.nanargmin(val) if _lower_is_better(metric) else np.nanargmax(val))
                ax.plot(epochs[best], val[best], "o", color=colour, markersize=5)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric.replace("_", " "))
        if _lower_is_better(metric):
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1].plot([], [], "--", color="0.4", linewidth=1, label="(dashed: training)")
    axes[-1].legend(frameon=False, fontsize=7.5)
    if title:
        fig.suptitle(title)
    return fig


__all__ += ["plot_histories"]
