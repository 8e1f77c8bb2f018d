"""Data augmentation in NumPy: new training images made from old ones, a batch at a time.

Every augmentation is a callable ``augment(x, rng) -> new array`` for ``fit(..., augment=...)``:
it takes a batch ``x`` of shape (N, C, H, W) and a ``numpy.random.Generator`` (fit derives it
from its ``seed``, so a run is reproducible), never changes ``x``, and returns a new batch of
the same shape and dtype. Validation and test images are never augmented.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_nchw, non_negative_int

__all__ = ["RandomShift", "RandomAffine", "Compose"]


class RandomShift:
    """Move each image by a whole number of pixels, up to ``max_shift`` in each direction.

    A digit moved by a pixel or two is still the same digit, so the network learns that
    position does not matter beyond what its pooling already forgives.

    Parameters
    ----------
    max_shift : int, default 2
        Each image gets its own shift ``(dy, dx)``, each drawn uniformly from
        ``-max_shift .. max_shift`` (positive: down and to the right).
    fill : float or None, default None
        Value of the pixels uncovered at the border. None uses each image's own minimum, its
        background: the book's inputs are standardised, so the paper is about -0.42, not 0,
        and a fill of 0 would draw a grey frame around every shifted digit.

    Shape
    -----
    (N, C, H, W) -> (N, C, H, W); ``out[i, :, r, c] = x[i, :, r - dy_i, c - dx_i]``.
    """

    def __init__(self, max_shift: int = 2, fill: float | None = None) -> None:
        self.max_shift = non_negative_int("max_shift", max_shift)
        self.fill = None if fill is None else float(fill)

    def __repr__(self) -> str:
        fill = "" if self.fill is None else f", fill={self.fill}"
        return f"RandomShift(max_shift={self.max_shift}{fill})"

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = np.asarray(x)
        check_nchw(x, "RandomShift")
        m = self.max_shift
        n, c, h, w = x.shape
        shifts = rng.integers(-m, m + 1, size=(n, 2))
        return shift_images(x, shifts, fill=self.fill)


def _background(x: np.ndarray, fill: float | None) -> np.ndarray:
    """The border value of each image: ``fill``, or the image's minimum (its paper)."""
    n = x.shape[0]
    if fill is not None:
        return np.full(n, fill, dtype=x.dtype)
    return x.reshape(n, -1).min(axis=1) if x.size else np.zeros(n, x.dtype)


def shift_images(x: np.ndarray, shifts: np.ndarray, fill: float | None = None) -> np.ndarray:
    """Move image ``i`` of ``x`` by ``shifts[i] = (dy, dx)`` pixels, filling the border.

    Shape
    -----
    x (N, C, H, W), shifts (N, 2) integers -> (N, C, H, W)
    """
    x = np.asarray(x)
    n, c, h, w = x.shape
    shifts = np.asarray(shifts, dtype=np.intp).reshape(n, 2)
    m = int(np.abs(shifts).max(initial=0))
    padded = np.empty((n, c, h + 2 * m, w + 2 * m), dtype=x.dtype)
    padded[...] = _background(x, fill).reshape(n, 1, 1, 1)
    padded[:, :, m : m + h, m : m + w] = x
    # Image i's output row r is padded row m + r - dy_i (likewise columns): one gather.
    rows = m - shifts[:, 0, None] + np.arange(h)  # (N, H)
    cols = m - shifts[:, 1, None] + np.arange(w)  # (N, W)
    i = np.arange(n)[:, None, None, None]
    ch = np.arange(c)[None, :, None, None]
    return padded[i, ch, rows[:, None, :, None], cols[:, None, None, :]]


class RandomAffine:
    """Rotate, scale and move each image by its own random amounts, with bilinear sampling.

    Parameters
    ----------
    degrees : float or (float, float), default 10
        Rotation angle in degrees, drawn uniformly from ``-degrees .. degrees`` (or from the
        pair ``(min, max)``); positive turns the image counter-clockwise, as torchvision.
    translate : (float, float) or None, default None
        Largest horizontal and vertical move as fractions of the width and height: the move is
        drawn uniformly from ``-a * W .. a * W`` and ``-b * H .. b * H`` pixels (not rounded).
    scale : (float, float) or None, default (0.9, 1.1)
        Zoom factor drawn uniformly from this range; None keeps the size.
    fill : float or None, default None
        Value of the pixels that come from outside the image; None uses each image's minimum,
        its background (see :class:`RandomShift` for why not 0).

    Shape
    -----
    (N, C, H, W) -> (N, C, H, W).

    Notes
    -----
    Each output pixel ``q`` reads the input at ``p = R(-angle) (q - centre - t) / scale +
    centre`` (the inverse of the transformation), usually between pixels: its value mixes the
    four nearest input pixels, each weighted by how close it is (bilinear interpolation). The
    whole batch is one gather of those four neighbours, with no loop over images.
    """

    def __init__(self, degrees=10.0, translate=None, scale=(0.9, 1.1),
                 fill: float | None = None) -> None:
        low, high = (-degrees, degrees) if np.ndim(degrees) == 0 else degrees
        if not low <= high:
            raise ValueError(
                f"RandomAffine: expected degrees >= 0 or a pair (min, max), got {degrees!r}."
            )
        if translate is not None and not all(0 <= t <= 1 for t in translate):
            raise ValueError(
                f"RandomAffine: expected translate fractions in [0, 1], got {translate!r}."
            )
        if scale is not None and not 0 < scale[0] <= scale[1]:
            raise ValueError(
                f"RandomAffine: expected scale (min, max) with 0 < min <= max, got {scale!r}."
            )
        self.degrees, self.translate, self.scale = degrees, translate, scale
        self.fill = None if fill is None else float(fill)
        self._angles = (float(low), float(high))

    def __repr__(self) -> str:
        return (f"RandomAffine(degrees={self.degrees!r}, translate={self.translate!r}, "
                f"scale={self.scale!r}, fill={self.fill!r})")

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = np.asarray(x)
        check_nchw(x, "RandomAffine")
        n, _, h, w = x.shape
        angles = rng.uniform(*self._angles, size=n)
        zoom = rng.uniform(*self.scale, size=n) if self.scale is not None else np.ones(n)
        a, b = self.translate if self.translate is not None else (0.0, 0.0)
        moves = np.stack([rng.uniform(-a * w, a * w, size=n),
                          rng.uniform(-b * h, b * h, size=n)], axis=1)
        return affine_images(x, angles, zoom, moves, fill=self.fill)


