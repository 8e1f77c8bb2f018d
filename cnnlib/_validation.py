"""Checks shared by the core modules, with one wording: "expected …, got …", then the fix.

Every public function that takes a count, a batch of images or an (inputs, labels) pair checks
it here, so a reader's mistake gets the same kind of message wherever it is made.
"""

from __future__ import annotations

import numpy as np

__all__ = ["positive_int", "non_negative_int", "int_in_range", "check_nchw", "check_xy"]


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def positive_int(name: str, value) -> int:
    """``value`` as an ``int`` if it is a whole number ≥ 1, else a ``ValueError``."""
    if not _is_int(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}.")
    return int(value)


def non_negative_int(name: str, value) -> int:
    """``value`` as an ``int`` if it is a whole number ≥ 0, else a ``ValueError``."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value!r}.")
    return int(value)


def int_in_range(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` if ``low <= value <= high`` (``high`` None: no upper bound)."""
    if not _is_int(value) or value < low or (high is not None and value > high):
        bound = f"at least {low}" if high is None else f"from {low} to {high}"
        raise ValueError(f"{name}: expected an integer {bound}, got {value!r}.")
    return int(value)


def check_nchw(x: np.ndarray, where: str, channels: int | None = None) -> None:
    """A 4-D (N, C, H, W) batch, with ``channels`` channels when given."""
    if x.ndim != 4:
        raise ValueError(
            f"{where}: expected a 4-D input of shape (N, C, H, W), got shape {x.shape} "
            f"({x.ndim}-D). For a batch of 28x28 images use x.reshape(-1, 1, 28, 28)."
        )
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"{where}: expected {channels} input channel(s), i.e. shape (N, {channels}, H, W), "
            f"got shape {x.shape} with {x.shape[1]} channel(s)."
        )


def check_xy(x, y, where: str, allow_empty: bool = False) -> int:
    """Inputs and labels of the same length (≥ 1 unless ``allow_empty``); returns the length."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        raise ValueError(
            f"{where}: expected arrays of inputs and labels, got shapes {np.shape(x)} and "
            f"{np.shape(y)}."
        )
    if len(x) != len(y):
        raise ValueError(
            f"{where}: expected as many labels as inputs, got {len(x)} inputs and {len(y)} "
            "labels. Slice both with the same indices."
        )
    if len(x) == 0 and not allow_empty:
        raise ValueError(f"{where}: expected at least one example, got an empty batch.")
    return len(x)
