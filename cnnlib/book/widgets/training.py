"""Widgets for Chapter 5, training."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from cnnlib import (
    softmax,
)

from ..plots import (
    DIGIT_CMAP,
    DIVERGING_CMAP,
    plot_probabilities,
    show_filters,
)
from .base import FigureWidget

__all__ = ["filter_evolution", "digit_inspector"]


def _conv_weight_keys(state: dict) -> list[str]:
    """Names of the 4-D (convolution) weights of a state_dict, in layer order."""

    return [k for k, v in state.items() if k.endswith("weight") and np.ndim(v) == 4]


_FILTER_VIEWS = ("weights", "change since start")


class _FilterEvolution(FigureWidget):
    """Convolution filters of one layer after a chosen epoch (see :func:`filter_evolution`)."""

    def __init__(self, snapshots: list[dict], layer: str, epoch: int, show: str) -> None:
        self.snapshots = snapshots
        keys = _conv_weight_keys(snapshots[0])
        controls = {
            "epoch": widgets.IntSlider(value=epoch, min=0, max=len(snapshots) - 1, step=1,
                                       description="epoch",
                                       continuous_update=False),
            "layer": widgets.Dropdown(options=keys, value=layer, description="layer"),
            "show": widgets.ToggleButtons(options=list(_FILTER_VIEWS), value=show,
                                          description="show"),
        }
        super().__init__(controls, dpi=80)

    def draw(self):
        epoch = int(self.controls["epoch"].value)
        layer = self.controls["layer"].value
        weight = np.asarray(self.snapshots[epoch][layer])
        start = np.asarray(self.snapshots[0][layer])
        change = float(np.linalg.norm(weight - start) / (np.linalg.norm(start) or 1.0))
        show = self.controls["show"].value
        shown = weight if show == _FILTER_VIEWS[0] else weight - start
        when = "before training" if epoch == 0 else f"after epoch {epoch}"
        what = "weights" if show == _FILTER_VIEWS[0] else "change since the start"
        fig = show_filters(shown, title=f"{layer} {what}, {when} "
                                        f"(relative change {change:.2f})")
        self.data.update(epoch=epoch, layer=layer, show=show, weight=weight, shown=shown,
                         change=change)
        return fig


def filter_evolution(snapshots, layer: str = "0.weight", epoch: int | None = None,
                     show: str = "weights"):
    """A slider over training epochs showing how a convolution layer's filters change.

    Parameters
    ----------
    snapshots : list of dict
        ``History.snapshots`` from ``cnnlib.fit(..., snapshots=True)``: state_dicts before
        training (index 0) and after every epoch.
    layer : str, default "0.weight"
        The convolution weight to show, a key of the state_dicts (``"2.weight"`` for the second
        convolution of the seed network). A drop-down switches between the convolution layers.
    epoch : int, optional
        Epoch shown first; defaults to the last one.
    show : {"weights", "change since start"}
        Draw the weights after the epoch, or what training added to them, ``W_e - W_0``.

    Returns
    -------
    FigureWidget
        ``controls["epoch"]`` (IntSlider 0..E), ``controls["layer"]`` (Dropdown) and
        ``controls["show"]`` ("weights" or "change since start"); ``data["epoch"]``,
        ``data["layer"]``, ``data["weight"]`` (the weights after that epoch),
        ``data["shown"]`` (the array drawn: the weights or ``W_e - W_0``) and
        ``data["change"]`` (``||W_e - W_0|| / ||W_0||``).

    Shape
    -----
    ``snapshots[e][layer]``: (out_channels, in_channels, k, k).
    """

    snapshots = list(snapshots or [])
    if not snapshots or not all(isinstance(s, dict) for s in snapshots):
        raise ValueError("snapshots must be a non-empty list of state_dicts; train with "
                         "cnnlib.fit(..., snapshots=True) and pass history.snapshots.")
    keys = _conv_weight_keys(snapshots[0])
    if layer not in keys:
        raise ValueError(f"layer {layer!r} is not a convolution weight of the snapshots; "
                         f"choose one of {keys}.")
    last = len(snapshots) - 1
    epoch = last if epoch is None else epoch
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) \
            or not 0 <= epoch <= last:
        raise ValueError(f"epoch must be an integer from 0 to {last}, got {epoch!r}.")
    if show not in _FILTER_VIEWS:
        raise ValueError(f"show must be one of {list(_FILTER_VIEWS)}, got {show!r}.")
    return _FilterEvolution(snapshots, layer, int(epoch), show)


class _DigitInspector(FigureWidget):
    """One digit through every layer of a model (see :func:`digit_inspector`)."""

    def __init__(self, model, images, labels, index: int) -> None:
        self.model = model
        self.images = images
        self.labels = labels
        controls = {
            "index": widgets.IntSlider(value=index, min=0, max=len(images) - 1, step=1,
                                       description="digit #", continuous_update=False,
                                       layout=widgets.Layout(width="420px")),
        }
        super().__init__(controls, dpi=80)

    def draw(self):
        index = int(self.controls["index"].value)
        x = self.images[index : index + 1]
        was_training = getattr(self.model, "training", False)
        self.model.eval()
        try:
            steps = self.model.activations(x)
        finally:
            self.model.train(was_training)
        maps = [(name, out[0]) for name, out in steps if out.ndim == 4]
        probs = softmax(steps[-1][1], axis=1)[0]
        prediction = int(np.argmax(probs))
        true = None if self.labels is None else int(self.labels[index])

        ncols = max([m.shape[0] for _, m in maps], default=1)
        fig = plt.figure(figsize=(1.05 * ncols + 0.6, 2.4 + 1.2 * len(maps)),
                         layout="constrained")
        top, bottom = fig.subfigures(2, 1, height_ratios=[2.2, 1.2 * len(maps)])
        ax_in, ax_p = top.subplots(1, 2, width_ratios=[1, 2.6])
        ax_in.imshow(np.asarray(x[0]).reshape(x.shape[-2:]), cmap=DIGIT_CMAP)
        ax_in.set_xticks([])
        ax_in.set_yticks([])
        verdict = "" if true is None else (" (correct)" if true == prediction else " (wrong)")
        ax_in.set_title(f"test digit #{index}" + ("" if true is None else f", label {true}"),
                        fontsize=9)
        plot_probabilities(probs, ax=ax_p, true_label=true)
        ax_p.set_title(f"prediction {prediction}{verdict}, p = {probs[prediction]:.3f}",
                       fontsize=9, pad=18)
        if maps:
            rows = bottom.subfigures(len(maps), 1) if len(maps) > 1 else [bottom]
            for row, (name, m) in zip(rows, maps, strict=True):
                limit = float(np.abs(m).max()) or 1.0
                axes = row.subplots(1, ncols, squeeze=False)[0]
                for c, ax in enumerate(axes):
                    ax.set_xticks([])
                    ax.set_yticks([])
                    if c < m.shape[0]:
                        ax.imshow(m[c], cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit,
                                  interpolation="nearest")
                    else:
                        ax.set_axis_off()
                h, w = m.shape[1:]
                row.suptitle(f"after layer {name}: {m.shape[0]} maps of {h}x{w}",
                             fontsize=9, x=0.02, ha="left")
        self.data.update(index=index, activations=[m for _, m in maps],
                         names=[name for name, _ in maps], probs=probs,
                         prediction=prediction, label=true)
        return fig


def digit_inspector(model, images, labels=None, index: int = 0):
    """Pick a digit and see it pass through the network: feature maps and probabilities.

    Parameters
    ----------
    model : Sequential
        A trained network, e.g. ``cnnlib.seed_network()`` after ``fit``.
    images : ndarray, shape (N, 1, H, W)
        The digits to choose from (prepared as for training, e.g. ``data.x_test``).
    labels : ndarray of int, shape (N,), optional
        True classes; the chart then marks a wrong prediction in red.
    index : int, default 0
        The digit shown first.

    Returns
    -------
    FigureWidget
        ``controls["index"]`` (IntSlider 0..N-1). ``data["index"]``, ``data["activations"]``
        (list of (C, H, W) arrays: the output of every layer with image-shaped output, i.e.
        each convolution, ReLU and pooling layer), ``data["names"]``, ``data["probs"]`` (K,),
        ``data["prediction"]`` and ``data["label"]``.
    """

    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got shape {images.shape}; "
                         "use data.x_test or images.reshape(-1, 1, 28, 28).")
    if len(images) == 0:
        raise ValueError("images is empty; pass at least one image.")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(images),):
            raise ValueError(f"labels must have shape ({len(images)},) to match the images, "
                             f"got shape {labels.shape}.")
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) \
            or not 0 <= index < len(images):
        raise ValueError(f"index must be an integer from 0 to {len(images) - 1}, "
                         f"got {index!r}.")
    return _DigitInspector(model, images, labels, int(index))