def affine_images(x: np.ndarray, degrees, scale, translate, fill: float | None = None):
    """Turn image ``i`` of ``x`` by ``degrees[i]`` (counter-clockwise) about its centre, zoom it
    by ``scale[i]`` and move it by ``translate[i] = (tx, ty)`` pixels (right, down).

    Shape
    -----
    x (N, C, H, W), degrees (N,), scale (N,), translate (N, 2) -> (N, C, H, W)
    """
    x = np.asarray(x)
    n, _, h, w = x.shape
    angle = np.deg2rad(np.asarray(degrees, dtype=np.float64).reshape(n))
    zoom = np.asarray(scale, dtype=np.float64).reshape(n)
    tx, ty = np.asarray(translate, dtype=np.float64).reshape(n, 2).T
    # Output pixel (row r, column c), relative to the centre and the move:
    cy, cx = (h - 1) / 2, (w - 1) / 2
    dy = np.arange(h)[None, :, None] - cy - ty[:, None, None]  # (N, H, 1)
    dx = np.arange(w)[None, None, :] - cx - tx[:, None, None]  # (N, 1, W)
    cos, sin = (np.cos(angle) / zoom)[:, None, None], (np.sin(angle) / zoom)[:, None, None]
    # Undo the zoom and the counter-clockwise turn (y points down): where each pixel comes from.
    src_x = cos * dx - sin * dy + cx  # (N, H, W)
    src_y = sin * dx + cos * dy + cy
    return bilinear_sample(x, src_y, src_x, _background(x, fill))


def bilinear_sample(x: np.ndarray, src_y: np.ndarray, src_x: np.ndarray,
                    background: np.ndarray) -> np.ndarray:
    """Read image ``i`` of ``x`` at the real coordinates ``(src_y[i], src_x[i])``, bilinearly.

    Points outside the image read ``background[i]``; a point within a pixel of the edge mixes
    the edge with the background.

    Shape
    -----
    x (N, C, H, W), src_y and src_x (N, OH, OW), background (N,) -> (N, C, OH, OW)
    """
    n, c, h, w = x.shape
    padded = np.empty((n, c, h + 2, w + 2), dtype=x.dtype)  # a one-pixel frame of background
    padded[...] = background.reshape(n, 1, 1, 1)
    padded[:, :, 1:-1, 1:-1] = x
    y0, x0 = np.floor(src_y), np.floor(src_x)
    wy, wx = (src_y - y0)[:, None], (src_x - x0)[:, None]  # (N, 1, OH, OW)
    # Padded row of input row y is y + 1; anything further out reads the frame.
    rows = [np.clip(y0 + k + 1, 0, h + 1).astype(np.intp)[:, None] for k in (0, 1)]
    cols = [np.clip(x0 + k + 1, 0, w + 1).astype(np.intp)[:, None] for k in (0, 1)]
    i, ch = np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None]
    top = padded[i, ch, rows[0], cols[0]] * (1 - wx) + padded[i, ch, rows[0], cols[1]] * wx
    bottom = padded[i, ch, rows[1], cols[0]] * (1 - wx) + padded[i, ch, rows[1], cols[1]] * wx
    return (top * (1 - wy) + bottom * wy).astype(x.dtype, copy=False)


class Compose:
    """Apply several augmentations in order: ``Compose([RandomShift(2), ...])``."""

    def __init__(self, augmentations) -> None:
        self.augmentations = list(augmentations)
        for a in self.augmentations:
            if not callable(a):
                raise TypeError(f"Compose: expected callables (x, rng) -> x, got {a!r}.")

    def __repr__(self) -> str:
        return f"Compose({self.augmentations!r})"

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for augment in self.augmentations:
            x = augment(x, rng)
        return x
