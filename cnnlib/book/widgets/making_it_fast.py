"""Widgets for Chapter 6, making it fast."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from cnnlib import (
    conv_output_size,
    im2col,
)

from .base import FigureWidget

__all__ = ["im2col_explorer"]


class _Im2colExplorer(FigureWidget):
    """A small image, its sliding windows and its im2col matrix (see :func:`im2col_explorer`)."""

    def __init__(self, image, kernel_size: int, stride: int, window: int) -> None:
        self.img = image
        self.kernel_size, self.stride = kernel_size, stride
        self.out_shape = (conv_output_size(image.shape[0], kernel_size, stride),
                          conv_output_size(image.shape[1], kernel_size, stride))
        count = self.out_shape[0] * self.out_shape[1]
        controls = {
            "window": widgets.IntSlider(value=window, min=0, max=count - 1, step=1,
                                        description="window", continuous_update=False),
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
            1, 2, figsize=(min(10.0, 2.0 + 0.55 * (w + k * k)), 0.6 + 0.5 * max(h, oh * ow)),
            width_ratios=[w, k * k], layout="constrained")
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
            ax_x.add_patch(Rectangle((qc * s - 0.5 + inset, qr * s - 0.5 + inset),
                                     k - 2 * inset, k - 2 * inset, fill=False,
                                     edgecolor=colours[q], linewidth=2 if q == row else 1,
                                     linestyle="-" if q == row else "--"))
            ax_c.add_patch(Rectangle((-0.5, q - 0.5), k * k, 1, facecolor=colours[q],
                                     alpha=0.45 if q == row else 0.12, edgecolor="none"))
        # ... and the chosen one filled, in the input and in its row of the matrix
        ax_x.add_patch(Rectangle((c * s - 0.5, r * s - 0.5), k, k, facecolor=colours[row],
                                 alpha=0.35, edgecolor="none"))
        ax_c.add_patch(Rectangle((-0.5, row - 0.5), k * k, 1, fill=False,
                                 edgecolor=colours[row], linewidth=2.5))
        ax_x.set_xticks(range(w))
        ax_x.set_yticks(range(h))
        ax_x.set_title(f"input {h}x{w}: window {row} at output ({r}, {c})", fontsize=10)
        ax_c.set_xticks(range(k * k), labels=[f"{i},{j}" for i in range(k) for j in range(k)],
                        fontsize=7)
        ax_c.set_yticks(range(oh * ow), labels=[f"window {q}" for q in range(oh * ow)])
        for q, tick in enumerate(ax_c.get_yticklabels()):
            tick.set_color(colours[q])
            tick.set_fontweight("bold" if q == row else "normal")
        ax_c.set_xlabel("kernel offset (row, column)", fontsize=8)
        ax_c.set_title(f"im2col matrix {cols.shape[0]}x{cols.shape[1]}: one row per window",
                       fontsize=10)
        self.data.update(row=row, position=(r, c), window=img[r * s : r * s + k,
                                                             c * s : c * s + k].copy(),
                         cols=cols)
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
        raise ValueError(f"image is {img.shape[0]}x{img.shape[1]}; this picture is meant for "
                         "small images (at most 12x12), e.g. x[0, 0, :6, :6].")
    count = (conv_output_size(img.shape[0], kernel_size, stride)
             * conv_output_size(img.shape[1], kernel_size, stride))
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) \
            or not 0 <= window < count:
        raise ValueError(f"window must be an integer from 0 to {count - 1}, got {window!r}.")
    return _Im2colExplorer(img, int(kernel_size), int(stride), int(window))
