"""Widgets for Chapter 5, training.

Both widgets depend on a trained model, so every state they can show is computed here, when
the notebook runs; the page (or a trait set from Python) only selects among them.
"""

from __future__ import annotations

import numpy as np
import traitlets

from cnnlib import (
    softmax,
)

from .base import BookWidget, pack
from .fully_connected import dequantise_signed, quantise_signed

__all__ = ["FilterEvolution", "DigitInspector", "filter_evolution", "digit_inspector",
           "FILTER_VIEWS", "MAX_DIGITS"]

#: The two views of :func:`filter_evolution`.
FILTER_VIEWS = ("weights", "change since start")
#: How many digits :func:`digit_inspector` prepares at most (each costs ~23 kB of page).
MAX_DIGITS = 64


def _conv_weight_keys(state: dict) -> list[str]:
    """Names of the 4-D (convolution) weights of a state_dict, in layer order."""
    return [k for k, v in state.items() if k.endswith("weight") and np.ndim(v) == 4]


def _relative_change(w: np.ndarray, w0: np.ndarray) -> float:
    return float(np.linalg.norm(w - w0) / (np.linalg.norm(w0) or 1.0))


class FilterEvolution(BookWidget):
    """Convolution filters of one layer after a chosen epoch (see :func:`filter_evolution`)."""

    _js = "filter_evolution.js"
    _inputs = ("epoch", "layer", "show")
    epoch = traitlets.Int(0).tag(sync=True)
    layer = traitlets.Unicode().tag(sync=True)
    show = traitlets.Unicode(FILTER_VIEWS[0]).tag(sync=True)
    epochs = traitlets.Int(0).tag(sync=True)
    layers = traitlets.List(traitlets.Unicode()).tag(sync=True)
    views = traitlets.List(traitlets.Unicode()).tag(sync=True)
    states = traitlets.Dict().tag(sync=True)   # layer -> {"weights", "change"} float32 packs
    changes = traitlets.Dict().tag(sync=True)  # layer -> [||W_e - W_0|| / ||W_0||, ...]

    def __init__(self, snapshots: list[dict], layer: str, epoch: int, show: str) -> None:
        keys = _conv_weight_keys(snapshots[0])
        self._weights = {k: np.stack([np.asarray(s[k], dtype=np.float32) for s in snapshots])
                         for k in keys}
        self._change = {k: w - w[:1] for k, w in self._weights.items()}
        changes = {k: [_relative_change(wi.astype(np.float64), w[0].astype(np.float64))
                       for wi in w] for k, w in self._weights.items()}
        super().__init__(epochs=len(snapshots) - 1, layers=keys, views=list(FILTER_VIEWS),
                         states={k: {"weights": pack(self._weights[k]),
                                     "change": pack(self._change[k])} for k in keys},
                         changes=changes, layer=layer, epoch=epoch, show=show)

    @traitlets.validate("epoch")
    def _valid_epoch(self, proposal):
        _check_epoch(proposal["value"], self.epochs, traitlets.TraitError)
        return proposal["value"]

    @traitlets.validate("layer")
    def _valid_layer(self, proposal):
        _check_layer(proposal["value"], self.layers or [proposal["value"]],
                     traitlets.TraitError)
        return proposal["value"]

    @traitlets.validate("show")
    def _valid_show(self, proposal):
        _check_show(proposal["value"], traitlets.TraitError)
        return proposal["value"]

    def compute(self) -> dict:
        """The chosen layer's weights after the chosen epoch, and the array drawn."""
        weight = self._weights[self.layer][self.epoch]
        shown = weight if self.show == FILTER_VIEWS[0] else self._change[self.layer][self.epoch]
        return {"epoch": self.epoch, "layer": self.layer, "show": self.show,
                "weight": weight, "shown": shown,
                "change": self.changes[self.layer][self.epoch]}


def _check_epoch(epoch, last: int, error=ValueError) -> None:
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) \
            or not 0 <= epoch <= last:
        raise error(f"epoch must be an integer from 0 to {last}, got {epoch!r}.")


