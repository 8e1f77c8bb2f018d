"""Data augmentation in NumPy: new training images made from old ones, a batch at a time.

Every augmentation is a callable ``augment(x, rng) -> new array`` for ``fit(..., augment=...)``:
it takes a batch ``x`` of shape (N, C, H, W) and a ``numpy.random.Generator`` (fit derives it
from its ``seed``, so a run is reproducible), never changes ``x``, and returns a new batch of
the same shape and dtype. Validation and test images are never augmented.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_nchw, non_negative_int

__all__ = ["RandomShift", "Compose"]


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
    if fill is None:
        border = x.reshape(n, -1).min(axis=1) if x.size else np.zeros(n, x.dtype)
    else:
        border = np.full(n, fill)
    padded = np.empty((n, c, h + 2 * m, w + 2 * m), dtype=x.dtype)
    padded[...] = border.astype(x.dtype).reshape(n, 1, 1, 1)
    padded[:, :, m : m + h, m : m + w] = x
    # Image i's output row r is padded row m + r - dy_i (likewise columns): one gather.
    rows = m - shifts[:, 0, None] + np.arange(h)  # (N, H)
    cols = m - shifts[:, 1, None] + np.arange(w)  # (N, W)
    i = np.arange(n)[:, None, None, None]
    ch = np.arange(c)[None, :, None, None]
    return padded[i, ch, rows[:, None, :, None], cols[:, None, None, :]]


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
