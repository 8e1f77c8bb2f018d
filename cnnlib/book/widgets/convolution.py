"""Widgets for Chapter 1, convolution."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from cnnlib import (
    conv_output_size,
)

from ..plots import (
    show_matrix,
)
from .base import (
    CUSTOM,
    PRESET_KERNELS,
    WINDOW_COLOUR,
    FigureWidget,
    as_image,
    as_image_stack,
    as_labels_or_none,
    check_index,
    draw_padded_input,
    feature_map,
    outline,
    pad2d,
    plain_axes,
    resolve_kernel,
    signed_imshow,
)

__all__ = ["KernelExplorer", "kernel_explorer", "WindowExplainer", "window_explainer"]


class KernelExplorer(FigureWidget):
    """A 3x3 kernel slid over a digit, with stride and padding; see :func:`kernel_explorer`."""

    def __init__(self, images, labels=None, index: int = 0, kernel="edge", stride: int = 1,
                 padding: int = 0, dpi: int = 90) -> None:
        self.images = as_image_stack(images)
        n, h, w = self.images.shape
        if min(h, w) < 3:
            raise ValueError(f"images must be at least 3x3 pixels, got {h}x{w}.")
        self.labels = as_labels_or_none(labels, n)
        index = check_index(index, n)
        if stride not in (1, 2, 3):
            raise ValueError(f"stride must be 1, 2 or 3, got {stride!r}.")
        if padding not in (0, 1, 2):
            raise ValueError(f"padding must be 0, 1 or 2, got {padding!r}.")
        preset, values = resolve_kernel(kernel, size=3)
        self._syncing = False
        self.cells = [
            widgets.FloatText(value=float(values[i, j]), step=0.5,
                              layout=widgets.Layout(width="5.2em"))
            for i in range(3) for j in range(3)
        ]
        controls = {
            "index": widgets.IntSlider(value=index, min=0, max=n - 1, description="digit"),
            "preset": widgets.Dropdown(options=[*PRESET_KERNELS, CUSTOM], value=preset,
                                       description="kernel"),
            "stride": widgets.IntSlider(value=stride, min=1, max=3, description="stride"),
            "padding": widgets.IntSlider(value=padding, min=0, max=2, description="padding"),
        }
        controls.update({f"k{i}{j}": self.cells[3 * i + j] for i in range(3) for j in range(3)})
        self.info = widgets.HTML()
        grid = widgets.GridBox(self.cells, layout=widgets.Layout(
            grid_template_columns="repeat(3, 5.4em)", grid_gap="2px 4px"))
        left = widgets.VBox([controls[name] for name in ("index", "preset", "stride", "padding")])
        right = widgets.VBox([widgets.HTML("<b>3×3 kernel</b> (edit any cell)"), grid],
                             layout=widgets.Layout(margin="0 0 0 2em"))
        rows = [widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap")),
                self.info]
        super().__init__(controls, layout_rows=rows, dpi=dpi)

    @property
    def kernel(self) -> np.ndarray:
        """The 3x3 kernel in the cells, as a new float64 array."""
        return np.array([c.value for c in self.cells], dtype=np.float64).reshape(3, 3)

    def _on_change(self, change) -> None:
        if self._syncing:
            return
        owner = change["owner"]
        self._syncing = True
        try:
            if owner is self.controls["preset"] and change["new"] != CUSTOM:
                for cell, value in zip(self.cells, PRESET_KERNELS[change["new"]].ravel(),
                                       strict=True):
                    cell.value = float(value)
            elif owner in self.cells:
                self.controls["preset"].value = CUSTOM
        finally:
            self._syncing = False
        self.update()

    def draw(self):
        c = self.controls
        index, stride, padding = c["index"].value, c["stride"].value, c["padding"].value
        image, kernel = self.images[index], self.kernel
        fmap = feature_map(image, kernel, stride, padding)
        h, w = image.shape
        oh, ow = fmap.shape
        self.data = {"image": image, "kernel": kernel, "feature_map": fmap,
                     "output_shape": (oh, ow), "index": index, "preset": c["preset"].value,
                     "stride": stride, "padding": padding}
        self.info.value = (
            f"<b>output shape</b> ({oh}, {ow}): &nbsp; ⌊({h} + 2·{padding} − 3) / {stride}⌋ + 1"
            f" = {oh} rows, &nbsp; ⌊({w} + 2·{padding} − 3) / {stride}⌋ + 1 = {ow} columns")

        # A fixed grid (no constrained layout): redrawing stays quick while a slider moves.
        fig = plt.figure(figsize=(9.6, 3.6), layout="none")
        ax_in, ax_k, ax_out = fig.subplots(1, 3, gridspec_kw={
            "width_ratios": [1, 0.8, 1], "left": 0.02, "right": 0.95, "top": 0.82,
            "bottom": 0.06, "wspace": 0.25})
        title = f"input {h}×{w}" + (f", padded to {h + 2 * padding}×{w + 2 * padding}"
                                    if padding else "")
        draw_padded_input(ax_in, image, padding, title)
        outline(ax_in, 0, 0, 3, 3)  # the first window, and dashed the next one, a stride on
        if w + 2 * padding >= stride + 3:
            outline(ax_in, 0, stride, 3, 3, linestyle="--", linewidth=1.4)
        show_matrix(kernel, ax=ax_k, fmt=".3g", title=f"kernel ({c['preset'].value})")
        ax_k.title.set_fontsize(10)
        im = signed_imshow(ax_out, fmap)
        outline(ax_out, 0, 0, 1, 1)
        fig.colorbar(im, ax=ax_out, fraction=0.046, pad=0.03)
        ax_out.set_title(f"feature map {oh}×{ow}", fontsize=10)
        plain_axes(ax_out)
        label = f" (a {self.labels[index]})" if self.labels is not None else ""
        fig.suptitle(f"test digit {index}{label}, stride {stride}, padding {padding}: "
                     f"output shape {oh}×{ow}", fontsize=11)
        return fig


def kernel_explorer(images, labels=None, index: int = 0, kernel="edge", *, stride: int = 1,
                    padding: int = 0, dpi: int = 90) -> KernelExplorer:
    """Slide a 3x3 kernel over a digit and watch the feature map, live.

    Controls: a slider picks the digit, a drop-down a preset kernel from
    :data:`PRESET_KERNELS` (or "custom"), nine boxes hold the kernel values (editing one
    switches the preset to "custom"; choosing a preset fills them), and two sliders set the
    stride (1-3) and the padding (0-2). The figure shows the padded input with the first
    window (solid) and the next one a stride further (dashed), the kernel, and the feature
    map; the line under the controls works out the output shape.

    Parameters
    ----------
    images : array_like
        Digits, uint8 pixels (scaled to [0, 1]) or floats.
    labels : array_like of int, optional
        The digit of each image, named in the title.
    index : int, default 0
        The digit shown first.
    kernel : str or array_like, default "edge"
        A preset name or a 3x3 array.
    stride, padding : int, default 1 and 0

    Returns
    -------
    KernelExplorer
        ``widget.data`` holds ``"image"``, ``"kernel"``, ``"feature_map"``,
        ``"output_shape"`` (and the control values) of the current drawing.

    Shape
    -----
    - images: ``(N, H, W)`` or ``(N, 1, H, W)``; labels: ``(N,)``.
    - feature map: ``(OH, OW)``, ``OH = (H + 2 * padding - 3) // stride + 1``.
    """
    return KernelExplorer(images, labels, index, kernel, stride=stride, padding=padding, dpi=dpi)


class WindowExplainer(FigureWidget):
    """One output value of a convolution, computed in front of you; see :func:`window_explainer`."""

    def __init__(self, image, kernel="Sobel x", row: int | None = None, col: int | None = None,
                 stride: int = 1, padding: int = 0, dpi: int = 90) -> None:
        self.image_array = as_image(image)
        self.preset, self.kernel = resolve_kernel(kernel)
        k = self.kernel.shape[0]
        h, w = self.image_array.shape
        oh = conv_output_size(h, k, stride, padding)
        ow = conv_output_size(w, k, stride, padding)
        self.stride, self.padding = stride, padding
        self.feature_map = feature_map(self.image_array, self.kernel, stride, padding)
        if row is None or col is None:  # start where the kernel responds most strongly
            best = np.unravel_index(np.argmax(np.abs(self.feature_map)), self.feature_map.shape)
            row = int(best[0]) if row is None else row
            col = int(best[1]) if col is None else col
        for name, value, size in (("row", row, oh), ("col", col, ow)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not (
                    0 <= value < size):
                raise ValueError(f"{name} must be an output position in 0..{size - 1}, "
                                 f"got {value!r}.")
        controls = {
            "row": widgets.IntSlider(value=int(row), min=0, max=oh - 1, description="row"),
            "col": widgets.IntSlider(value=int(col), min=0, max=ow - 1, description="column"),
        }
        super().__init__(controls, dpi=dpi)

    def draw(self):
        row, col = self.controls["row"].value, self.controls["col"].value
        k, s, p = self.kernel.shape[0], self.stride, self.padding
        padded = pad2d(self.image_array, p)
        top, left = row * s, col * s
        patch = padded[top : top + k, left : left + k].copy()
        product = patch * self.kernel + 0.0  # (+ 0.0 turns -0.0 into 0.0 for the labels)
        value = float(product.sum())
        self.data = {"patch": patch, "product": product, "value": value,
                     "position": (row, col), "feature_map": self.feature_map}

        # A fixed grid (no constrained layout): redrawing stays quick while a slider moves.
        fig = plt.figure(figsize=(9.6, 6.3), layout="none")
        grid = fig.add_gridspec(2, 3, height_ratios=[1.2, 1], left=0.03, right=0.92,
                                top=0.9, bottom=0.04, hspace=0.25, wspace=0.3)
        ax_in, ax_mid, ax_out = (fig.add_subplot(grid[0, i]) for i in range(3))
        h, w = self.image_array.shape
        where = " (padded)" if p else ""
        draw_padded_input(ax_in, self.image_array, p,
                           f"rows {top}–{top + k - 1}, columns {left}–{left + k - 1}{where}")
        outline(ax_in, top, left, k, k)
        ax_mid.axis("off")
        ax_mid.annotate("", xy=(0.95, 0.5), xytext=(0.05, 0.5), xycoords="axes fraction",
                        arrowprops={"arrowstyle": "-|>", "color": WINDOW_COLOUR, "linewidth": 2})
        ax_mid.text(0.5, 0.62, "multiply by the kernel\nand add up", ha="center",
                    va="bottom", fontsize=10, transform=ax_mid.transAxes)
        ax_mid.text(0.5, 0.38, f"{value:.3f}", ha="center", va="top", fontsize=13,
                    color=WINDOW_COLOUR, fontweight="bold", transform=ax_mid.transAxes)
        im = signed_imshow(ax_out, self.feature_map)
        outline(ax_out, row, col, 1, 1)
        fig.colorbar(im, ax=ax_out, fraction=0.046, pad=0.03)
        oh, ow = self.feature_map.shape
        ax_out.set_title(f"feature map {oh}×{ow}, output[{row}, {col}]", fontsize=10)
        plain_axes(ax_out)
        ax_patch, ax_kernel, ax_prod = (fig.add_subplot(grid[1, i]) for i in range(3))
        show_matrix(patch, ax=ax_patch, fmt=".2f", title="patch under the window")
        show_matrix(self.kernel, ax=ax_kernel, fmt=".3g", title=f"× kernel ({self.preset})")
        show_matrix(product, ax=ax_prod, fmt=".2f", title=f"= product, sum {value:.3f}")
        for ax in (ax_patch, ax_kernel, ax_prod):
            ax.title.set_fontsize(10)
        fig.suptitle(f"output[{row}, {col}] = sum(patch × kernel) = {value:.3f}", fontsize=11)
        return fig


def window_explainer(image, kernel="Sobel x", row: int | None = None, col: int | None = None,
                     *, stride: int = 1, padding: int = 0, dpi: int = 90) -> WindowExplainer:
    """Move the convolution window over a digit and see one output value being computed.

    Two sliders choose the output position ``(row, col)``. The figure shows the digit with
    the window under that position, the feature map with that position marked, and below
    them the patch, the kernel, their elementwise product and its sum: the output value.

    Parameters
    ----------
    image : array_like
        One digit, uint8 pixels (scaled to [0, 1]) or floats.
    kernel : str or array_like, default "Sobel x"
        A name from :data:`PRESET_KERNELS` or any square array.
    row, col : int, optional
        The first output position shown; by default the one with the largest absolute
        value, where the kernel responds most strongly.
    stride, padding : int, default 1 and 0

    Returns
    -------
    WindowExplainer
        ``widget.data`` holds ``"patch"``, ``"product"``, ``"value"`` (their sum),
        ``"position"`` (row, col) and ``"feature_map"``.

    Shape
    -----
    - image: ``(H, W)``; kernel: ``(k, k)``; feature map ``(OH, OW)`` as in :func:`conv2d`.
    """
    return WindowExplainer(image, kernel, row, col, stride=stride, padding=padding, dpi=dpi)
