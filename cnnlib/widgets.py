"""Interactive widgets for the chapters (ipywidgets).

Every helper returns the widget. Each widget is a :class:`FigureWidget`: a box of controls above
an ``ipywidgets.Image`` holding a PNG rendered with matplotlib. An image widget (rather than a
live matplotlib canvas) keeps working in the static book, where the executed notebook stores the
widget state and the page shows the initial drawing without a kernel.

For tests, every widget keeps the arrays it last drew in ``widget.data`` and its controls in
``widget.controls`` (a dict of name -> ipywidgets control): set ``controls["stride"].value = 2``
and the drawing (``widget.image.value``) and ``widget.data`` update at once.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import ConnectionPatch, Rectangle

from .layers import AvgPool2d, Linear, conv2d, conv_output_size, im2col, maxpool2d
from .losses import log_softmax, softmax
from .viz import (
    _RIGHT,
    DIGIT_CMAP,
    DIVERGING_CMAP,
    _as_images,
    _figure,
    _no_ticks,
    _one_image_maps,
    _symmetric_limit,
    figure_to_png,
    plot_probabilities,
    show_filters,
    show_matrix,
)

__all__ = [
    "FigureWidget",
    # chapter 1
    "KernelExplorer",
    "PRESET_KERNELS",
    "WindowExplainer",
    "kernel_explorer",
    "window_explainer",
    # chapter 2
    "PoolingExplorer",
    "pooling_explorer",
    # chapter 3
    "HiddenUnitExplorer",
    "hidden_unit_explorer",
    "plot_decision_boundaries",
    "show_flatten",
    # chapter 4
    "SoftmaxExplorer",
    "show_predictions",
    "softmax_explorer",
    # chapters 5 and 6
    "digit_inspector",
    "filter_evolution",
    "im2col_explorer",
]


class FigureWidget(widgets.VBox):
    """Controls above a matplotlib drawing that is redrawn whenever a control changes.

    Subclasses build ``controls`` and implement :meth:`draw`, which returns a matplotlib
    figure and fills ``self.data`` with the arrays it drew.
    """

    def __init__(
        self,
        controls: dict[str, widgets.Widget],
        *,
        layout_rows=None,
        width: str = "100%",
        dpi: int = 90,
        **kwargs: Any,
    ) -> None:
        self.controls = controls
        self.data: dict[str, Any] = {}
        self.dpi = dpi
        self.image = widgets.Image(
            format="png", layout=widgets.Layout(width=width, max_width="900px")
        )
        rows = (
            layout_rows
            if layout_rows is not None
            else [
                widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
            ]
        )
        super().__init__(children=[*rows, self.image], **kwargs)
        for control in controls.values():
            if hasattr(control, "value"):
                control.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, _change) -> None:
        self.update()

    def draw(self):  # pragma: no cover - abstract
        """Draw the current state into a new figure and return it; fill ``self.data``."""
        raise NotImplementedError

    def update(self) -> None:
        """Redraw from the current control values."""

        with matplotlib.rc_context({"figure.max_open_warning": 0}):
            fig = self.draw()
            try:
                self.image.value = figure_to_png(fig, dpi=self.dpi)
            finally:
                plt.close(fig)


# ----------------------------------------------------------------------- chapter 1: convolution


def _frozen(values) -> np.ndarray:
    a = np.array(values, dtype=np.float64)
    a.setflags(write=False)  # shared by every widget and chapter: nobody may change it
    return a


#: The hand-designed 3x3 kernels of chapter 1, by name (read-only float64 arrays).
#: Applied as cnnlib applies every kernel: as a cross-correlation, not flipped.
PRESET_KERNELS: dict[str, np.ndarray] = {
    "identity": _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "edge": _frozen([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "Sobel x": _frozen([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "Sobel y": _frozen([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "blur": _frozen(np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16),
    "sharpen": _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "emboss": _frozen([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
}
_CUSTOM = "custom"
_WINDOW = "tab:orange"


def _as_image_stack(images, name: str = "images") -> np.ndarray:
    """(N, H, W) float64 from (N, H, W) or (N, 1, H, W); uint8 pixels are scaled to [0, 1]."""
    a = np.asarray(images)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 3:
        raise ValueError(
            f"{name} must be a stack of grey images of shape (N, H, W) or (N, 1, H, W), "
            f"got shape {a.shape}; for one image pass image[None]."
        )
    if a.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {a.shape}); pass at least one image.")
    return a / 255.0 if a.dtype == np.uint8 else a.astype(np.float64)


def _as_image(image) -> np.ndarray:
    """(H, W) float64 from one image (H, W) or (1, H, W) or (1, 1, H, W); uint8 scaled."""
    a = np.asarray(image)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise ValueError(
            f"image must be one grey image of shape (H, W), got shape {np.shape(image)}; "
            "pick one, e.g. images[0]."
        )
    return a / 255.0 if a.dtype == np.uint8 else a.astype(np.float64)


def _check_index(index, n: int) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise ValueError(f"index must be an integer in 0..{n - 1}, got {index!r}.")
    return int(index)


def _as_labels_or_none(labels, n: int):
    if labels is None:
        return None
    a = np.asarray(labels).reshape(-1)
    if a.shape[0] != n:
        raise ValueError(f"labels must have one entry per image: expected {n}, got {a.shape[0]}.")
    return a


def _resolve_kernel(kernel, size: int | None = None) -> tuple[str, np.ndarray]:
    """(preset name or "custom", float64 kernel) from a preset name or a square array."""
    if isinstance(kernel, str):
        if kernel not in PRESET_KERNELS:
            raise ValueError(
                f"unknown kernel {kernel!r}; choose one of {list(PRESET_KERNELS)} "
                "or pass a square array."
            )
        return kernel, np.array(PRESET_KERNELS[kernel])
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] == 0:
        raise ValueError(f"kernel must be a square 2-D array (k, k), got shape {k.shape}.")
    if size is not None and k.shape != (size, size):
        raise ValueError(f"kernel must be {size}x{size}, got shape {k.shape}.")
    name = next((n for n, v in PRESET_KERNELS.items() if np.array_equal(v, k)), _CUSTOM)
    return name, k.copy()


def _feature_map(
    image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """One kernel over one image: (H, W) -> (OH, OW), with cnnlib.conv2d."""
    return conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]


def _pad2d(image: np.ndarray, padding: int) -> np.ndarray:
    return np.pad(image, padding) if padding else image


def _outline(ax, top: int, left: int, height: int, width: int, **style) -> None:
    """A rectangle around cells [top, top + height) x [left, left + width) of an imshow."""
    style = {"fill": False, "edgecolor": _WINDOW, "linewidth": 2.2, **style}
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, **style))


def _signed_imshow(ax, a: np.ndarray, limit: float | None = None):
    limit = limit if limit is not None else (float(np.abs(a).max()) or 1.0)
    return ax.imshow(a, cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")


def _plain(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _draw_padded_input(ax, image: np.ndarray, padding: int, title: str) -> None:
    """The input with its zero padding, the original image framed by a dotted line."""
    ax.imshow(
        _pad2d(image, padding),
        cmap=DIGIT_CMAP,
        vmin=0.0,
        vmax=max(1.0, float(image.max())),
        interpolation="nearest",
    )
    if padding:
        ax.add_patch(
            Rectangle(
                (padding - 0.5, padding - 0.5),
                image.shape[1],
                image.shape[0],
                fill=False,
                edgecolor="0.55",
                linestyle=":",
                linewidth=1.2,
            )
        )
    ax.set_title(title, fontsize=10)
    _plain(ax)


class KernelExplorer(FigureWidget):
    """A 3x3 kernel slid over a digit, with stride and padding; see :func:`kernel_explorer`."""

    def __init__(
        self,
        images,
        labels=None,
        index: int = 0,
        kernel="edge",
        stride: int = 1,
        padding: int = 0,
        dpi: int = 90,
    ) -> None:
        self.images = _as_image_stack(images)
        n, h, w = self.images.shape
        if min(h, w) < 3:
            raise ValueError(f"images must be at least 3x3 pixels, got {h}x{w}.")
        self.labels = _as_labels_or_none(labels, n)
        index = _check_index(index, n)
        if stride not in (1, 2, 3):
            raise ValueError(f"stride must be 1, 2 or 3, got {stride!r}.")
        if padding not in (0, 1, 2):
            raise ValueError(f"padding must be 0, 1 or 2, got {padding!r}.")
        preset, values = _resolve_kernel(kernel, size=3)
        self._syncing = False
        self.cells = [
            widgets.FloatText(
                value=float(values[i, j]), step=0.5, layout=widgets.Layout(width="5.2em")
            )
            for i in range(3)
            for j in range(3)
        ]
        controls = {
            "index": widgets.IntSlider(value=index, min=0, max=n - 1, description="digit"),
            "preset": widgets.Dropdown(
                options=[*PRESET_KERNELS, _CUSTOM], value=preset, description="kernel"
            ),
            "stride": widgets.IntSlider(value=stride, min=1, max=3, description="stride"),
            "padding": widgets.IntSlider(value=padding, min=0, max=2, description="padding"),
        }
        controls.update({f"k{i}{j}": self.cells[3 * i + j] for i in range(3) for j in range(3)})
        self.info = widgets.HTML()
        grid = widgets.GridBox(
            self.cells,
            layout=widgets.Layout(grid_template_columns="repeat(3, 5.4em)", grid_gap="2px 4px"),
        )
        left = widgets.VBox([controls[name] for name in ("index", "preset", "stride", "padding")])
        right = widgets.VBox(
            [widgets.HTML("<b>3×3 kernel</b> (edit any cell)"), grid],
            layout=widgets.Layout(margin="0 0 0 2em"),
        )
        rows = [widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap")), self.info]
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
            if owner is self.controls["preset"] and change["new"] != _CUSTOM:
                for cell, value in zip(
                    self.cells, PRESET_KERNELS[change["new"]].ravel(), strict=True
                ):
                    cell.value = float(value)
            elif owner in self.cells:
                self.controls["preset"].value = _CUSTOM
        finally:
            self._syncing = False
        self.update()

    def draw(self):
        c = self.controls
        index, stride, padding = c["index"].value, c["stride"].value, c["padding"].value
        image, kernel = self.images[index], self.kernel
        fmap = _feature_map(image, kernel, stride, padding)
        h, w = image.shape
        oh, ow = fmap.shape
        self.data = {
            "image": image,
            "kernel": kernel,
            "feature_map": fmap,
            "output_shape": (oh, ow),
            "index": index,
            "preset": c["preset"].value,
            "stride": stride,
            "padding": padding,
        }
        self.info.value = (
            f"<b>output shape</b> ({oh}, {ow}): &nbsp; ⌊({h} + 2·{padding} − 3) / {stride}⌋ + 1"
            f" = {oh} rows, &nbsp; ⌊({w} + 2·{padding} − 3) / {stride}⌋ + 1 = {ow} columns"
        )

        # A fixed grid (no constrained layout): redrawing stays quick while a slider moves.
        fig = plt.figure(figsize=(9.6, 3.6), layout="none")
        ax_in, ax_k, ax_out = fig.subplots(
            1,
            3,
            gridspec_kw={
                "width_ratios": [1, 0.8, 1],
                "left": 0.02,
                "right": 0.95,
                "top": 0.82,
                "bottom": 0.06,
                "wspace": 0.25,
            },
        )
        title = f"input {h}×{w}" + (
            f", padded to {h + 2 * padding}×{w + 2 * padding}" if padding else ""
        )
        _draw_padded_input(ax_in, image, padding, title)
        _outline(ax_in, 0, 0, 3, 3)  # the first window, and dashed the next one, a stride on
        if w + 2 * padding >= stride + 3:
            _outline(ax_in, 0, stride, 3, 3, linestyle="--", linewidth=1.4)
        show_matrix(kernel, ax=ax_k, fmt=".3g", title=f"kernel ({c['preset'].value})")
        ax_k.title.set_fontsize(10)
        im = _signed_imshow(ax_out, fmap)
        _outline(ax_out, 0, 0, 1, 1)
        fig.colorbar(im, ax=ax_out, fraction=0.046, pad=0.03)
        ax_out.set_title(f"feature map {oh}×{ow}", fontsize=10)
        _plain(ax_out)
        label = f" (a {self.labels[index]})" if self.labels is not None else ""
        fig.suptitle(
            f"test digit {index}{label}, stride {stride}, padding {padding}: "
            f"output shape {oh}×{ow}",
            fontsize=11,
        )
        return fig


def kernel_explorer(
    images,
    labels=None,
    index: int = 0,
    kernel="edge",
    *,
    stride: int = 1,
    padding: int = 0,
    dpi: int = 90,
) -> KernelExplorer:
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

    def __init__(
        self,
        image,
        kernel="Sobel x",
        row: int | None = None,
        col: int | None = None,
        stride: int = 1,
        padding: int = 0,
        dpi: int = 90,
    ) -> None:
        self.image_array = _as_image(image)
        self.preset, self.kernel = _resolve_kernel(kernel)
        k = self.kernel.shape[0]
        h, w = self.image_array.shape
        oh = conv_output_size(h, k, stride, padding)
        ow = conv_output_size(w, k, stride, padding)
        self.stride, self.padding = stride, padding
        self.feature_map = _feature_map(self.image_array, self.kernel, stride, padding)
        if row is None or col is None:  # start where the kernel responds most strongly
            best = np.unravel_index(np.argmax(np.abs(self.feature_map)), self.feature_map.shape)
            row = int(best[0]) if row is None else row
            col = int(best[1]) if col is None else col
        for name, value, size in (("row", row, oh), ("col", col, ow)):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, np.integer))
                or not (0 <= value < size)
            ):
                raise ValueError(
                    f"{name} must be an output position in 0..{size - 1}, got {value!r}."
                )
        controls = {
            "row": widgets.IntSlider(value=int(row), min=0, max=oh - 1, description="row"),
            "col": widgets.IntSlider(value=int(col), min=0, max=ow - 1, description="column"),
        }
        super().__init__(controls, dpi=dpi)

    def draw(self):
        row, col = self.controls["row"].value, self.controls["col"].value
        k, s, p = self.kernel.shape[0], self.stride, self.padding
        padded = _pad2d(self.image_array, p)
        top, left = row * s, col * s
        patch = padded[top : top + k, left : left + k].copy()
        product = patch * self.kernel + 0.0  # (+ 0.0 turns -0.0 into 0.0 for the labels)
        value = float(product.sum())
        self.data = {
            "patch": patch,
            "product": product,
            "value": value,
            "position": (row, col),
            "feature_map": self.feature_map,
        }

        # A fixed grid (no constrained layout): redrawing stays quick while a slider moves.
        fig = plt.figure(figsize=(9.6, 6.3), layout="none")
        grid = fig.add_gridspec(
            2,
            3,
            height_ratios=[1.2, 1],
            left=0.03,
            right=0.92,
            top=0.9,
            bottom=0.04,
            hspace=0.25,
            wspace=0.3,
        )
        ax_in, ax_mid, ax_out = (fig.add_subplot(grid[0, i]) for i in range(3))
        h, w = self.image_array.shape
        where = " (padded)" if p else ""
        _draw_padded_input(
            ax_in,
            self.image_array,
            p,
            f"rows {top}–{top + k - 1}, columns {left}–{left + k - 1}{where}",
        )
        _outline(ax_in, top, left, k, k)
        ax_mid.axis("off")
        ax_mid.annotate(
            "",
            xy=(0.95, 0.5),
            xytext=(0.05, 0.5),
            xycoords="axes fraction",
            arrowprops={"arrowstyle": "-|>", "color": _WINDOW, "linewidth": 2},
        )
        ax_mid.text(
            0.5,
            0.62,
            "multiply by the kernel\nand add up",
            ha="center",
            va="bottom",
            fontsize=10,
            transform=ax_mid.transAxes,
        )
        ax_mid.text(
            0.5,
            0.38,
            f"{value:.3f}",
            ha="center",
            va="top",
            fontsize=13,
            color=_WINDOW,
            fontweight="bold",
            transform=ax_mid.transAxes,
        )
        im = _signed_imshow(ax_out, self.feature_map)
        _outline(ax_out, row, col, 1, 1)
        fig.colorbar(im, ax=ax_out, fraction=0.046, pad=0.03)
        oh, ow = self.feature_map.shape
        ax_out.set_title(f"feature map {oh}×{ow}, output[{row}, {col}]", fontsize=10)
        _plain(ax_out)
        ax_patch, ax_kernel, ax_prod = (fig.add_subplot(grid[1, i]) for i in range(3))
        show_matrix(patch, ax=ax_patch, fmt=".2f", title="patch under the window")
        show_matrix(self.kernel, ax=ax_kernel, fmt=".3g", title=f"× kernel ({self.preset})")
        show_matrix(product, ax=ax_prod, fmt=".2f", title=f"= product, sum {value:.3f}")
        for ax in (ax_patch, ax_kernel, ax_prod):
            ax.title.set_fontsize(10)
        fig.suptitle(f"output[{row}, {col}] = sum(patch × kernel) = {value:.3f}", fontsize=11)
        return fig


def window_explainer(
    image,
    kernel="Sobel x",
    row: int | None = None,
    col: int | None = None,
    *,
    stride: int = 1,
    padding: int = 0,
    dpi: int = 90,
) -> WindowExplainer:
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


# ----------------------------------------------------------------------- chapter 2: pooling


_POOL_MODES = ("max", "average")


def _pool2d(a: np.ndarray, size: int, stride: int, mode: str) -> np.ndarray:
    """Pool one 2-D map with cnnlib: (H, W) -> (OH, OW)."""
    x = a[None, None]
    if mode == "max":
        return maxpool2d(x, size, stride)[0, 0]
    return AvgPool2d(size, stride).eval().forward(x)[0, 0]


class PoolingExplorer(FigureWidget):
    """Max or average pooling of a digit's feature map; see :func:`pooling_explorer`."""

    def __init__(
        self,
        images,
        index: int = 0,
        kernel="edge",
        *,
        labels=None,
        size: int = 2,
        stride: int | None = None,
        mode: str = "max",
        dpi: int = 90,
    ) -> None:
        self.images = _as_image_stack(images)
        n, h, w = self.images.shape
        if min(h, w) < 7:
            raise ValueError(f"images must be at least 7x7 pixels, got {h}x{w}.")
        self.labels = _as_labels_or_none(labels, n)
        index = _check_index(index, n)
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
            "kernel": widgets.Dropdown(
                options=list(PRESET_KERNELS), value=kernel, description="kernel"
            ),
            "size": widgets.IntSlider(value=size, min=1, max=4, description="pool size"),
            "stride": widgets.IntSlider(
                value=size if tied else stride, min=1, max=4, description="stride", disabled=tied
            ),
            "tied": widgets.Checkbox(
                value=tied,
                description="stride = size",
                indent=False,
                layout=widgets.Layout(width="auto"),
            ),
            "mode": widgets.ToggleButtons(
                options=list(_POOL_MODES),
                value=mode,
                tooltips=["keep the largest value of each window", "keep the mean of each window"],
                style={"button_width": "6em"},
            ),
        }
        self.info = widgets.HTML()
        wrap = widgets.Layout(flex_flow="row wrap", align_items="center")
        rows = [
            widgets.HBox([controls["index"], controls["kernel"]], layout=wrap),
            widgets.HBox([controls["size"], controls["stride"]], layout=wrap),
            widgets.HBox(
                [
                    widgets.Label("pooling", layout=widgets.Layout(margin="0 1em 0 3.4em")),
                    controls["mode"],
                    controls["tied"],
                ],
                layout=wrap,
            ),
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
        index, size, stride, mode = (
            c["index"].value,
            c["size"].value,
            c["stride"].value,
            c["mode"].value,
        )
        image = self.images[index]
        fmap = np.maximum(_feature_map(image, PRESET_KERNELS[c["kernel"].value]), 0.0)
        pooled = _pool2d(fmap, size, stride, mode)
        oh, ow = pooled.shape
        elements = int(pooled.size)
        self.data = {
            "image": image,
            "feature_map": fmap,
            "pooled": pooled,
            "output_shape": (oh, ow),
            "elements": elements,
            "index": index,
            "size": size,
            "stride": stride,
            "mode": mode,
        }
        fh, fw = fmap.shape
        ratio = fmap.size / elements
        self.info.value = (
            f"<b>{mode} pooling {size}×{size}, stride {stride}</b>: output shape ({oh}, {ow}),"
            f" ⌊({fh} − {size}) / {stride}⌋ + 1 = {oh}; &nbsp; <b>{elements}</b> values instead"
            f" of {fmap.size} ({ratio:.2f}× fewer)"
        )

        # A fixed grid (no constrained layout): redrawing stays quick while a slider moves.
        fig = plt.figure(figsize=(9.6, 3.5), layout="none")
        ax_img, ax_map, ax_pool = fig.subplots(
            1,
            3,
            gridspec_kw={
                "width_ratios": [0.8, 1, 1],
                "left": 0.02,
                "right": 0.95,
                "top": 0.82,
                "bottom": 0.04,
                "wspace": 0.2,
            },
        )
        ax_img.imshow(image, cmap=DIGIT_CMAP, interpolation="nearest")
        label = f" (a {self.labels[index]})" if self.labels is not None else ""
        ax_img.set_title(f"test digit {index}{label}", fontsize=10)
        _plain(ax_img)
        limit = float(fmap.max()) or 1.0  # ReLU output: white is 0, red positive
        ax_map.imshow(fmap, cmap="Reds", vmin=0.0, vmax=limit, interpolation="nearest")
        self._draw_windows(ax_map, fmap.shape, size, stride, (oh, ow))
        ax_map.set_title(f"{c['kernel'].value} + ReLU: {fh}×{fw} = {fmap.size} values", fontsize=10)
        _plain(ax_map)
        im = ax_pool.imshow(pooled, cmap="Reds", vmin=0.0, vmax=limit, interpolation="nearest")
        _outline(ax_pool, 0, 0, 1, 1)
        fig.colorbar(im, ax=ax_pool, fraction=0.046, pad=0.03)
        ax_pool.set_title(f"{mode} pooled: {oh}×{ow} = {elements} values", fontsize=10)
        _plain(ax_pool)
        fig.suptitle(
            f"{mode} pooling, window {size}×{size}, stride {stride}: {ratio:.2f}× fewer values",
            fontsize=11,
        )
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
                ax.axvline(s * size - 0.5, ymin=1 - (oh * size) / fh, color="0.6", linewidth=0.6)
        _outline(ax, 0, 0, size, size)
        if ow > 1:
            _outline(ax, 0, stride, size, size, linestyle="--", linewidth=1.4)
        covered_h, covered_w = (oh - 1) * stride + size, (ow - 1) * stride + size
        hatch = {"fill": False, "hatch": "///", "edgecolor": "0.5", "linewidth": 0}
        if covered_h < fh:
            ax.add_patch(Rectangle((-0.5, covered_h - 0.5), fw, fh - covered_h, **hatch))
        if covered_w < fw:
            ax.add_patch(Rectangle((covered_w - 0.5, -0.5), fw - covered_w, fh, **hatch))


def pooling_explorer(
    images,
    index: int = 0,
    kernel="edge",
    *,
    labels=None,
    size: int = 2,
    stride: int | None = None,
    mode: str = "max",
    dpi: int = 90,
) -> PoolingExplorer:
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
    return PoolingExplorer(
        images, index, kernel, labels=labels, size=size, stride=stride, mode=mode, dpi=dpi
    )


# ----------------------------------------------------------------------- chapter 3: fully connected


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
    a = _one_image_maps(maps)
    c, h, w = a.shape
    ci, i, j = (int(v) for v in highlight)
    if not (0 <= ci < c and 0 <= i < h and 0 <= j < w):
        raise ValueError(f"highlight {tuple(highlight)} lies outside maps of shape {a.shape}.")
    size = h * w
    flat = a.reshape(-1)
    pos = ci * size + i * w + j
    colour = [plt.get_cmap("tab10")(k % 10) for k in range(c)]

    fig = _figure(fig, (9.5, 4.6))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 1.2])
    limit = _symmetric_limit(a)
    for k, ax in enumerate(top.subplots(1, c, squeeze=False)[0]):
        ax.imshow(a[k], cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
        _no_ticks(ax, frame=colour[k])
        for spine in ax.spines.values():
            spine.set_linewidth(2.5)
        ax.set_title(f"channel {k}", fontsize=8, color=colour[k], pad=3)
    source = top.axes[ci]
    for colour_box, width in (("white", 3.5), ("black", 1.8)):
        source.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec=colour_box, lw=width))
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
    ax.annotate(
        f"x[{pos}] = maps[{ci}, {i}, {j}]",
        (pos, flat[pos]),
        xytext=(14 if right else -14, 6),
        textcoords="offset points",
        fontsize=9,
        ha="left" if right else "right",
        va="bottom",
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
    )
    fig.add_artist(
        ConnectionPatch(
            xyA=(j, i + 0.5),
            coordsA=source.transData,
            xyB=(pos, flat[pos]),
            coordsB=ax.transData,
            arrowstyle="-|>",
            color="black",
            lw=1,
            alpha=0.7,
            shrinkA=0,
            shrinkB=6,
        )
    )
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
        raise ValueError(
            f"x must be (N, 2) points and y (N,) classes, received shapes {x.shape} and {y.shape}."
        )
    models = list(models)
    if titles is None:
        titles = [f"model {k}" for k in range(len(models))]
    if len(titles) != len(models):
        raise ValueError(
            f"titles must have one entry per model: expected {len(models)}, received {len(titles)}."
        )
    lo, hi = x.min(axis=0) - 0.4, x.max(axis=0) + 0.4
    g0, g1 = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([g0.ravel(), g1.ravel()]).astype(x.dtype)

    fig = _figure(fig, (3.2 * len(models), 3.4))
    axes = fig.subplots(1, len(models), squeeze=False)[0]
    for ax, model, title in zip(axes, models, titles, strict=True):
        p1 = model.predict_proba(grid)[:, 1].reshape(g0.shape)
        ax.contourf(g0, g1, p1, levels=np.linspace(0, 1, 11), cmap=DIVERGING_CMAP, alpha=0.3)
        if p1.min() < 0.5 < p1.max():
            ax.contour(g0, g1, p1, levels=[0.5], colors="black", linewidths=1.2)
        for cls, colour in ((0, "tab:blue"), (1, "tab:red")):
            pts = x[y == cls]
            ax.scatter(
                pts[:, 0],
                pts[:, 1],
                s=9,
                color=colour,
                edgecolors="white",
                linewidths=0.3,
                label=f"class {cls}",
            )
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
            raise ValueError(
                f"{what} must be a Sequential with a Linear layer, a Linear layer "
                f"or a weight array; received {type(model).__name__}."
            )
        weight = dense[0].params["weight"]
    if weight.ndim != 2:
        raise ValueError(
            f"{what}: the dense weight must be 2-D (units, features), received "
            f"shape {weight.shape}."
        )
    return np.array(weight, dtype=np.float64)