def _check_layer(layer, keys, error=ValueError) -> None:
    if layer not in keys:
        raise error(f"layer {layer!r} is not a convolution weight of the snapshots; "
                    f"choose one of {list(keys)}.")


def _check_show(show, error=ValueError) -> None:
    if show not in FILTER_VIEWS:
        raise error(f"show must be one of {list(FILTER_VIEWS)}, got {show!r}.")


def filter_evolution(snapshots, layer: str = "0.weight", epoch: int | None = None,
                     show: str = "weights") -> FilterEvolution:
    """An epoch slider showing how a convolution layer's filters change during training.

    Every (layer, epoch, view) state is packed here, in float32 as the snapshots hold it; the
    page only switches between them.

    Parameters
    ----------
    snapshots : list of dict
        ``History.snapshots`` from ``cnnlib.fit(..., snapshots=True)``: state_dicts before
        training (index 0) and after every epoch.
    layer : str, default "0.weight"
        The convolution weight shown first, a key of the state_dicts (``"2.weight"`` for the
        second convolution of the seed network); trait ``layer``, a drop-down on the page.
    epoch : int, optional
        Epoch shown first (trait ``epoch``, a slider); defaults to the last one.
    show : {"weights", "change since start"}
        Draw the weights after the epoch, or what training added to them, ``W_e - W_0``
        (trait ``show``, two radio buttons).

    Returns
    -------
    FilterEvolution
        ``data["epoch"]``, ``data["layer"]``, ``data["show"]``, ``data["weight"]`` (the
        weights after that epoch), ``data["shown"]`` (the array drawn: the weights or
        ``W_e - W_0``) and ``data["change"]`` (``||W_e - W_0|| / ||W_0||``).

    Shape
    -----
    ``snapshots[e][layer]``: (out_channels, in_channels, k, k).
    """
    snapshots = list(snapshots or [])
    if not snapshots or not all(isinstance(s, dict) for s in snapshots):
        raise ValueError("snapshots must be a non-empty list of state_dicts; train with "
                         "cnnlib.fit(..., snapshots=True) and pass history.snapshots.")
    _check_layer(layer, _conv_weight_keys(snapshots[0]))
    last = len(snapshots) - 1
    epoch = last if epoch is None else epoch
    _check_epoch(epoch, last)
    _check_show(show)
    return FilterEvolution(snapshots, layer, int(epoch), show)


class DigitInspector(BookWidget):
    """A few digits through every layer of a model (see :func:`digit_inspector`)."""

    _js = "digit_inspector.js"
    _inputs = ("index",)
    index = traitlets.Int(0).tag(sync=True)
    names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    labels = traitlets.List().tag(sync=True)        # int per digit, or empty
    predictions = traitlets.List(traitlets.Int()).tag(sync=True)
    probs = traitlets.Dict().tag(sync=True)         # float32 (N, K), exact
    images = traitlets.Dict().tag(sync=True)        # uint8 (N, H, W), 0..255 between lo, hi
    image_range = traitlets.Dict().tag(sync=True)   # float32 (N, 2): lo, hi
    layer_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    maps = traitlets.List().tag(sync=True)          # per layer: uint8 (N, C, H, W)
    map_scales = traitlets.Dict().tag(sync=True)    # float32 (N, layers)

    def __init__(self, model, images: np.ndarray, labels, names: list[str], index: int) -> None:
        with model.evaluating():
            steps = model.activations(images)
        outs = [(name, np.asarray(out)) for name, out in steps if np.ndim(out) == 4]
        self._activations = [out for _, out in outs]
        self._probs = softmax(np.asarray(steps[-1][1], dtype=np.float64), axis=1)
        n = len(images)
        self._labels = None if labels is None else [int(v) for v in labels]
        quantised, scales = [], []
        for out in self._activations:
            q, s = quantise_signed(out)
            quantised.append(q)
            scales.append(s)
        self._q, self._scales = quantised, np.stack(scales, axis=1) if scales else np.zeros((n, 0))
        grey = images.reshape(n, *images.shape[-2:]).astype(np.float64)
        lo, hi = grey.min(axis=(1, 2)), grey.max(axis=(1, 2))
        span = np.where(hi > lo, hi - lo, 1.0)
        pixels = np.rint((grey - lo[:, None, None]) / span[:, None, None] * 255).astype(np.uint8)
        super().__init__(
            names=list(names), labels=[] if self._labels is None else self._labels,
            predictions=[int(v) for v in self._probs.argmax(axis=1)],
            probs=pack(self._probs.astype(np.float32)), images=pack(pixels, "uint8"),
            image_range=pack(np.stack([lo, hi], axis=1)),
            layer_names=[name for name, _ in outs],
            maps=[pack(q, "uint8") for q in quantised], map_scales=pack(self._scales),
            index=index)

    @traitlets.validate("index")
    def _valid_index(self, proposal):
        _check_index(proposal["value"], len(self.names) or 1, traitlets.TraitError)
        return proposal["value"]

    def compute(self) -> dict:
        """The chosen digit's exact activations and probabilities, and the maps drawn."""
        i = self.index
        probs = self._probs[i]
        return {
            "index": i, "name": self.names[i],
            "activations": [a[i] for a in self._activations],
            "drawn": [dequantise_signed(q[i], self._scales[i, k])
                      for k, q in enumerate(self._q)],
            "names": list(self.layer_names), "probs": probs,
            "prediction": int(np.argmax(probs)),
            "label": None if self._labels is None else self._labels[i]}


