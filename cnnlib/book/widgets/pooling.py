"""Widgets for Chapter 2, pooling."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from cnnlib import (
    AvgPool2d,
    maxpool2d,
)

from ..plots import (
    DIGIT_CMAP,
)
from .base import (
    PRESET_KERNELS,
    FigureWidget,
    as_image_stack,
    as_labels_or_none,
    check_index,
    feature_map,
    outline,
    plain_axes,
)

__all__ = ["PoolingExplorer", "pooling_explorer"]


_POOL_MODES = ("max", "average")


def _pool2d(a: np.ndarray, size: int, stride: int, mode: str) -> np.ndarray:
    """Pool one 2-D map with cnnlib: (H, W) -> (OH, OW)."""
    x = a[None, None]
    if mode == "max":
        return maxpool2d(x, size, stride)[0, 0]
    return AvgPool2d(size, stride).eval().forward(x)[0, 0]


class PoolingExplorer(FigureWidget):
    """Max or average pooling of a digit's feature map; see :func:`pooling_explorer`."""

    def __init__(self, images, index: int = 0, kernel="edge", *, labels=None, size: int = 2,
                 stride: int | None = None, mode: str = "max", dpi: int = 90) -> None:
        self.images = as_image_stack(images)
        n, h, w = self.images.shape
        if min(h, w) < 7:
            raise ValueError(f"images must be at least 7x7 pixels, got {h}x{w}.")
        self.labels = as_labels_or_none(labels, n)
        index = check_index(index, n)
        if not isinstance(kernel, str) or kernel not in PRESET_KERNELS:
            raise ValueError(f"kernel must be one of {list(PRESET_KERNELS)}, got {kernel!r}.")
        if size not in (1, 2, 3, 4):
            raise ValueError(f"size must be 1, 2, 3 or 4, got {size!r}.")
        if stride is not None and stride not in (1, 2, 3, 4):
            raise ValueError(f"stride must be 1, 2, 3, 4 or None (= size), got {stride!r}.")
        if mode not in _POOL_MODES:
            raise ValueError(f"mode must be 'max' or 'average', got {mode!r}.")
        self._syncing = False
        tied = stride is None
        controls = {
            "index": widgets.IntSlider(value=index, min=0, max=n - 1, description="digit"),
            "kernel": widgets.Dropdown(options=list(PRESET_KERNELS), value=kernel,
                                       description="kernel"),
            "size": widgets.IntSlider(value=size, min=1, max=4, description="pool size"),
            "stride": widgets.IntSlider(value=size if tied else stride, min=1, max=4,
                                        description="stride", disabled=tied),
            "tied": widgets.Checkbox(value=tied, description="stride = size", indent=False,
                                     layout=widgets.Layout(width="auto")),
            "mode": widgets.ToggleButtons(options=list(_POOL_MODES), value=mode,
                                          tooltips=["keep the largest value of each window",
                                                    "keep the mean of each window"],
                                          style={"button_width": "6em"}),
        }
        self.info = widgets.HTML()
        wrap = widgets.Layout(flex_flow="row wrap", align_items="center")
        rows = [
            widgets.HBox([controls["index"], controls["kernel"]], layout=wrap),
            widgets.HBox([controls["size"], controls["stride"]], layout=wrap),
            widgets.HBox([widgets.Label("pooling", layout=widgets.Layout(margin="0 1em 0 3.4em")),
                          controls["mode"], controls["tied"]], layout=wrap),
            self.info,
        ]
        super().__init__(controls, layout_rows=rows, dpi=dpi)

    def _on_change(self, change) -> None:
        if self._syncing:
            return
        c = self.controls
        self._syncing = True
        try:
            c["stride"].disabled = c["tied"].value
            if c["tied"].value:
                c["stride"].value = c["size"].value
        finally:
            self._syncing = False
        self.update()

    def draw(self):
        c = self.controls
        index, size, stride, mode = (c["index"].value, c["size"].value, c["stride"].value,
                                     c["mode"].value)
        image = self.images[index]
        fmap = np.maximum(feature_map(image, PRESET_KERNELS[c["kernel"].value]), 0.0)
        pooled = _pool2d(fmap, size, stride, mode)
        oh, ow = pooled.shape
        elements = int(pooled.size)
        self.data = {"image": image, "feature_map": fmap, "pooled": pooled,
                     "output_shape": (oh, ow), "elements": elements, "index": index,
                     "size": size, "stride": stride, "mode": mode}
        fh, fw = fmap.shape
        ratio = fmap.size / elements
        self.info.value = (
            f"<b>{mode} pooling {size}×{size}, stride {stride}</b>: output shape ({oh}, {ow}),"
            f" ⌊({fh} − {size}) / {stride}⌋ + 1 = {oh}; &nbsp; <b>{elements}</b> values instead"
            f" of {fmap.size} ({ratio:.2f}× fewer)")

        # A fixed grid (no constrained layout): redrawing stays quick while a slider moves.
        fig = plt.figure(figsize=(9.6, 3.5), layout="none")
        ax_img, ax_map, ax_pool = fig.subplots(1, 3, gridspec_kw={
            "width_ratios": [0.8, 1, 1], "left": 0.02, "right": 0.95, "top": 0.82,
            "bottom": 0.04, "wspace": 0.2})
        ax_img.imshow(image, cmap=DIGIT_CMAP, interpolation="nearest")
        label = f" (a {self.labels[index]})" if self.labels is not None else ""
        ax_img.set_title(f"test digit {index}{label}", fontsize=10)
        plain_axes(ax_img)
        limit = float(fmap.max()) or 1.0  # ReLU output: white is 0, red positive
        ax_map.imshow(fmap, cmap="Reds", vmin=0.0, vmax=limit, interpolation="nearest")
        self._draw_windows(ax_map, fmap.shape, size, stride, (oh, ow))
        ax_map.set_title(f"{c['kernel'].value} + ReLU: {fh}×{fw} = {fmap.size} values",
                         fontsize=10)
        plain_axes(ax_map)
        im = ax_pool.imshow(pooled, cmap="Reds", vmin=0.0, vmax=limit, interpolation="nearest")
        outline(ax_pool, 0, 0, 1, 1)
        fig.colorbar(im, ax=ax_pool, fraction=0.046, pad=0.03)
        ax_pool.set_title(f"{mode} pooled: {oh}×{ow} = {elements} values", fontsize=10)
        plain_axes(ax_pool)
        fig.suptitle(f"{mode} pooling, window {size}×{size}, stride {stride}: "
                     f"{ratio:.2f}× fewer values", fontsize=11)
        return fig

    @staticmethod
    def _draw_windows(ax, shape, size: int, stride: int, out_shape) -> None:
        """Tile lines (when windows tile), the first window and the next, and what no window
        covers (hatched)."""
        (fh, fw), (oh, ow) = shape, out_shape
        if stride == size and size > 1:
            for r in range(1, oh):
                ax.axhline(r * size - 0.5, xmax=(ow * size) / fw, color="0.6", linewidth=0.6)
            for s in range(1, ow):
                ax.axvline(s * size - 0.5, ymin=1 - (oh * size) / fh, color="0.6",
                           linewidth=0.6)
        outline(ax, 0, 0, size, size)
        if ow > 1:
            outline(ax, 0, stride, size, size, linestyle="--", linewidth=1.4)
        covered_h, covered_w = (oh - 1) * stride + size, (ow - 1) * stride + size
        hatch = {"fill": False, "hatch": "///", "edgecolor": "0.5", "linewidth": 0}
        if covered_h < fh:
            ax.add_patch(Rectangle((-0.5, covered_h - 0.5), fw, fh - covered_h, **hatch))
        if covered_w < fw:
            ax.add_patch(Rectangle((covered_w - 0.5, -0.5), fw - covered_w, fh, **hatch))


