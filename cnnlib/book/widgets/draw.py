"""Draw your own digit: a canvas, MNIST's preprocessing, and the seed network in the page.

The reader draws on a 280 x 280 canvas. The page turns the drawing into a 28 x 28 image the way
MNIST was made (the bounding box of the ink scaled to fit 20 x 20 with its aspect ratio kept,
anti-aliased by area averaging, and placed so that its centre of mass sits at the centre),
standardises it with the training statistics and runs the seed network's forward pass in
JavaScript, with the weights of a model cnnlib trained (``js/draw_digit.js``).

This module does the same arithmetic in NumPy, step for step (:func:`rasterise`,
:func:`preprocess_drawing`), so a test can compare the two and a reader with a kernel can drive
the widget from Python: set ``widget.strokes`` or ``widget.pixels`` and read ``widget.data``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import numpy as np
import traitlets

from cnnlib import seed_network, softmax

from .base import BookWidget, pack, unpack

__all__ = ["CANVAS", "PEN_RADIUS", "DrawDigit", "draw_digit", "preprocess_drawing", "rasterise"]

#: Side of the drawing canvas, in its own pixels (and the CSS pixels it is shown at).
CANVAS = 280
#: Radius of the pen, in canvas pixels: a digit drawn 200 px tall gets MNIST's 2 px strokes.
PEN_RADIUS = 10.0
INPUT = 28  # the network's input side
BOX = 20  # MNIST scaled each digit's bounding box to fit 20 x 20


# --------------------------------------------------------------------------- drawing
def _stamp(raster: np.ndarray, x0: float, y0: float, x1: float, y1: float,
           radius: float) -> None:
    """Ink one straight piece of pen track into ``raster``, in place (as ``stamp`` in JS).

    A pixel whose centre lies at distance ``d`` from the segment gets
    ``clip(radius + 0.5 - d, 0, 1)``: full ink inside, an anti-aliased edge one pixel wide.
    Overlapping ink keeps the maximum.
    """
    h, w = raster.shape
    dx, dy = x1 - x0, y1 - y0
    len2 = dx * dx + dy * dy
    reach = radius + 1
    left = max(0, math.floor(min(x0, x1) - reach))
    right = min(w - 1, math.ceil(max(x0, x1) + reach))
    top = max(0, math.floor(min(y0, y1) - reach))
    bottom = min(h - 1, math.ceil(max(y0, y1) + reach))
    if left > right or top > bottom:
        return
    cx = np.arange(left, right + 1, dtype=np.float64) + 0.5
    cy = (np.arange(top, bottom + 1, dtype=np.float64) + 0.5)[:, None]
    if len2 > 0:
        t = np.clip(((cx - x0) * dx + (cy - y0) * dy) / len2, 0.0, 1.0)
    else:
        t = np.zeros((len(cy), len(cx)))
    ex = cx - (x0 + t * dx)
    ey = cy - (y0 + t * dy)
    ink = np.clip(radius + 0.5 - np.sqrt(ex * ex + ey * ey), 0.0, 1.0)
    region = raster[top : bottom + 1, left : right + 1]
    np.maximum(region, ink, out=region)


def _check_strokes(strokes) -> list[list[tuple[float, float]]]:
    """Strokes as lists of (x, y) float pairs, or a clear error."""
    if isinstance(strokes, np.ndarray) or not isinstance(strokes, Sequence):
        raise ValueError(
            "strokes must be a list of strokes, each a list of (x, y) points, e.g. "
            f"[[(140, 40), (140, 240)]]; got {type(strokes).__name__}."
        )
    out = []
    for i, stroke in enumerate(strokes):
        points = np.asarray(stroke, dtype=np.float64) if len(stroke) else np.zeros((0, 2))
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(
                f"stroke {i} must be a list of (x, y) points, shape (n, 2); got shape "
                f"{points.shape}."
            )
        if not np.all(np.isfinite(points)):
            raise ValueError(f"stroke {i} holds a NaN or infinite coordinate; got {stroke!r}.")
        out.append([(float(x), float(y)) for x, y in points])
    return out


def rasterise(strokes, size: int = CANVAS, pen_radius: float = PEN_RADIUS,
              base: np.ndarray | None = None) -> np.ndarray:
    """Ink of pen strokes on a square canvas, anti-aliased, as the page draws them.

    Parameters
    ----------
    strokes : list of list of (x, y)
        Pen tracks in canvas pixels (0 to ``size``, y downwards); a one-point stroke is a dot.
    size : int, default 280
    pen_radius : float, default 10
    base : ndarray, optional
        Ink already on the canvas, shape (size, size); strokes are drawn over it.

    Shape
    -----
    -> (size, size) float64, ink from 0 (paper) to 1.
    """
    strokes = _check_strokes(strokes)
    if base is None:
        raster = np.zeros((size, size))
    else:
        raster = np.array(base, dtype=np.float64)
        if raster.shape != (size, size):
            raise ValueError(f"base must have shape ({size}, {size}), got {raster.shape}.")
    for stroke in strokes:
        if len(stroke) == 1:
            _stamp(raster, *stroke[0], *stroke[0], pen_radius)
        for (x0, y0), (x1, y1) in zip(stroke[:-1], stroke[1:], strict=True):
            _stamp(raster, x0, y0, x1, y1, pen_radius)
    return raster


# --------------------------------------------------------------------------- preprocessing
def _area_weights(n: int, m: int) -> np.ndarray:
    """(m, n) matrix averaging n cells into m by area; row i covers [i n/m, (i + 1) n/m)."""
    scale = n / m
    i = np.arange(m, dtype=np.float64)[:, None]
    k = np.arange(n, dtype=np.float64)[None, :]
    overlap = np.minimum((i + 1) * scale, k + 1) - np.maximum(i * scale, k)
    return np.where(overlap > 0, overlap / scale, 0.0)


def _as_image(drawing) -> np.ndarray:
    a = np.asarray(drawing)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(
            "a drawing must be an image of shape (H, W) (e.g. 28 x 28 or 280 x 280) or a list of "
            f"strokes; got an array of shape {a.shape}."
        )
    if a.dtype == np.uint8:
        return a / 255.0
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise ValueError(f"a drawing must hold real numbers, got dtype {a.dtype}.")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1:
        raise ValueError(
            "a drawing's ink must lie in [0, 1] (or be uint8 0..255); got values from "
            f"{np.nanmin(a):g} to {np.nanmax(a):g}."
        )
    return a


def _is_strokes(drawing) -> bool:
    if isinstance(drawing, np.ndarray) or not isinstance(drawing, Sequence):
        return False
    if len(drawing) == 0:
        return True
    first = drawing[0]
    return (isinstance(first, (Sequence, np.ndarray)) and len(first) > 0
            and isinstance(first[0], (Sequence, np.ndarray)))


def _preprocess_raster(raster: np.ndarray) -> np.ndarray:
    """MNIST's recipe on an ink image (H, W) in [0, 1] -> (28, 28); zeros if there is no ink."""
    image = np.zeros((INPUT, INPUT))
    rows = np.flatnonzero((raster > 0).any(axis=1))
    if rows.size == 0:
        return image
    cols = np.flatnonzero((raster > 0).any(axis=0))
    crop = raster[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    bh, bw = crop.shape
    longest = max(bh, bw)
    oh = max(1, math.floor(bh * BOX / longest + 0.5))
    ow = max(1, math.floor(bw * BOX / longest + 0.5))
    small = (_area_weights(bh, oh) @ crop) @ _area_weights(bw, ow).T
    total = small.sum()
    cy = float(np.arange(oh) @ small.sum(axis=1)) / total
    cx = float(np.arange(ow) @ small.sum(axis=0)) / total
    # pixel i spans [i, i + 1): the centre of mass is at cy + 0.5, the field's centre at 14;
    # whole-pixel shifts, kept inside the field
    oy = min(max(math.floor(INPUT / 2 - cy + 1e-7), 0), INPUT - oh)
    ox = min(max(math.floor(INPUT / 2 - cx + 1e-7), 0), INPUT - ow)
    image[oy : oy + oh, ox : ox + ow] = small
    return image


def preprocess_drawing(drawing, *, size: int = CANVAS,
                       pen_radius: float = PEN_RADIUS) -> np.ndarray:
    """Turn a drawing into a 28 x 28 image the way MNIST's digits were made.

    1. the bounding box of the ink is scaled to fit 20 x 20, keeping its aspect ratio, by area
       averaging (each output pixel is the mean ink of the input area it covers), which
       anti-aliases it;
    2. the result is placed in a 28 x 28 field, shifted by whole pixels so that its centre of
       mass lands on the centre (14, 14) of the field (pixel ``i`` spans ``[i, i + 1)``), within
       half a pixel, unless that would push ink off the field.

    The page (``js/draw_digit.js``) does the same arithmetic in JavaScript.

    Parameters
    ----------
    drawing : list of strokes, or ndarray (H, W)
        Pen strokes (lists of (x, y) points on a ``size`` x ``size`` canvas, drawn with
        :func:`rasterise`), or an ink image with values in [0, 1] (uint8 0..255 is scaled),
        e.g. 28 x 28 or 280 x 280.
    size, pen_radius
        The canvas and pen for strokes.

    Shape
    -----
    drawing (H, W) or strokes -> (28, 28)

    Returns
    -------
    ndarray, shape (28, 28), float64
        Ink from 0 to 1, as MNIST pixels divided by 255; standardise it with the training
        statistics, ``(image - data.mean) / data.std``, before the network sees it. A drawing
        without ink gives all zeros.

    Examples
    --------
    >>> image = preprocess_drawing([[(140, 40), (140, 240)]])  # a vertical stroke: a "1"
    >>> image.shape, round(float(image.max()), 2)
    ((28, 28), 1.0)
    """
    if _is_strokes(drawing):
        return _preprocess_raster(rasterise(drawing, size, pen_radius))
    return _preprocess_raster(_as_image(drawing))


# --------------------------------------------------------------------------- the widget
_LAYERS = {"conv1": 1, "conv2": 3, "pooled": 4}  # outputs of seed_network's layers, by index


def _check_seed_network(model) -> None:
    expected = {k: v.shape for k, v in seed_network().state_dict().items()}
    state = getattr(model, "state_dict", None)
    got = {k: np.shape(v) for k, v in state().items()} if callable(state) else None
    if got != expected:
        raise ValueError(
            "draw_digit needs a cnnlib.seed_network() (conv 5x5x8, conv 5x5x8, maxpool 2, "
            f"dense 128, dense 10): expected parameters {expected}, got "
            f"{got if got is not None else type(model).__name__}."
        )


def _pixels_to_json(value, _widget):
    return None if value is None else pack(value, dtype="float32")


def _pixels_from_json(value, _widget):
    return None if value is None else unpack(value)


class DrawDigit(BookWidget):
    """The "draw your own digit" widget; build it with :func:`draw_digit`.

    Traits a test or a reader with a kernel can set: ``strokes`` (list of strokes, each a list
    of [x, y] points on the 280 x 280 canvas), ``pixels`` (an ink image, 28 x 28 or 280 x 280,
    values in [0, 1], drawn under the strokes; None for none) and ``pen_radius``. After each
    change ``data`` holds what cnnlib computes for the drawing: ``raster`` (280, 280),
    ``image`` (28, 28), ``x`` (1, 1, 28, 28) standardised, ``conv1`` (8, 24, 24), ``conv2``
    (8, 20, 20), ``pooled`` (8, 10, 10) (after ReLU), ``logits`` and ``probabilities`` (10,),
    ``prediction`` (an int) and ``status`` ("ready"); for an empty drawing ``status`` is
    "empty" and ``prediction``, ``logits`` and ``probabilities`` are None.
    """

    _js = "draw_digit.js"
    _inputs = ("strokes", "pixels", "pen_radius")

    weights = traitlets.Dict().tag(sync=True)
    mean = traitlets.Float(0.0).tag(sync=True)
    std = traitlets.Float(1.0).tag(sync=True)
    size = traitlets.Int(CANVAS, read_only=True).tag(sync=True)
    pen_radius = traitlets.Float(PEN_RADIUS).tag(sync=True)
    strokes = traitlets.List().tag(sync=True)
    pixels = traitlets.Any(None, allow_none=True).tag(
        sync=True, to_json=_pixels_to_json, from_json=_pixels_from_json)

    def __init__(self, model, mean: float, std: float, *, pen_radius: float = PEN_RADIUS,
                 **kwargs) -> None:
        _check_seed_network(model)
        if not (np.isfinite(mean) and np.isfinite(std) and std > 0):
            raise ValueError(
                "mean and std must be the finite training statistics with std > 0 "
                f"(prepare_mnist()'s data.mean and data.std); got mean={mean!r}, std={std!r}."
            )
        self.model = copy.deepcopy(model).eval()  # a snapshot: the page's weights are fixed
        state = self.model.state_dict()
        super().__init__(weights={k: pack(v, dtype="float32") for k, v in state.items()},
                         mean=float(mean), std=float(std), pen_radius=float(pen_radius),
                         **kwargs)

    @traitlets.validate("strokes")
    def _valid_strokes(self, proposal):
        return [[[x, y] for x, y in stroke] for stroke in _check_strokes(proposal["value"])]

    @traitlets.validate("pixels")
    def _valid_pixels(self, proposal):
        value = proposal["value"]
        if value is None:
            return None
        image = _as_image(value)
        if image.shape not in ((INPUT, INPUT), (CANVAS, CANVAS)):
            raise ValueError(
                f"pixels must be an ink image of shape ({INPUT}, {INPUT}) or ({CANVAS}, "
                f"{CANVAS}); got shape {image.shape}. Use preprocess_drawing for other sizes."
            )
        return image.astype(np.float32)  # what the page receives, so both compute alike

    @traitlets.validate("pen_radius")
    def _valid_radius(self, proposal):
        r = proposal["value"]
        if not (np.isfinite(r) and 0 < r <= CANVAS / 4):
            raise ValueError(f"pen_radius must be in (0, {CANVAS / 4}] canvas pixels, got {r!r}.")
        return r

    def raster(self) -> np.ndarray:
        """The canvas ink (280, 280): ``pixels`` upsampled by repetition, strokes on top."""
        base = None
        if self.pixels is not None:
            f = CANVAS // self.pixels.shape[0]
            base = np.repeat(np.repeat(self.pixels.astype(np.float64), f, 0), f, 1)
        return rasterise(self.strokes, CANVAS, self.pen_radius, base)

    def compute(self) -> dict:
        """What cnnlib computes for the current drawing (see the class docstring)."""
        raster = self.raster()
        image = _preprocess_raster(raster)
        x = ((image - self.mean) / self.std).astype(np.float32)[None, None]
        data = {"raster": raster, "image": image, "x": x}
        if not image.any():
            data.update(status="empty", prediction=None, logits=None, probabilities=None)
            return data
        acts = [a for _, a in self.model.activations(x)]
        data.update({name: acts[i][0] for name, i in _LAYERS.items()})
        logits = acts[-1][0]
        probs = softmax(logits[None].astype(np.float64), axis=1)[0]
        data.update(status="ready", logits=logits, probabilities=probs,
                    prediction=int(np.argmax(probs)))
        return data


def draw_digit(model, mean: float, std: float, *, pen_radius: float = PEN_RADIUS) -> DrawDigit:
    """A canvas to draw a digit on, and what a trained seed network makes of it, in the page.

    Parameters
    ----------
    model : Sequential
        A trained :func:`cnnlib.seed_network`; its weights are copied into the page
        (about 420 KB as float32).
    mean, std : float
        The training statistics the model was trained with (``prepare_mnist()``'s
        ``data.mean`` and ``data.std``).
    pen_radius : float, default 10
        Pen radius in canvas pixels (the canvas is 280 x 280).

    Returns
    -------
    DrawDigit
        Set ``widget.strokes`` or ``widget.pixels`` to draw from Python; ``widget.data`` holds
        what cnnlib computes for the drawing.
    """
    return DrawDigit(model, mean, std, pen_radius=pen_radius)