def _check_index(index, n: int, error=ValueError) -> None:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) \
            or not 0 <= index < n:
        raise error(f"index must be an integer from 0 to {n - 1}, got {index!r}.")


def digit_inspector(model, images, labels=None, index: int = 0,
                    names=None) -> DigitInspector:
    """Pick one of a few digits and see it pass through the network.

    Every layer's feature maps and the probabilities are computed here for each digit
    (maps sent to the page as uint8 with one scale per digit and layer, probabilities as
    exact float32); the page (or ``w.index = 3``) only selects.

    Parameters
    ----------
    model : Sequential
        A trained network, e.g. ``cnnlib.seed_network()`` after ``fit``.
    images : ndarray, shape (N, 1, H, W)
        The digits to choose from, at most :data:`MAX_DIGITS` (prepared as for training,
        e.g. ``data.x_test[picked]``).
    labels : ndarray of int, shape (N,), optional
        True classes; the page then marks a wrong prediction.
    index : int, default 0
        The digit shown first (trait ``index``, a drop-down on the page).
    names : sequence of str, optional
        One name per digit for the drop-down (e.g. ``"test digit #247"``); ``"digit i"``
        when omitted.

    Returns
    -------
    DigitInspector
        ``data["index"]``, ``data["activations"]`` (list of exact (C, H, W) arrays: the
        output of every layer with image-shaped output, i.e. each convolution, ReLU and
        pooling layer), ``data["drawn"]`` (the same, as the page draws them after uint8
        quantisation), ``data["names"]``, ``data["probs"]`` (K,), ``data["prediction"]``
        and ``data["label"]``.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got shape {images.shape}; "
                         "use data.x_test[:16] or images.reshape(-1, 1, 28, 28).")
    if len(images) == 0:
        raise ValueError("images is empty; pass at least one image.")
    if len(images) > MAX_DIGITS:
        raise ValueError(f"images holds {len(images)} digits; the page carries every digit's "
                         f"feature maps, so pass at most {MAX_DIGITS}, e.g. "
                         "data.x_test[picked] for a few chosen indices.")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(images),):
            raise ValueError(f"labels must have shape ({len(images)},) to match the images, "
                             f"got shape {labels.shape}.")
    if names is None:
        names = [f"digit {i}" for i in range(len(images))]
    names = [str(v) for v in names]
    if len(names) != len(images):
        raise ValueError(f"names must have one entry per digit: expected {len(images)}, "
                         f"got {len(names)}.")
    _check_index(index, len(images))
    return DigitInspector(model, images, labels, names, int(index))