def pooling_explorer(images, index: int = 0, kernel="edge", *, labels=None, size: int = 2,
                     stride: int | None = None, mode: str = "max",
                     dpi: int = 90) -> PoolingExplorer:
    """Pool the feature map of a digit with a window and stride of your choice, live.

    The digit is convolved with a kernel from :data:`PRESET_KERNELS` (stride 1, no padding)
    and passed through ReLU; the feature map is then max- or average-pooled. Sliders set the
    pool size (1-4) and the stride (1-4; while "stride = size" is ticked, the stride follows
    the size, as in ``MaxPool2d``); a toggle switches max and average. The figure shows the
    digit, the feature map with the first window (solid), the next one (dashed) and any rows
    or columns no window covers (hatched), and the pooled output on the same colour scale.

    Parameters
    ----------
    images : array_like
        Digits, uint8 pixels (scaled to [0, 1]) or floats.
    index : int, default 0
        The digit shown first.
    kernel : str, default "edge"
        A name from :data:`PRESET_KERNELS`.
    labels : array_like of int, optional
        The digit of each image, named in the title.
    size : int, default 2
    stride : int, optional
        Defaults to ``size``.
    mode : {"max", "average"}, default "max"

    Returns
    -------
    PoolingExplorer
        ``widget.data`` holds ``"feature_map"``, ``"pooled"``, ``"output_shape"`` and
        ``"elements"`` (the number of pooled values), and the control values.

    Shape
    -----
    - feature map ``(H - 2, W - 2)``; pooled ``(OH, OW)``, ``OH = (H - 2 - size) // stride + 1``.
    """
    return PoolingExplorer(images, index, kernel, labels=labels, size=size, stride=stride,
                           mode=mode, dpi=dpi)
