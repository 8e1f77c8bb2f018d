"""Widgets for Chapter 6, making it fast: the im2col explorer.

A :class:`~cnnlib.book.widgets.base.BookWidget`: the page cuts the windows out of the small
image and lays the chosen one out as its row of the im2col matrix; ``widget.data`` holds what
:func:`cnnlib.im2col` computes for the same setting.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from cnnlib import (
    conv_output_size,
    im2col,
)

from .base import BookWidget, check_int, pack

__all__ = ["Im2colExplorer", "im2col_explorer"]

MAX_SIDE = 12  # the picture writes every value: meant for small images
MAX_STRIDE = 3


class Im2colExplorer(BookWidget):
    """A small image, one sliding window and its im2col row (see :func:`im2col_explorer`)."""

    _js = "im2col_explorer.js"
    _inputs = ("kernel_size", "stride", "window")

    image = traitlets.Dict().tag(sync=True)
    kernel_size = traitlets.Int(3).tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    window = traitlets.Int(0).tag(sync=True)

    def __init__(self, image, kernel_size: int, stride: int, window: int) -> None:
        self._image = image
        super().__init__(image=pack(image, "float32"), kernel_size=kernel_size, stride=stride,
                         window=window)

    @property
    def out_shape(self) -> tuple[int, int]:
        """(OH, OW): the windows per column and per row for the current kernel size and stride."""
        h, w = self._image.shape
        return (conv_output_size(h, self.kernel_size, self.stride),
                conv_output_size(w, self.kernel_size, self.stride))

    @traitlets.validate("kernel_size")
    def _check_kernel_size(self, proposal):
        return check_int("kernel_size", proposal["value"], range(1, min(self._image.shape) + 1))

    @traitlets.validate("stride")
    def _check_stride(self, proposal):
        return check_int("stride", proposal["value"], range(1, MAX_STRIDE + 1))

    @traitlets.validate("window")
    def _check_window(self, proposal):
        oh, ow = self.out_shape
        return check_int("window", proposal["value"], range(oh * ow))

    @traitlets.observe("kernel_size", "stride")
    def _keep_window_inside(self, _change) -> None:
        oh, ow = self.out_shape
        if self.window >= oh * ow:
            self.window = oh * ow - 1

    def compute(self) -> dict[str, Any]:
        k, s = self.kernel_size, self.stride
        cols = im2col(self._image[None, None].astype(np.float64), k, stride=s)
        r, c = divmod(self.window, self.out_shape[1])
        window = self._image[r * s : r * s + k, c * s : c * s + k].astype(np.float64)
        return {"row": self.window, "position": (r, c), "window": window,
                "im2col_row": cols[self.window].copy(), "cols": cols,
                "kernel_size": k, "stride": s}


def im2col_explorer(image=None, kernel_size: int = 3, stride: int = 1,
                    window: int = 0) -> Im2colExplorer:
    """Sliders over the kernel size, the stride and the windows of a small image; the page
    shows the chosen window and its row of the im2col matrix.

    The page cuts the window out of the image and flattens it, in the (row, column) order of
    :func:`cnnlib.im2col`; it also draws the whole matrix (one row per window) when it is small.

    Parameters
    ----------
    image : array_like, shape (H, W) or (1, 1, H, W), optional
        A small single-channel image (at most 12x12); defaults to the 4x4 image holding 1..16.
    kernel_size, stride : int
        Window size (1 to the image's shorter side) and step (1-3), as for a convolution.
    window : int, default 0
        The window shown first (its row of the matrix).

    Returns
    -------
    Im2colExplorer
        Set ``kernel_size``, ``stride`` or ``window`` (the window moves inside when the
        others shrink the matrix); ``data["row"]``, ``data["position"]`` (output row and
        column), ``data["window"]`` (the k x k values), ``data["im2col_row"]`` and
        ``data["cols"]`` (the whole matrix).

    Shape
    -----
    - cols: ``(OH * OW, k * k)`` with ``OH = (H - k) // stride + 1``.
    """
    img = np.arange(1, 17, dtype=float).reshape(4, 4) if image is None else np.asarray(image)
    if img.ndim == 4 and img.shape[:2] == (1, 1):
        img = img[0, 0]
    if img.ndim != 2:
        raise ValueError(f"image must have shape (H, W) or (1, 1, H, W), got shape {img.shape}.")
    if max(img.shape) > MAX_SIDE:
        raise ValueError(f"image is {img.shape[0]}x{img.shape[1]}; this picture is meant for "
                         f"small images (at most {MAX_SIDE}x{MAX_SIDE}), e.g. x[0, 0, :6, :6].")
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, (int, np.integer)) \
            or not 1 <= kernel_size <= min(img.shape):
        raise ValueError(f"kernel_size must be an integer from 1 to {min(img.shape)}, "
                         f"got {kernel_size!r}.")
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) \
            or not 1 <= stride <= MAX_STRIDE:
        raise ValueError(f"stride must be an integer from 1 to {MAX_STRIDE}, got {stride!r}.")
    count = (conv_output_size(img.shape[0], kernel_size, stride)
             * conv_output_size(img.shape[1], kernel_size, stride))
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) \
            or not 0 <= window < count:
        raise ValueError(f"window must be an integer from 0 to {count - 1}, got {window!r}.")
    return Im2colExplorer(img.astype(np.float64), int(kernel_size), int(stride), int(window))
