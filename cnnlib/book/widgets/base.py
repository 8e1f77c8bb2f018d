"""The shared base of the chapter widgets.

:class:`BookWidget` is an anywidget: its front-end is a plain ES module (``js/common.js``
followed by the widget's own file) that draws on the page, so the widget works in Jupyter and on
the static book alike. Arrays travel to the page packed by :func:`pack`. Each subclass lists the
traits its computation reads in ``_inputs`` and implements :meth:`BookWidget.compute`, which
returns what cnnlib computes for the current setting; the result is kept in ``widget.data`` (on
the Python side only) so that a test can set ``w.stride = 2`` and compare.

Every chapter's widgets are BookWidgets; the helpers below check arguments and compute what
the widgets show.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import numpy as np
import traitlets

from cnnlib import (
    conv2d,
)

__all__ = ["BookWidget", "pack", "unpack", "esm", "JS_DIR", "pack_images", "kernel_rows",
           "check_int",
           "frozen", "as_image_stack", "as_image", "check_index",
           "as_labels_or_none", "resolve_kernel", "feature_map", "pad2d", "CUSTOM", "WINDOW_COLOUR",
           "PRESET_KERNELS"]

#: The folder of the front-ends: ``common.js`` and one ``<widget>.js`` per widget.
JS_DIR = Path(__file__).resolve().parent / "js"
_PACK_DTYPES = ("float32", "uint8")


def esm(js: str) -> str:
    """The self-contained ES module of a widget: ``common.js`` followed by ``js/<js>``.

    One text, no imports: an ES module loaded from a blob URL cannot import relative files.
    """
    path = JS_DIR / js
    if not path.is_file():
        raise FileNotFoundError(f"no front-end {js!r} in {JS_DIR}; expected a file there.")
    common = (JS_DIR / "common.js").read_text(encoding="utf-8")
    return f"{common}\n// ---- {js}\n{path.read_text(encoding='utf-8')}"


def pack(array, dtype: str = "float32", scale: float | None = None) -> dict[str, Any]:
    """An array as a small JSON-able dict for the page: ``{"shape", "dtype", "b64"}``.

    Parameters
    ----------
    array : array_like
        Any shape; sent in C order.
    dtype : {"float32", "uint8"}, default "float32"
        The type on the wire. uint8 values must already lie in 0..255 unless ``scale`` is given.
    scale : float, optional
        Quantise: send ``round(array / scale)`` as uint8 and add ``"scale"``; the page
        multiplies back (``unpack`` in common.js does). Only with ``dtype="uint8"``.

    Returns
    -------
    dict
        ``{"shape": [...], "dtype": dtype, "b64": base64 of the bytes}`` (+ ``"scale"``).

    Examples
    --------
    >>> pack([[1, 2]], "uint8")
    {'shape': [1, 2], 'dtype': 'uint8', 'b64': 'AQI='}
    """
    if dtype not in _PACK_DTYPES:
        raise ValueError(f"dtype must be one of {_PACK_DTYPES}, got {dtype!r}.")
    a = np.asarray(array)
    if scale is not None:
        if dtype != "uint8":
            raise ValueError(f"scale quantises to uint8: pass dtype='uint8', got {dtype!r}.")
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale!r}.")
        a = np.rint(np.asarray(a, dtype=np.float64) / scale)
    if dtype == "uint8" and a.size and (np.nanmin(a) < 0 or np.nanmax(a) > 255):
        raise ValueError(
            f"uint8 holds 0..255, got values in [{np.nanmin(a)}, {np.nanmax(a)}]; "
            "pass scale= to quantise, or dtype='float32'."
        )
    raw = np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<"))
    packed = {"shape": list(raw.shape), "dtype": dtype,
              "b64": base64.b64encode(raw.tobytes()).decode("ascii")}
    if scale is not None:
        packed["scale"] = float(scale)
    return packed


def unpack(packed: dict[str, Any]) -> np.ndarray:
    """The inverse of :func:`pack` (as the page sees it): float64 if scaled, else the dtype."""
    try:
        raw = base64.b64decode(packed["b64"])
        a = np.frombuffer(raw, dtype=np.dtype(packed["dtype"]).newbyteorder("<"))
        a = a.reshape(packed["shape"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"expected a dict made by pack(), got {packed!r:.80}: {error}") from None
    return a * packed["scale"] if "scale" in packed else a.copy()


def pack_images(images: np.ndarray, original=None) -> dict[str, Any]:
    """Images in [0, 1] for the page, as small as exactness allows.

    uint8 pixels (``original`` was uint8, or the values are multiples of 1/255 as
    ``cnnlib.to_float`` makes them) travel as one byte each, with scale 1/255; anything else
    as float32. The page gets the pixel values to float32 precision or better.
    """
    a = np.asarray(images, dtype=np.float64)
    steps = a * 255.0
    if (original is not None and np.asarray(original).dtype == np.uint8) or (
            a.size and a.min() >= 0.0 and a.max() <= 1.0
            and np.allclose(steps, np.rint(steps), rtol=0.0, atol=1e-4)):
        return pack(a, "uint8", scale=1 / 255)
    return pack(a, "float32")


def kernel_rows(kernel) -> list[list[float]]:
    """A 2-D array as a list of rows of floats (a JSON-able trait value)."""
    return [[float(v) for v in row] for row in np.asarray(kernel, dtype=np.float64)]


def check_int(name: str, value, allowed: range) -> int:
    """``value`` as an int if it is an integer in ``allowed``, else a TraitError saying so."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value not in allowed:
        raise traitlets.TraitError(
            f"{name} must be an integer in {allowed.start}..{allowed.stop - 1}, got {value!r}.")
    return int(value)