class HiddenUnitExplorer(FigureWidget):
    """The incoming weights of one hidden unit, as the feature maps they read from.

    See :func:`hidden_unit_explorer`.
    """

    VIEWS = {
        "fresh, trained and the change": "all",
        "fresh (random init)": "fresh",
        "trained": "trained",
        "change: trained − fresh": "change",
    }

    def __init__(
        self,
        fresh,
        trained,
        unit: int = 0,
        view: str = "all",
        map_shape: tuple[int, int, int] = (8, 10, 10),
        dpi: int = 90,
    ) -> None:

        self.fresh = _dense_weight(fresh, "models['fresh']")
        self.trained = _dense_weight(trained, "models['trained']")
        if self.fresh.shape != self.trained.shape:
            raise ValueError(
                f"the fresh and trained dense weights differ in shape: "
                f"{self.fresh.shape} and {self.trained.shape}."
            )
        units, features = self.fresh.shape
        self.map_shape = tuple(int(v) for v in map_shape)
        if int(np.prod(self.map_shape)) != features:
            raise ValueError(
                f"map_shape {self.map_shape} holds {int(np.prod(self.map_shape))} "
                f"numbers, but each unit has {features} incoming weights."
            )
        if not 0 <= unit < units:
            raise ValueError(f"unit must be in 0..{units - 1}, received {unit}.")
        if view not in self.VIEWS.values():
            raise ValueError(
                f"view must be one of {sorted(self.VIEWS.values())}, received {view!r}."
            )
        controls = {
            "unit": widgets.IntSlider(
                value=unit, min=0, max=units - 1, description="unit", continuous_update=False
            ),
            "view": widgets.Dropdown(
                options=list(self.VIEWS.items()),
                value=view,
                description="show",
                layout=widgets.Layout(width="320px"),
            ),
        }
        super().__init__(controls, dpi=dpi)

    def draw(self):
        unit = int(self.controls["unit"].value)
        view = self.controls["view"].value
        fresh = self.fresh[unit].reshape(self.map_shape)
        trained = self.trained[unit].reshape(self.map_shape)
        rows = {
            "fresh": ("fresh (random init)", fresh),
            "trained": ("trained", trained),
            "change": ("change: trained − fresh", trained - fresh),
        }
        shown = list(rows) if view == "all" else [view]
        self.data = {
            "unit": unit,
            "view": view,
            "weights_fresh": fresh,
            "weights_trained": trained,
            "change": trained - fresh,
        }
        c, h, w = self.map_shape
        fig = _figure(None, (8.5, 1.4 * len(shown) + 0.5))
        weight_limit = max(_symmetric_limit(fresh), _symmetric_limit(trained))
        subs = fig.subfigures(len(shown), 1, squeeze=False)[:, 0]
        for sub, key in zip(subs, shown, strict=True):
            label, maps = rows[key]
            limit = _symmetric_limit(maps) if key == "change" else weight_limit
            axes = sub.subplots(1, c, squeeze=False)[0]
            for k, ax in enumerate(axes):
                image = ax.imshow(
                    maps[k], cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, interpolation="nearest"
                )
                _no_ticks(ax)
                if key == shown[0]:
                    ax.set_title(f"channel {k}", fontsize=9, pad=2)
            axes[0].set_ylabel(label.split(":")[0].split(" (")[0], fontsize=10)
            sub.colorbar(image, ax=list(axes), shrink=0.9, aspect=12, pad=0.01)
        fig.suptitle(
            f"hidden unit {unit}: its {c * h * w} incoming weights as {c} maps of {h}×{w}",
            fontsize=11,
        )
        return fig


