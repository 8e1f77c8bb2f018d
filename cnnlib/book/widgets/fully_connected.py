"""Widgets for Chapter 3, fully-connected layers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import traitlets
from matplotlib.patches import ConnectionPatch, Rectangle

from cnnlib import (
    Linear,
)

from ..plots import (
    DIVERGING_CMAP,
    make_figure,
    no_ticks,
    one_image_maps,
    symmetric_limit,
)
from .base import BookWidget, pack

__all__ = ["show_flatten", "plot_decision_boundaries", "HiddenUnitExplorer", "hidden_unit_explorer",
           "quantise_signed", "dequantise_signed", "VIEWS"]


def show_flatten(maps, highlight: tuple[int, int, int] = (3, 4, 7), fig=None):
    """Draw how ``Flatten`` lays C feature maps of H x W out as one vector of C*H*W numbers.

    Top: the maps, each framed in its own colour, with the entry ``highlight = (c, i, j)``
    boxed. Bottom: the flattened vector; channel ``c`` fills positions ``c*H*W`` to
    ``(c+1)*H*W - 1`` (same colours), row after row, and the highlighted entry sits at
    ``c*H*W + i*W + j``.

    Parameters
    ----------
    maps : array_like
        The feature maps of one image.
    highlight : (int, int, int), default (3, 4, 7)
        Channel, row and column of the entry to follow through the reshape.
    fig : Figure, optional
        Figure to draw into (it is cleared first). A new one is made when omitted.

    Returns
    -------
    Figure

    Shape
    -----
    - maps: ``(C, H, W)`` or ``(1, C, H, W)``.
    """
    a = one_image_maps(maps)
    c, h, w = a.shape
    ci, i, j = (int(v) for v in highlight)
    if not (0 <= ci < c and 0 <= i < h and 0 <= j < w):
        raise ValueError(f"highlight {tuple(highlight)} lies outside maps of shape {a.shape}.")
    size = h * w
    flat = a.reshape(-1)
    pos = ci * size + i * w + j
    colour = [plt.get_cmap("tab10")(k % 10) for k in range(c)]

    fig = make_figure(fig, (9.5, 4.6))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 1.2])
    limit = symmetric_limit(a)
    for k, ax in enumerate(top.subplots(1, c, squeeze=False)[0]):
        ax.imshow(a[k], cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
        no_ticks(ax, frame=colour[k])
        for spine in ax.spines.values():
            spine.set_linewidth(2.5)
        ax.set_title(f"channel {k}", fontsize=8, color=colour[k], pad=3)
    source = top.axes[ci]
    for colour_box, width in (("white", 3.5), ("black", 1.8)):
        source.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec=colour_box,
                                   lw=width))
    top.suptitle(f"{c} feature maps of {h}×{w}: shape {a.shape}", fontsize=10)

    ax = bottom.subplots()
    for k in range(c):
        idx = np.arange(k * size, (k + 1) * size)
        ax.axvspan(k * size - 0.5, (k + 1) * size - 0.5, color=colour[k], alpha=0.08, lw=0)
        ax.plot(idx, flat[idx], color=colour[k], lw=0.9)
    low, high = float(np.min(flat)), float(np.max(flat))
    ax.set_ylim(low - 0.05 * (high - low or 1), high + 0.3 * (high - low or 1))
    ax.plot([pos], [flat[pos]], "o", ms=9, mfc="none", mec="black", mew=1.5)
    right = pos < c * size * 0.7
    ax.annotate(f"x[{pos}] = maps[{ci}, {i}, {j}]", (pos, flat[pos]),
                xytext=(14 if right else -14, 6), textcoords="offset points", fontsize=9,
                ha="left" if right else "right", va="bottom",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    fig.add_artist(ConnectionPatch(xyA=(j, i + 0.5), coordsA=source.transData,
                                   xyB=(pos, flat[pos]), coordsB=ax.transData,
                                   arrowstyle="-|>", color="black", lw=1, alpha=0.7,
                                   shrinkA=0, shrinkB=6))
    ax.set_xlim(-0.5, c * size - 0.5)
    ax.set_xticks(np.arange(0, c * size + 1, size))
    ax.set_xlabel(f"position in the flattened vector: channel × {size} + row × {w} + column")
    ax.set_ylabel("value")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"one vector of {c * size} numbers: shape ({c * size},)", fontsize=10)
    return fig


def plot_decision_boundaries(models, x, y, titles=None, fig=None, resolution: int = 200):
    """Draw what each model predicts over the plane, with the 2-D training points on top.

    Parameters
    ----------
    models : sequence of Sequential
        Classifiers of 2-D points (anything with ``predict_proba``).
    x : array_like
        The points.
    y : array_like of int
        Their classes, 0 or 1.
    titles : sequence of str, optional
        One title per model; the training accuracy is added below it.
    fig : Figure, optional
        Figure to draw into (it is cleared first). A new one is made when omitted.
    resolution : int, default 200
        Grid points per axis.

    Returns
    -------
    Figure
        Shaded by the predicted probability of class 1; the black line is where it is 0.5.

    Shape
    -----
    - x: ``(N, 2)``; y: ``(N,)``.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or x.shape[1] != 2 or y.shape != (len(x),):
        raise ValueError(f"x must be (N, 2) points and y (N,) classes, received shapes "
                         f"{x.shape} and {y.shape}.")
    models = list(models)
    if titles is None:
        titles = [f"model {k}" for k in range(len(models))]
    if len(titles) != len(models):
        raise ValueError(f"titles must have one entry per model: expected {len(models)}, "
                         f"received {len(titles)}.")
    lo, hi = x.min(axis=0) - 0.4, x.max(axis=0) + 0.4
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([g0.ravel(), g1.ravel()]).astype(x.dtype)

    fig = make_figure(fig, (3.2 * len(models), 3.4))
    axes = fig.subplots(1, len(models), squeeze=False)[0]
    for ax, model, title in zip(axes, models, titles, strict=True):
        p1 = model.predict_proba(grid)[:, 1].reshape(g0.shape)
        ax.contourf(g0, g1, p1, levels=np.linspace(0, 1, 11), cmap=DIVERGING_CMAP, alpha=0.3)
        if p1.min() < 0.5 < p1.max():
            ax.contour(g0, g1, p1, levels=[0.5], colors="black", linewidths=1.2)
        for cls, colour in ((0, "tab:blue"), (1, "tab:red")):
            pts = x[y == cls]
            ax.scatter(pts[:, 0], pts[:, 1], s=9, color=colour, edgecolors="white",
                       linewidths=0.3, label=f"class {cls}")
        acc = float(np.mean(model.predict(x) == y))
        ax.set_title(f"{title}\ntraining accuracy {acc:.1%}", fontsize=10)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].legend(loc="lower left", fontsize=8, framealpha=0.8)
    return fig