class BookWidget(anywidget.AnyWidget):
    """The base of every chapter widget: an anywidget whose page code draws what cnnlib computes.

    Subclasses set ``_js`` (a file in ``js/``; ``_esm`` is built from it once, at class
    creation), ``_inputs`` (the traits :meth:`compute` reads) and implement :meth:`compute`.
    ``widget.data`` holds what :meth:`compute` returned for the current traits; it is refreshed
    whenever one of ``_inputs`` changes, from Python or from the page.
    """

    _js: ClassVar[str] = ""
    _inputs: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_js"):
            cls._esm = esm(cls._js)

    def __init__(self, **kwargs: Any) -> None:
        self.data: dict[str, Any] = {}
        super().__init__(**kwargs)
        if self._inputs:
            self.observe(self._refresh, names=list(self._inputs))
        self._refresh()

    def _refresh(self, _change=None) -> None:
        self.data = self.compute()

    def compute(self) -> dict[str, Any]:
        """What cnnlib computes for the current traits (arrays, shapes, values)."""
        return {}


def frozen(values) -> np.ndarray:
    a = np.array(values, dtype=np.float64)
    a.setflags(write=False)  # shared by every widget and chapter: nobody may change it
    return a


#: The hand-designed 3x3 kernels of chapter 1, by name (read-only float64 arrays).
#: Applied as cnnlib applies every kernel: as a cross-correlation, not flipped.
PRESET_KERNELS: dict[str, np.ndarray] = {
    "identity": frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "edge": frozen([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "Sobel x": frozen([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "Sobel y": frozen([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "blur": frozen(np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16),
    "sharpen": frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "emboss": frozen([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
}
CUSTOM = "custom"
WINDOW_COLOUR = "tab:orange"


def as_image_stack(images, name: str = "images") -> np.ndarray:
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


def as_image(image) -> np.ndarray:
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


def check_index(index, n: int) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise ValueError(f"index must be an integer in 0..{n - 1}, got {index!r}.")
    return int(index)


def as_labels_or_none(labels, n: int):
    if labels is None:
        return None
    a = np.asarray(labels).reshape(-1)
    if a.shape[0] != n:
        raise ValueError(f"labels must have one entry per image: expected {n}, got {a.shape[0]}.")
    return a


def resolve_kernel(kernel, size: int | None = None) -> tuple[str, np.ndarray]:
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
    name = next((n for n, v in PRESET_KERNELS.items() if np.array_equal(v, k)), CUSTOM)
    return name, k.copy()


def feature_map(image: np.ndarray, kernel: np.ndarray, stride: int = 1,
                 padding: int = 0) -> np.ndarray:
    """One kernel over one image: (H, W) -> (OH, OW), with cnnlib.conv2d."""
    return conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]


def pad2d(image: np.ndarray, padding: int) -> np.ndarray:
    return np.pad(image, padding) if padding else image