def hidden_unit_explorer(
    models, unit: int = 0, view: str = "all", map_shape: tuple[int, int, int] = (8, 10, 10)
) -> HiddenUnitExplorer:
    """Pick a hidden unit of the dense layer and see its incoming weights as feature maps.

    Each of the 128 units of ``Linear(800, 128)`` multiplies the 800 flattened numbers by
    800 weights; reshaped like the input, ``(8, 10, 10)``, the weights show which places of
    which feature map excite (red) or inhibit (blue) the unit.

    Parameters
    ----------
    models : dict or sequence
        ``{"fresh": ..., "trained": ...}`` or ``(fresh, trained)``; each a Sequential (its
        first Linear layer is used), a Linear layer, or a weight array.
    unit : int, default 0
        The unit shown first (IntSlider).
    view : {"all", "fresh", "trained", "change"}, default "all"
        Which rows to draw first (Dropdown): all three, or one of them.
    map_shape : (int, int, int), default (8, 10, 10)
        The shape the flattened input had.

    Returns
    -------
    HiddenUnitExplorer
        ``data``: ``"unit"``, ``"view"``, and the ``(8, 10, 10)`` arrays
        ``"weights_fresh"``, ``"weights_trained"``, ``"change"``.
    """
    if isinstance(models, dict):
        missing = {"fresh", "trained"} - set(models)
        if missing:
            raise ValueError(
                f"models needs the keys 'fresh' and 'trained'; missing {sorted(missing)}."
            )
        fresh, trained = models["fresh"], models["trained"]
    else:
        models = list(models)
        if len(models) != 2:
            raise ValueError(
                f"models must be a dict with 'fresh' and 'trained' or a pair "
                f"(fresh, trained); received {len(models)} models."
            )
        fresh, trained = models
    return HiddenUnitExplorer(fresh, trained, unit=unit, view=view, map_shape=map_shape)