def _dense_weight(model, what: str):
    """The weight (units, features) of the first dense layer of ``model``."""

    if isinstance(model, np.ndarray):
        weight = model
    elif isinstance(model, Linear):
        weight = model.params["weight"]
    else:
        dense = [layer for layer in getattr(model, "layers", []) if isinstance(layer, Linear)]
        if not dense:
            raise ValueError(f"{what} must be a Sequential with a Linear layer, a Linear layer "
                             f"or a weight array; received {type(model).__name__}.")
        weight = dense[0].params["weight"]
    if weight.ndim != 2:
        raise ValueError(f"{what}: the dense weight must be 2-D (units, features), received "
                         f"shape {weight.shape}.")
    return np.array(weight, dtype=np.float64)


#: The rows the explorer can draw: (value of ``view``, label on the page).
VIEWS = (("all", "fresh, trained and the change"), ("fresh", "fresh (random init)"),
         ("trained", "trained"), ("change", "change: trained − fresh"))
_ROWS = ("fresh", "trained", "change")


def quantise_signed(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each image of a stack as uint8 around 128 with its own scale (its largest magnitude).

    ``value ≈ (q - 128) * scale / 127``; the error is at most ``scale / 254``.

    Shape
    -----
    - stack: ``(N, ...)`` -> q ``(N, ...)`` uint8 and scale ``(N,)`` float32.
    """
    a = np.asarray(stack, dtype=np.float64)
    flat = a.reshape(len(a), -1)
    scale = np.abs(flat).max(axis=1).astype(np.float32) if flat.size else np.zeros(len(a))
    safe = np.where(scale > 0, scale, 1.0).astype(np.float64)
    q = np.rint(flat / safe[:, None] * 127.0) + 128.0
    return q.astype(np.uint8).reshape(a.shape), scale.astype(np.float32)


def dequantise_signed(q: np.ndarray, scale) -> np.ndarray:
    """Inverse of :func:`quantise_signed` for one image (what the page draws), float64."""
    return (np.asarray(q, dtype=np.float64) - 128.0) * float(scale) / 127.0


class HiddenUnitExplorer(BookWidget):
    """The incoming weights of one hidden unit, as the feature maps they read from.

    Every unit's weights (fresh, trained and their change) are computed when the widget is
    made and sent to the page as uint8 images with one scale each; the page selects among
    them. See :func:`hidden_unit_explorer`.
    """

    _js = "hidden_unit_explorer.js"
    _inputs = ("unit", "view")
    unit = traitlets.Int(0).tag(sync=True)
    view = traitlets.Unicode("all").tag(sync=True)
    units = traitlets.Int(1).tag(sync=True)
    map_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    views = traitlets.List().tag(sync=True)
    weights = traitlets.Dict().tag(sync=True)   # packed uint8 (3, units, C, H, W)
    scales = traitlets.Dict().tag(sync=True)    # packed float32 (3, units)

    def __init__(self, fresh, trained, unit: int = 0, view: str = "all",
                 map_shape: tuple[int, int, int] = (8, 10, 10)) -> None:
        self.fresh = _dense_weight(fresh, "models['fresh']")
        self.trained = _dense_weight(trained, "models['trained']")
        if self.fresh.shape != self.trained.shape:
            raise ValueError(f"the fresh and trained dense weights differ in shape: "
                             f"{self.fresh.shape} and {self.trained.shape}.")
        units, features = self.fresh.shape
        shape = tuple(int(v) for v in map_shape)
        if len(shape) != 3 or int(np.prod(shape)) != features:
            raise ValueError(f"map_shape {shape} holds {int(np.prod(shape))} numbers, but "
                             f"each unit has {features} incoming weights; expected (C, H, W) "
                             f"with C*H*W = {features}.")
        stacks = np.stack([self.fresh, self.trained, self.trained - self.fresh])
        q, scale = quantise_signed(stacks.reshape(3 * units, *shape))
        self._q, self._scale = q.reshape(3, units, *shape), scale.reshape(3, units)
        super().__init__(units=units, map_shape=list(shape),
                         views=[list(v) for v in VIEWS],
                         weights=pack(self._q, "uint8"), scales=pack(self._scale, "float32"),
                         unit=unit, view=view)

    @traitlets.validate("unit")
    def _check_unit(self, proposal):
        unit = proposal["value"]
        if not 0 <= unit < self.units:
            raise traitlets.TraitError(f"unit must be in 0..{self.units - 1}, received {unit}.")
        return unit

    @traitlets.validate("view")
    def _check_view(self, proposal):
        names = [v for v, _ in VIEWS]
        if proposal["value"] not in names:
            raise traitlets.TraitError(f"view must be one of {names}, received "
                                       f"{proposal['value']!r}.")
        return proposal["value"]

    def compute(self) -> dict:
        """The exact weights of the chosen unit, and the quantised rows the page draws."""
        shape = tuple(self.map_shape)
        fresh = self.fresh[self.unit].reshape(shape)
        trained = self.trained[self.unit].reshape(shape)
        rows = list(_ROWS) if self.view == "all" else [self.view]
        drawn = {name: dequantise_signed(self._q[k, self.unit], self._scale[k, self.unit])
                 for k, name in enumerate(_ROWS) if name in rows}
        return {"unit": self.unit, "view": self.view, "weights_fresh": fresh,
                "weights_trained": trained, "change": trained - fresh,
                "rows": rows, "drawn": drawn}


def hidden_unit_explorer(models, unit: int = 0, view: str = "all",
                         map_shape: tuple[int, int, int] = (8, 10, 10)) -> HiddenUnitExplorer:
    """Pick a hidden unit of the dense layer and see its incoming weights as feature maps.

    Each of the 128 units of ``Linear(800, 128)`` multiplies the 800 flattened numbers by
    800 weights; reshaped like the input, ``(8, 10, 10)``, the weights show which places of
    which feature map excite (orange) or inhibit (purple) the unit. Every unit is prepared
    here; the page (or ``w.unit = 5`` in a live notebook) only selects.

    Parameters
    ----------
    models : dict or sequence
        ``{"fresh": ..., "trained": ...}`` or ``(fresh, trained)``; each a Sequential (its
        first Linear layer is used), a Linear layer, or a weight array.
    unit : int, default 0
        The unit shown first (trait ``unit``; a slider on the page).
    view : {"all", "fresh", "trained", "change"}, default "all"
        Which rows to draw first (trait ``view``; a drop-down on the page).
    map_shape : (int, int, int), default (8, 10, 10)
        The shape the flattened input had.

    Returns
    -------
    HiddenUnitExplorer
        ``data``: ``"unit"``, ``"view"``, the exact ``(C, H, W)`` arrays
        ``"weights_fresh"``, ``"weights_trained"``, ``"change"``; ``"rows"`` drawn and
        ``"drawn"`` (row name -> the uint8-quantised array the page draws).

    Shape
    -----
    - dense weight: ``(units, C*H*W)``.
    """
    if isinstance(models, dict):
        missing = {"fresh", "trained"} - set(models)
        if missing:
            raise ValueError(f"models needs the keys 'fresh' and 'trained'; missing "
                             f"{sorted(missing)}.")
        fresh, trained = models["fresh"], models["trained"]
    else:
        models = list(models)
        if len(models) != 2:
            raise ValueError(f"models must be a dict with 'fresh' and 'trained' or a pair "
                             f"(fresh, trained); received {len(models)} models.")
        fresh, trained = models
    units = _dense_weight(fresh, "models['fresh']").shape[0]
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < units:
        raise ValueError(f"unit must be in 0..{units - 1}, received {unit!r}.")
    names = [v for v, _ in VIEWS]
    if view not in names:
        raise ValueError(f"view must be one of {names}, received {view!r}.")
    return HiddenUnitExplorer(fresh, trained, unit=int(unit), view=view, map_shape=map_shape)
