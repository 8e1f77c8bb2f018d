"""The shared base of the chapter widgets: a box of controls over a drawing, and helpers."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from cnnlib import (
    conv2d,
)

from ..plots import (
    DIGIT_CMAP,
    DIVERGING_CMAP,
    figure_to_png,
)

__all__ = ["FigureWidget", "frozen", "as_image_stack", "as_image", "check_index",
           "as_labels_or_none", "resolve_kernel", "feature_map", "pad2d", "outline",
           "signed_imshow", "plain_axes", "draw_padded_input", "CUSTOM", "WINDOW_COLOUR",
           "PRESET_KERNELS"]


class FigureWidget(widgets.VBox):
    """Controls above a matplotlib drawing that is redrawn whenever a control changes.

    Subclasses build ``controls`` and implement :meth:`draw`, which returns a matplotlib
    figure and fills ``self.data`` with the arrays it drew.
    """

    def __init__(self, controls: dict[str, widgets.Widget], *, layout_rows=None,
                 width: str = "100%", dpi: int = 90, **kwargs: Any) -> None:
        self.controls = controls
        self.data: dict[str, Any] = {}
        self.dpi = dpi
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=width,
                                                                       max_width="900px"))
        rows = layout_rows if layout_rows is not None else [
            widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))]
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


def outline(ax, top: int, left: int, height: int, width: int, **style) -> None:
    """A rectangle around cells [top, top + height) x [left, left + width) of an imshow."""
    style = {"fill": False, "edgecolor": WINDOW_COLOUR, "linewidth": 2.2, **style}
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, **style))


def signed_imshow(ax, a: np.ndarray, limit: float | None = None):
    limit = limit if limit is not None else (float(np.abs(a).max()) or 1.0)
    return ax.imshow(a, cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")


def plain_axes(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def draw_padded_input(ax, image: np.ndarray, padding: int, title: str) -> None:
    """The input with its zero padding, the original image framed by a dotted line."""
    ax.imshow(pad2d(image, padding), cmap=DIGIT_CMAP, vmin=0.0,
              vmax=max(1.0, float(image.max())), interpolation="nearest")
    if padding:
        ax.add_patch(Rectangle((padding - 0.5, padding - 0.5), image.shape[1], image.shape[0],
                               fill=False, edgecolor="0.55", linestyle=":", linewidth=1.2))
    ax.set_title(title, fontsize=10)
    plain_axes(ax)


# --- anywidget base (provisional copy of the spec in widgets.md; widgets-a's version wins) ---
import base64 as _base64  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

import anywidget as _anywidget  # noqa: E402

_JS_DIR = _Path(__file__).resolve().parent / "js"


class BookWidget(_anywidget.AnyWidget):
    """An anywidget whose front-end is ``js/common.js`` followed by ``js/<_js>``.

    ``data`` holds :meth:`compute` for the current values of the traits in ``_inputs``.
    """

    _js = ""
    _inputs: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_js"):
            cls._esm = ((_JS_DIR / "common.js").read_text(encoding="utf-8") + "\n"
                        + (_JS_DIR / cls._js).read_text(encoding="utf-8"))

    def __init__(self, **kwargs):
        self.data = {}
        super().__init__(**kwargs)
        if self._inputs:
            self.observe(self._refresh, names=list(self._inputs))
        self._refresh()

    def _refresh(self, _change=None) -> None:
        self.data = self.compute()

    def compute(self) -> dict:
        return {}


def pack(array, dtype: str = "float32") -> dict:
    """``{"shape", "dtype", "b64"}``: an array as little-endian bytes in base64."""
    if dtype not in ("float32", "uint8"):
        raise ValueError(f"dtype must be 'float32' or 'uint8', got {dtype!r}.")
    a = np.ascontiguousarray(np.asarray(array), dtype="<f4" if dtype == "float32" else "u1")
    return {"shape": list(a.shape), "dtype": dtype,
            "b64": _base64.b64encode(a.tobytes()).decode("ascii")}