# ----------------------------------------------------------------------- chapter 4: softmax


DEFAULT_LOGITS = (1.0, -1.5, 0.5, 3.0, -2.0, 1.5, -1.0, 0.0, 2.0, -0.5)


class SoftmaxExplorer(FigureWidget):
    """Ten logit sliders and a temperature; the softmax and the loss redrawn live.

    See :func:`softmax_explorer`.
    """

    LIMIT = 10.0

    def __init__(
        self, logits=None, true_class: int = 3, temperature: float = 1.0, dpi: int = 90
    ) -> None:

        z = np.array(DEFAULT_LOGITS if logits is None else logits, dtype=np.float64)
        if z.shape != (10,):
            raise ValueError(
                f"logits must hold 10 numbers, one per digit, received shape {z.shape}."
            )
        if not np.all(np.isfinite(z)) or np.abs(z).max() > self.LIMIT:
            raise ValueError(
                f"logits must lie in [-{self.LIMIT:g}, {self.LIMIT:g}] (the slider "
                f"range), received values up to {np.abs(z).max():.3g}; "
                "pass np.clip(logits, -10, 10)."
            )
        if (
            isinstance(true_class, bool)
            or not isinstance(true_class, (int, np.integer))
            or not 0 <= true_class < 10
        ):
            raise ValueError(f"true_class must be a class in 0..9, received {true_class!r}.")
        if not 0.1 <= temperature <= 10:
            raise ValueError(f"temperature must lie in [0.1, 10], received {temperature!r}.")
        controls = {
            f"z{k}": widgets.FloatSlider(
                value=float(z[k]),
                min=-self.LIMIT,
                max=self.LIMIT,
                step=0.1,
                description=f"z{k}",
                orientation="vertical",
                readout_format=".1f",
                continuous_update=False,
                layout=widgets.Layout(width="48px"),
            )
            for k in range(10)
        }
        controls["temperature"] = widgets.FloatLogSlider(
            value=float(temperature),
            base=10,
            min=-1,
            max=1,
            step=0.05,
            description="temperature",
            readout_format=".2f",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        controls["true_class"] = widgets.Dropdown(
            options=list(range(10)),
            value=int(true_class),
            description="true class",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="160px"),
        )
        sliders = [controls[f"z{k}"] for k in range(10)]
        rows = [
            widgets.HBox(sliders, layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([controls["temperature"], controls["true_class"]]),
        ]
        super().__init__(controls, layout_rows=rows, dpi=dpi)

    def draw(self):
        z = np.array([self.controls[f"z{k}"].value for k in range(10)], dtype=np.float64)
        t = float(self.controls["temperature"].value)
        y = int(self.controls["true_class"].value)
        logp = log_softmax(z / t)
        probs = np.exp(logp)
        loss = float(-logp[y])
        self.data = {"logits": z, "probs": probs, "loss": loss, "temperature": t, "true_class": y}

        fig = _figure(None, (9.0, 3.0))
        ax_z, ax_p = fig.subplots(1, 2, width_ratios=[1, 1.25])
        ax_z.bar(np.arange(10), z, color=["0.55"] * y + [_RIGHT] + ["0.55"] * (9 - y), width=0.7)
        ax_z.axhline(0, color="0.3", lw=0.8)
        ax_z.set_ylim(-self.LIMIT, self.LIMIT)
        ax_z.set_xticks(range(10))
        ax_z.set_xlabel("class")
        ax_z.set_ylabel("logit $z_k$")
        ax_z.set_title(f"logits (green: the true class; divided by T = {t:.2f})", fontsize=9)
        ax_z.spines[["top", "right"]].set_visible(False)
        plot_probabilities(probs, ax=ax_p, true_label=y)
        ax_p.set_title(f"softmax(z / T);  loss = −log p[{y}] = {loss:.3f}", fontsize=10, pad=18)
        return fig


def softmax_explorer(logits=None, true_class: int = 3, temperature: float = 1.0) -> SoftmaxExplorer:
    """Move ten logits and a temperature and watch the softmax probabilities and the loss.

    The probabilities are ``softmax(logits / temperature)``, drawn with
    :func:`cnnlib.viz.plot_probabilities`; the title shows the cross-entropy loss
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
    imgs = _as_images(images)
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels).reshape(-1)
    n = len(imgs)
    if n == 0 or p.shape[0] != n or p.ndim != 2 or y.shape != (n,):
        raise ValueError(
            f"images, probs and labels must describe the same N > 0 digits, "
            f"received shapes {np.shape(images)}, {p.shape} and {y.shape}."
        )
    if titles is not None and len(titles) != n:
        raise ValueError(
            f"titles must have one entry per digit: expected {n}, received {len(titles)}."
        )
    cols = max(1, min(int(ncols), n))
    rows = math.ceil(n / cols)
    fig = _figure(fig, (4.6 * cols, 1.95 * rows))
    cells = fig.subfigures(rows, cols, squeeze=False).ravel()
    for k, cell in enumerate(cells):
        if k >= n:
            continue
        ax_img, ax_p = cell.subplots(1, 2, width_ratios=[1, 2.3])
        ax_img.imshow(imgs[k], cmap=DIGIT_CMAP, interpolation="nearest")
        _no_ticks(ax_img)
        pred = int(p[k].argmax())
        text = titles[k] if titles is not None else f"true {y[k]}, predicted {pred}"
        ax_img.set_title(text, fontsize=9, loc="left", color="black" if pred == y[k] else "tab:red")
        plot_probabilities(p[k], ax=ax_p, true_label=int(y[k]))
        ax_p.get_legend().remove()
        ax_p.tick_params(labelsize=8)
        ax_p.set_xlabel("")
        ax_p.set_ylabel("p", fontsize=9)
    return fig


# ----------------------------------------------------------------------- chapter 5: training


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
            "epoch": widgets.IntSlider(
                value=epoch,
                min=0,
                max=len(snapshots) - 1,
                step=1,
                description="epoch",
                continuous_update=False,
            ),
            "layer": widgets.Dropdown(options=keys, value=layer, description="layer"),
            "show": widgets.ToggleButtons(
                options=list(_FILTER_VIEWS), value=show, description="show"
            ),
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
        fig = show_filters(shown, title=f"{layer} {what}, {when} (relative change {change:.2f})")
        self.data.update(
            epoch=epoch, layer=layer, show=show, weight=weight, shown=shown, change=change
        )
        return fig


def filter_evolution(
    snapshots, layer: str = "0.weight", epoch: int | None = None, show: str = "weights"
):
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
        raise ValueError(
            "snapshots must be a non-empty list of state_dicts; train with "
            "cnnlib.fit(..., snapshots=True) and pass history.snapshots."
        )
    keys = _conv_weight_keys(snapshots[0])
    if layer not in keys:
        raise ValueError(
            f"layer {layer!r} is not a convolution weight of the snapshots; choose one of {keys}."
        )
    last = len(snapshots) - 1
    epoch = last if epoch is None else epoch
    if (
        isinstance(epoch, bool)
        or not isinstance(epoch, (int, np.integer))
        or not 0 <= epoch <= last
    ):
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
            "index": widgets.IntSlider(
                value=index,
                min=0,
                max=len(images) - 1,
                step=1,
                description="digit #",
                continuous_update=False,
                layout=widgets.Layout(width="420px"),
            ),
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
        fig = plt.figure(figsize=(1.05 * ncols + 0.6, 2.4 + 1.2 * len(maps)), layout="constrained")
        top, bottom = fig.subfigures(2, 1, height_ratios=[2.2, 1.2 * len(maps)])
        ax_in, ax_p = top.subplots(1, 2, width_ratios=[1, 2.6])
        ax_in.imshow(np.asarray(x[0]).reshape(x.shape[-2:]), cmap=DIGIT_CMAP)
        ax_in.set_xticks([])
        ax_in.set_yticks([])
        verdict = "" if true is None else (" (correct)" if true == prediction else " (wrong)")
        ax_in.set_title(
            f"test digit #{index}" + ("" if true is None else f", label {true}"), fontsize=9
        )
        plot_probabilities(probs, ax=ax_p, true_label=true)
        ax_p.set_title(
            f"prediction {prediction}{verdict}, p = {probs[prediction]:.3f}", fontsize=9, pad=18
        )
        if maps:
            rows = bottom.subfigures(len(maps), 1) if len(maps) > 1 else [bottom]
            for row, (name, m) in zip(rows, maps, strict=True):
                limit = float(np.abs(m).max()) or 1.0
                axes = row.subplots(1, ncols, squeeze=False)[0]
                for c, ax in enumerate(axes):
                    ax.set_xticks([])
                    ax.set_yticks([])
                    if c < m.shape[0]:
                        ax.imshow(
                            m[c],
                            cmap=DIVERGING_CMAP,
                            vmin=-limit,
                            vmax=limit,
                            interpolation="nearest",
                        )
                    else:
                        ax.set_axis_off()
                h, w = m.shape[1:]
                row.suptitle(
                    f"after layer {name}: {m.shape[0]} maps of {h}x{w}",
                    fontsize=9,
                    x=0.02,
                    ha="left",
                )
        self.data.update(
            index=index,
            activations=[m for _, m in maps],
            names=[name for name, _ in maps],
            probs=probs,
            prediction=prediction,
            label=true,
        )
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
        raise ValueError(
            f"images must have shape (N, C, H, W), got shape {images.shape}; "
            "use data.x_test or images.reshape(-1, 1, 28, 28)."
        )
    if len(images) == 0:
        raise ValueError("images is empty; pass at least one image.")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(images),):
            raise ValueError(
                f"labels must have shape ({len(images)},) to match the images, "
                f"got shape {labels.shape}."
            )
    if (
        isinstance(index, bool)
        or not isinstance(index, (int, np.integer))
        or not 0 <= index < len(images)
    ):
        raise ValueError(f"index must be an integer from 0 to {len(images) - 1}, got {index!r}.")
    return _DigitInspector(model, images, labels, int(index))


class _Im2colExplorer(FigureWidget):
    """A small image, its sliding windows and its im2col matrix (see :func:`im2col_explorer`)."""

    def __init__(self, image, kernel_size: int, stride: int, window: int) -> None:
        self.img = image
        self.kernel_size, self.stride = kernel_size, stride
        self.out_shape = (
            conv_output_size(image.shape[0], kernel_size, stride),
            conv_output_size(image.shape[1], kernel_size, stride),
        )
        count = self.out_shape[0] * self.out_shape[1]
        controls = {
            "window": widgets.IntSlider(
                value=window,
                min=0,
                max=count - 1,
                step=1,
                description="window",
                continuous_update=False,
            ),
        }
        super().__init__(controls, dpi=90)

    def draw(self):
        k, s = self.kernel_size, self.stride
        img = self.img
        oh, ow = self.out_shape
        cols = im2col(img[None, None], k, stride=s)
        row = int(self.controls["window"].value)
        r, c = divmod(row, ow)
        colours = [plt.get_cmap("tab10")(i % 10) for i in range(oh * ow)]
        h, w = img.shape
        fig, (ax_x, ax_c) = plt.subplots(
            1,
            2,
            figsize=(min(10.0, 2.0 + 0.55 * (w + k * k)), 0.6 + 0.5 * max(h, oh * ow)),
            width_ratios=[w, k * k],
            layout="constrained",
        )
        for ax, m in ((ax_x, img), (ax_c, cols)):
            ax.imshow(np.zeros_like(m, dtype=float), cmap="Greys", vmin=0, vmax=1)
            for (i, j), value in np.ndenumerate(m):
                ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=9)
            ax.set_xticks(np.arange(m.shape[1] + 1) - 0.5, minor=True)
            ax.set_yticks(np.arange(m.shape[0] + 1) - 0.5, minor=True)
            ax.grid(which="minor", color="0.85", linewidth=1)
            ax.tick_params(which="both", length=0, labelsize=8, labelcolor="0.4")
        # every window outlined in its colour (inset a little so overlaps stay visible) ...
        for q in range(oh * ow):
            qr, qc = divmod(q, ow)
            inset = 0.06 + 0.05 * (q % 4)
            ax_x.add_patch(
                Rectangle(
                    (qc * s - 0.5 + inset, qr * s - 0.5 + inset),
                    k - 2 * inset,
                    k - 2 * inset,
                    fill=False,
                    edgecolor=colours[q],
                    linewidth=2 if q == row else 1,
                    linestyle="-" if q == row else "--",
                )
            )
            ax_c.add_patch(
                Rectangle(
                    (-0.5, q - 0.5),
                    k * k,
                    1,
                    facecolor=colours[q],
                    alpha=0.45 if q == row else 0.12,
                    edgecolor="none",
                )
            )
        # ... and the chosen one filled, in the input and in its row of the matrix
        ax_x.add_patch(
            Rectangle(
                (c * s - 0.5, r * s - 0.5),
                k,
                k,
                facecolor=colours[row],
                alpha=0.35,
                edgecolor="none",
            )
        )
        ax_c.add_patch(
            Rectangle(
                (-0.5, row - 0.5), k * k, 1, fill=False, edgecolor=colours[row], linewidth=2.5
            )
        )
        ax_x.set_xticks(range(w))
        ax_x.set_yticks(range(h))
        ax_x.set_title(f"input {h}x{w}: window {row} at output ({r}, {c})", fontsize=10)
        ax_c.set_xticks(
            range(k * k), labels=[f"{i},{j}" for i in range(k) for j in range(k)], fontsize=7
        )
        ax_c.set_yticks(range(oh * ow), labels=[f"window {q}" for q in range(oh * ow)])
        for q, tick in enumerate(ax_c.get_yticklabels()):
            tick.set_color(colours[q])
            tick.set_fontweight("bold" if q == row else "normal")
        ax_c.set_xlabel("kernel offset (row, column)", fontsize=8)
        ax_c.set_title(
            f"im2col matrix {cols.shape[0]}x{cols.shape[1]}: one row per window", fontsize=10
        )
        self.data.update(
            row=row,
            position=(r, c),
            window=img[r * s : r * s + k, c * s : c * s + k].copy(),
            cols=cols,
        )
        return fig


def im2col_explorer(image=None, kernel_size: int = 3, stride: int = 1, window: int = 0):
    """A slider over the sliding windows of a small image and the rows of its im2col matrix.

    Every window is outlined in its own colour on the input and tints its row of the matrix;
    the chosen one is filled. The matrix is :func:`cnnlib.im2col` of the image.

    Parameters
    ----------
    image : array_like, shape (H, W) or (1, 1, H, W), optional
        A small single-channel image; defaults to the 4x4 image holding 1..16.
    kernel_size, stride : int
        Window size and step, as for a convolution.
    window : int, default 0
        The window highlighted first (row of the matrix).

    Returns
    -------
    FigureWidget
        ``controls["window"]`` (IntSlider over the OH*OW windows); ``data["row"]``,
        ``data["position"]`` (output row and column), ``data["window"]`` (the k x k values)
        and ``data["cols"]`` (the whole (OH*OW, k*k) matrix).
    """
    img = np.arange(1, 17, dtype=float).reshape(4, 4) if image is None else np.asarray(image)
    if img.ndim == 4 and img.shape[:2] == (1, 1):
        img = img[0, 0]
    if img.ndim != 2:
        raise ValueError(f"image must have shape (H, W) or (1, 1, H, W), got shape {img.shape}.")
    if max(img.shape) > 12:
        raise ValueError(
            f"image is {img.shape[0]}x{img.shape[1]}; this picture is meant for "
            "small images (at most 12x12), e.g. x[0, 0, :6, :6]."
        )
    count = conv_output_size(img.shape[0], kernel_size, stride) * conv_output_size(
        img.shape[1], kernel_size, stride
    )
    if (
        isinstance(window, bool)
        or not isinstance(window, (int, np.integer))
        or not 0 <= window < count
    ):
        raise ValueError(f"window must be an integer from 0 to {count - 1}, got {window!r}.")
    return _Im2colExplorer(img, int(kernel_size), int(stride), int(window))
