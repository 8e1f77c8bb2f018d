"""Widgets for Chapter 2, pooling: the pooling explorer.

A :class:`~cnnlib.book.widgets.base.BookWidget`: the page convolves the digit, applies ReLU and
pools the feature map in JavaScript; ``widget.data`` holds what cnnlib computes for the same
setting.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from cnnlib import (
    AvgPool2d,
    maxpool2d,
)

from .base import (
    PRESET_KERNELS,
    BookWidget,
    as_image_stack,
    as_labels_or_none,
    check_index,
    check_int,
    feature_map,
    kernel_rows,
    pack_images,
)

__all__ = ["PoolingExplorer", "pooling_explorer"]

_POOL_MODES = ("max", "average")


def _pool2d(a: np.ndarray, size: int, stride: int, mode: str) -> np.ndarray:
    """Pool one 2-D map with cnnlib: (H, W) -> (OH, OW)."""
    x = a[None, None]
    if mode == "max":
        return maxpool2d(x, size, stride)[0, 0]
    return AvgPool2d(size, stride).eval().forward(x)[0, 0]


class PoolingExplorer(BookWidget):
    """Max or average pooling of a digit's feature map; see :func:`pooling_explorer`."""

    _js = "pooling_explorer.js"
    _inputs = ("index", "kernel", "size", "stride", "mode")

    images = traitlets.Dict().tag(sync=True)
    labels = traitlets.List(traitlets.Int()).tag(sync=True)
    presets = traitlets.Dict().tag(sync=True)
    index = traitlets.Int(0).tag(sync=True)
    kernel = traitlets.Unicode("edge").tag(sync=True)
    size = traitlets.Int(2).tag(sync=True)
    stride = traitlets.Int(2).tag(sync=True)
    tied = traitlets.Bool(True).tag(sync=True)
    mode = traitlets.Unicode("max").tag(sync=True)

    def __init__(self, images, index: int = 0, kernel="edge", *, labels=None, size: int = 2,
                 stride: int | None = None, mode: str = "max", dpi: int | None = None) -> None:
        self._images = as_image_stack(images)
        n, h, w = self._images.shape
        if min(h, w) < 7:
            raise ValueError(f"images must be at least 7x7 pixels, got {h}x{w}.")
        self._labels = as_labels_or_none(labels, n)
        index = check_index(index, n)
        if not isinstance(kernel, str) or kernel not in PRESET_KERNELS:
            raise ValueError(f"kernel must be one of {list(PRESET_KERNELS)}, got {kernel!r}.")
        if size not in (1, 2, 3, 4):
            raise ValueError(f"size must be 1, 2, 3 or 4, got {size!r}.")
        if stride is not None and stride not in (1, 2, 3, 4):
            raise ValueError(f"stride must be 1, 2, 3, 4 or None (= size), got {stride!r}.")
        if mode not in _POOL_MODES:
            raise ValueError(f"mode must be 'max' or 'average', got {mode!r}.")
        super().__init__(
            images=pack_images(self._images, images),
            labels=[] if self._labels is None else [int(v) for v in self._labels],
            presets={name: kernel_rows(k) for name, k in PRESET_KERNELS.items()},
            index=index, kernel=kernel, size=size, stride=size if stride is None else stride,
            tied=stride is None, mode=mode)

    @traitlets.validate("index")
    def _check_index(self, proposal):
        return check_int("index", proposal["value"], range(len(self._images)))

    @traitlets.validate("size")
    def _check_size(self, proposal):
        return check_int("size", proposal["value"], range(1, 5))

    @traitlets.validate("stride")
    def _check_stride(self, proposal):
        return check_int("stride", proposal["value"], range(1, 5))

    @traitlets.validate("kernel")
    def _check_kernel(self, proposal):
        if proposal["value"] not in PRESET_KERNELS:
            raise traitlets.TraitError(
                f"kernel must be one of {list(PRESET_KERNELS)}, got {proposal['value']!r}.")
        return proposal["value"]

    @traitlets.validate("mode")
    def _check_mode(self, proposal):
        if proposal["value"] not in _POOL_MODES:
            raise traitlets.TraitError(
                f"mode must be 'max' or 'average', got {proposal['value']!r}.")
        return proposal["value"]

    @traitlets.observe("size", "tied")
    def _tie_stride(self, _change) -> None:
        if self.tied:  # as in MaxPool2d, the stride defaults to the window size
            self.stride = self.size

    def compute(self) -> dict[str, Any]:
        image = self._images[self.index]
        fmap = np.maximum(feature_map(image, PRESET_KERNELS[self.kernel]), 0.0)
        pooled = _pool2d(fmap, self.size, self.stride, self.mode)
        return {"image": image, "feature_map": fmap, "pooled": pooled,
                "output_shape": pooled.shape, "elements": int(pooled.size),
                "index": self.index, "kernel": self.kernel, "size": self.size,
                "stride": self.stride, "mode": self.mode}


def pooling_explorer(images, index: int = 0, kernel="edge", *, labels=None, size: int = 2,
                     stride: int | None = None, mode: str = "max",
                     dpi: int | None = None) -> PoolingExplorer:
    """Pool the feature map of a digit with a window and stride of your choice, live.

    The digit is convolved with a kernel from :data:`PRESET_KERNELS` (stride 1, no padding)
    and passed through ReLU; the feature map is then max- or average-pooled, all of it by the
    page. Sliders set the pool size (1-4) and the stride (1-4; while "stride = size" is
    ticked, the stride follows the size, as in ``MaxPool2d``); a drop-down switches max and
    average. The page shows the digit, the feature map with the first window (solid), the next
    one (dashed) and any rows or columns no window covers (hatched), and the pooled output on
    the same colour scale.

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
    dpi : None
        Unused (the page draws); kept so that older calls still work.

    Returns
    -------
    PoolingExplorer
        Set ``index``, ``kernel``, ``size``, ``stride``, ``tied`` or ``mode``;
        ``widget.data`` holds ``"feature_map"``, ``"pooled"``, ``"output_shape"`` and
        ``"elements"`` (the number of pooled values), and the control values.

    Shape
    -----
    - feature map ``(H - 2, W - 2)``; pooled ``(OH, OW)``, ``OH = (H - 2 - size) // stride + 1``.
    """
    return PoolingExplorer(images, index, kernel, labels=labels, size=size, stride=stride,
                           mode=mode)
