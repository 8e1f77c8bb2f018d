"""Widgets for Chapter 1, convolution: the kernel explorer and the window explainer.

Both are :class:`~cnnlib.book.widgets.base.BookWidget`: the page computes the convolution in
JavaScript from the digits sent to it, and ``widget.data`` holds what cnnlib computes for the
same setting (a test compares the two).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from cnnlib import (
    conv_output_size,
)

from .base import (
    CUSTOM,
    PRESET_KERNELS,
    BookWidget,
    as_image,
    as_image_stack,
    as_labels_or_none,
    check_index,
    check_int,
    feature_map,
    kernel_rows,
    pack_images,
    pad2d,
    resolve_kernel,
)

__all__ = ["KernelExplorer", "kernel_explorer", "WindowExplainer", "window_explainer"]


class KernelExplorer(BookWidget):
    """A 3x3 kernel slid over a digit, with stride and padding; see :func:`kernel_explorer`."""

    _js = "kernel_explorer.js"
    _inputs = ("index", "kernel", "stride", "padding")

    images = traitlets.Dict().tag(sync=True)
    labels = traitlets.List(traitlets.Int()).tag(sync=True)
    presets = traitlets.Dict().tag(sync=True)
    index = traitlets.Int(0).tag(sync=True)
    preset = traitlets.Unicode("edge").tag(sync=True)
    kernel = traitlets.List().tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    padding = traitlets.Int(0).tag(sync=True)

    def __init__(self, images, labels=None, index: int = 0, kernel="edge", stride: int = 1,
                 padding: int = 0, dpi: int | None = None) -> None:
        self._images = as_image_stack(images)
        n, h, w = self._images.shape
        if min(h, w) < 3:
            raise ValueError(f"images must be at least 3x3 pixels, got {h}x{w}.")
        self._labels = as_labels_or_none(labels, n)
        index = check_index(index, n)
        if stride not in (1, 2, 3):
            raise ValueError(f"stride must be 1, 2 or 3, got {stride!r}.")
        if padding not in (0, 1, 2):
            raise ValueError(f"padding must be 0, 1 or 2, got {padding!r}.")
        preset, values = resolve_kernel(kernel, size=3)
        super().__init__(
            images=pack_images(self._images, images),
            labels=[] if self._labels is None else [int(v) for v in self._labels],
            presets={name: kernel_rows(k) for name, k in PRESET_KERNELS.items()},
            index=index, preset=preset, kernel=kernel_rows(values), stride=stride,
            padding=padding)

    @traitlets.validate("index")
    def _check_index(self, proposal):
        return check_int("index", proposal["value"], range(len(self._images)))

    @traitlets.validate("stride")
    def _check_stride(self, proposal):
        return check_int("stride", proposal["value"], range(1, 4))

    @traitlets.validate("padding")
    def _check_padding(self, proposal):
        return check_int("padding", proposal["value"], range(0, 3))

    @traitlets.validate("kernel")
    def _check_kernel(self, proposal):
        try:
            k = np.asarray(proposal["value"], dtype=np.float64)
        except (TypeError, ValueError):
            k = np.empty(0)
        if k.shape != (3, 3) or not np.isfinite(k).all():
            raise traitlets.TraitError(
                f"kernel must be 3x3 finite numbers (a list of 3 rows of 3), "
                f"got {proposal['value']!r:.80}.")
        return kernel_rows(k)

    @traitlets.validate("preset")
    def _check_preset(self, proposal):
        if proposal["value"] not in (*PRESET_KERNELS, CUSTOM):
            raise traitlets.TraitError(
                f"preset must be one of {[*PRESET_KERNELS, CUSTOM]}, got {proposal['value']!r}.")
        return proposal["value"]

    @traitlets.observe("preset")
    def _fill_cells(self, change) -> None:
        if change["new"] != CUSTOM:
            self.kernel = kernel_rows(PRESET_KERNELS[change["new"]])

    @traitlets.observe("kernel")
    def _name_kernel(self, change) -> None:
        self.preset = resolve_kernel(change["new"], size=3)[0]

    def compute(self) -> dict[str, Any]:
        image, kernel = self._images[self.index], np.array(self.kernel)
        fmap = feature_map(image, kernel, self.stride, self.padding)
        return {"image": image, "kernel": kernel, "feature_map": fmap,
                "output_shape": fmap.shape, "index": self.index, "preset": self.preset,
                "stride": self.stride, "padding": self.padding}


def kernel_explorer(images, labels=None, index: int = 0, kernel="edge", *, stride: int = 1,
                    padding: int = 0, dpi: int | None = None) -> KernelExplorer:
    """Slide a 3x3 kernel over a digit and watch the feature map, live, in the page.

    Controls: a slider picks the digit, a drop-down a preset kernel from
    :data:`PRESET_KERNELS` (or "custom"), nine number boxes hold the kernel values (editing
    one switches the preset to "custom"; choosing a preset fills them), and two sliders set
    the stride (1-3) and the padding (0-2). The page draws the padded input with the first
    window (solid) and the next one a stride further (dashed), the kernel, and the feature
    map it computes, and works out the output shape.

    Parameters
    ----------
    images : array_like
        Digits, uint8 pixels (scaled to [0, 1]) or floats.
    labels : array_like of int, optional
        The digit of each image, named in the caption.
    index : int, default 0
        The digit shown first.
    kernel : str or array_like, default "edge"
        A preset name or a 3x3 array.
    stride, padding : int, default 1 and 0
    dpi : None
        Unused (the page draws); kept so that older calls still work.

    Returns
    -------
    KernelExplorer
        Set ``index``, ``preset``, ``kernel`` (3 rows of 3), ``stride`` or ``padding`` and
        ``widget.data`` (``"image"``, ``"kernel"``, ``"feature_map"``, ``"output_shape"``
        and the settings) follows.

    Shape
    -----
    - images: ``(N, H, W)`` or ``(N, 1, H, W)``; labels: ``(N,)``.
    - feature map: ``(OH, OW)``, ``OH = (H + 2 * padding - 3) // stride + 1``.
    """
    return KernelExplorer(images, labels, index, kernel, stride=stride, padding=padding)


class WindowExplainer(BookWidget):
    """One output value of a convolution, computed in front of you; see :func:`window_explainer`."""

    _js = "window_explainer.js"
    _inputs = ("row", "col")

    image = traitlets.Dict().tag(sync=True)
    kernel = traitlets.List().tag(sync=True)
    preset = traitlets.Unicode(CUSTOM).tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    padding = traitlets.Int(0).tag(sync=True)
    row = traitlets.Int(0).tag(sync=True)
    col = traitlets.Int(0).tag(sync=True)

    def __init__(self, image, kernel="Sobel x", row: int | None = None, col: int | None = None,
                 stride: int = 1, padding: int = 0, dpi: int | None = None) -> None:
        self._image = as_image(image)
        preset, self._kernel = resolve_kernel(kernel)
        k = self._kernel.shape[0]
        h, w = self._image.shape
        if stride not in (1, 2, 3):
            raise ValueError(f"stride must be 1, 2 or 3, got {stride!r}.")
        if padding not in (0, 1, 2):
            raise ValueError(f"padding must be 0, 1 or 2, got {padding!r}.")
        if k > min(h, w) + 2 * padding:
            raise ValueError(f"a {k}x{k} kernel does not fit a {h}x{w} image with padding "
                             f"{padding}; use a smaller kernel or more padding.")
        self._out_shape = (conv_output_size(h, k, stride, padding),
                           conv_output_size(w, k, stride, padding))
        self._feature_map = feature_map(self._image, self._kernel, stride, padding)
        if row is None or col is None:  # start where the kernel responds most strongly
            best = np.unravel_index(np.argmax(np.abs(self._feature_map)), self._out_shape)
            row = int(best[0]) if row is None else row
            col = int(best[1]) if col is None else col
        for name, value, size in (("row", row, self._out_shape[0]),
                                  ("col", col, self._out_shape[1])):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not (
                    0 <= value < size):
                raise ValueError(f"{name} must be an output position in 0..{size - 1}, "
                                 f"got {value!r}.")
        super().__init__(image=pack_images(self._image, image),
                         kernel=kernel_rows(self._kernel), preset=preset, stride=stride,
                         padding=padding, row=int(row), col=int(col))

    @traitlets.validate("row")
    def _check_row(self, proposal):
        return check_int("row", proposal["value"], range(self._out_shape[0]))

    @traitlets.validate("col")
    def _check_col(self, proposal):
        return check_int("col", proposal["value"], range(self._out_shape[1]))

    def compute(self) -> dict[str, Any]:
        k, s, p = self._kernel.shape[0], self.stride, self.padding
        top, left = self.row * s, self.col * s
        patch = pad2d(self._image, p)[top : top + k, left : left + k].copy()
        product = patch * self._kernel + 0.0  # (+ 0.0 turns -0.0 into 0.0)
        return {"patch": patch, "product": product, "value": float(product.sum()),
                "position": (self.row, self.col), "feature_map": self._feature_map}


def window_explainer(image, kernel="Sobel x", row: int | None = None, col: int | None = None,
                     *, stride: int = 1, padding: int = 0,
                     dpi: int | None = None) -> WindowExplainer:
    """Move the convolution window over a digit and see one output value being computed.

    Two sliders choose the output position ``(row, col)``. The page draws the digit with the
    window under that position, the patch, the kernel, their elementwise product and its sum
    (the output value), and the feature map with that position marked; it computes all of
    them from the digit and the kernel.

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
    dpi : None
        Unused (the page draws); kept so that older calls still work.

    Returns
    -------
    WindowExplainer
        Set ``row`` and ``col``; ``widget.data`` holds ``"patch"``, ``"product"``,
        ``"value"`` (their sum), ``"position"`` (row, col) and ``"feature_map"``.

    Shape
    -----
    - image: ``(H, W)``; kernel: ``(k, k)``; feature map ``(OH, OW)`` as in :func:`conv2d`.
    """
    return WindowExplainer(image, kernel, row, col, stride=stride, padding=padding)
