"""Layers with forward and backward passes, in PyTorch's names and NCHW shapes.

Every layer follows one interface:

* ``forward(x)`` returns the output and keeps what ``backward`` needs (overwritten on each call);
* ``backward(grad_out)`` returns the gradient for the input and writes the parameter gradients
  into ``grads``, a dict with the same keys and shapes as ``params``.

Parameter and gradient arrays are created once and then updated *in place* (by ``backward``, by
the optimisers and by ``load_state_dict``), so an optimiser can hold on to them.

Convolution and max pooling exist twice: a readable loop version (``conv2d_naive``,
``maxpool2d_naive`` and their backward passes) that the chapters teach with, and the vectorised
version the layers use (im2col through stride tricks and one matrix product per layer).
"""

from __future__ import annotations

import copy

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "Module",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "ReLU",
    "Flatten",
    "Linear",
    "conv_output_size",
    "im2col",
    "conv2d",
    "conv2d_naive",
    "conv2d_backward_naive",
    "maxpool2d",
    "maxpool2d_naive",
    "maxpool2d_backward_naive",
]


# --------------------------------------------------------------------------- checks and sizes
def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _non_negative_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
    return int(value)


def _check_nchw(x: np.ndarray, where: str, channels: int | None = None) -> None:
    if x.ndim != 4:
        raise ValueError(
            f"{where} expects a 4-D input of shape (N, C, H, W), got shape {x.shape} "
            f"({x.ndim}-D). For a batch of 28x28 images use x.reshape(-1, 1, 28, 28)."
        )
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"{where} expects {channels} input channel(s), i.e. shape (N, {channels}, H, W), "
            f"got shape {x.shape} with {x.shape[1]} channel(s)."
        )


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Output length along one spatial axis of a convolution or pooling window.

    ``out = (size + 2 * padding - kernel_size) // stride + 1``

    >>> conv_output_size(28, 5)
    24
    >>> conv_output_size(28, 3, stride=2, padding=1)
    14
    """
    size = _positive_int("size", size)
    kernel_size = _positive_int("kernel_size", kernel_size)
    stride = _positive_int("stride", stride)
    padding = _non_negative_int("padding", padding)
    if kernel_size > size + 2 * padding:
        raise ValueError(
            f"kernel_size {kernel_size} is larger than the padded input "
            f"({size} + 2*{padding} = {size + 2 * padding}). Use a smaller kernel or more padding."
        )
    return (size + 2 * padding - kernel_size) // stride + 1


def _check_weight(weight: np.ndarray, bias, where: str) -> None:
    if weight.ndim != 4 or weight.shape[2] != weight.shape[3]:
        raise ValueError(
            f"{where} expects weight of shape (F, C, k, k) with a square k x k kernel, got "
            f"shape {weight.shape}."
        )
    if bias is not None and np.shape(bias) != (weight.shape[0],):
        raise ValueError(
            f"{where} expects bias of shape ({weight.shape[0]},), one per filter, got shape "
            f"{np.shape(bias)}."
        )


def _output_hw(
    x: np.ndarray, where: str, kernel_size: int, stride: int, padding: int = 0
) -> tuple[int, int]:
    """(OH, OW) for an NCHW input, with an error that names the received shape."""
    try:
        return (
            conv_output_size(x.shape[2], kernel_size, stride, padding),
            conv_output_size(x.shape[3], kernel_size, stride, padding),
        )
    except ValueError as exc:
        raise ValueError(
            f"{where}: {exc} Received input of shape {x.shape} (N, C, H, W)."
        ) from None


def _pad(x: np.ndarray, padding: int) -> np.ndarray:
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def _unpad(x: np.ndarray, padding: int) -> np.ndarray:
    # Not x[:, :, p:-p]: that is empty when p == 0.
    if padding == 0:
        return x
    return x[:, :, padding : x.shape[2] - padding, padding : x.shape[3] - padding]


def _windows(x: np.ndarray, kernel_size: int, stride: int) -> np.ndarray:
    """A read-only view of every window: (N, C, OH, OW, k, k), no copy."""
    view = sliding_window_view(x, (kernel_size, kernel_size), axis=(2, 3))
    return view[:, :, ::stride, ::stride]


# --------------------------------------------------------------------------- loop versions
def conv2d_naive(x, weight, bias=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Convolution with explicit loops: slide, multiply, sum. For teaching and testing.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    weight : ndarray, shape (F, C, k, k)
    bias : ndarray, shape (F,), optional
    stride, padding : int

    Returns
    -------
    out : ndarray, shape (N, F, OH, OW)
        ``OH = (H + 2 * padding - k) // stride + 1``, likewise ``OW``.
    """
    x, weight = np.asarray(x), np.asarray(weight)
    _check_weight(weight, bias, "conv2d_naive")
    _check_nchw(x, "conv2d_naive", channels=weight.shape[1])
    n, _, h, w = x.shape
    f, _, k, _ = weight.shape
    oh, ow = _output_hw(x, "conv2d_naive", k, stride, padding)
    xp = _pad(x, padding)
    out = np.zeros((n, f, oh, ow), dtype=np.result_type(x, weight))
    for i in range(n):
        for c in range(f):
            for r in range(oh):
                for s in range(ow):
                    patch = xp[i, :, r * stride : r * stride + k, s * stride : s * stride + k]
                    out[i, c, r, s] = np.sum(patch * weight[c])
            if bias is not None:
                out[i, c] += bias[c]
    return out


def conv2d_backward_naive(grad_out, x, weight, stride: int = 1, padding: int = 0):
    """Backward pass of :func:`conv2d_naive` with explicit loops.

    Each output value ``out[i, c, r, s]`` was a sum of ``patch * weight[c]``, so its gradient
    flows to the patch (scaled by the weights) and to the weights (scaled by the patch).

    Parameters
    ----------
    grad_out : ndarray, shape (N, F, OH, OW)
    x : ndarray, shape (N, C, H, W)
    weight : ndarray, shape (F, C, k, k)

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dweight : ndarray, shape (F, C, k, k)
    dbias : ndarray, shape (F,)
    """
    x, weight, grad_out = np.asarray(x), np.asarray(weight), np.asarray(grad_out)
    n, f, oh, ow = grad_out.shape
    k = weight.shape[2]
    xp = _pad(x, padding)
    dxp = np.zeros_like(xp, dtype=np.result_type(x, weight, grad_out))
    dweight = np.zeros_like(weight, dtype=dxp.dtype)
    for i in range(n):
        for c in range(f):
            for r in range(oh):
                for s in range(ow):
                    rs, cs = r * stride, s * stride
                    g = grad_out[i, c, r, s]
                    dweight[c] += g * xp[i, :, rs : rs + k, cs : cs + k]
                    dxp[i, :, rs : rs + k, cs : cs + k] += g * weight[c]
    dbias = grad_out.sum(axis=(0, 2, 3))
    return _unpad(dxp, padding), dweight, dbias


def maxpool2d_naive(x, kernel_size: int, stride: int | None = None) -> np.ndarray:
    """Max pooling with explicit loops. Shapes as :class:`MaxPool2d`."""
    x = np.asarray(x)
    _check_nchw(x, "maxpool2d_naive")
    stride = kernel_size if stride is None else stride
    n, c, h, w = x.shape
    oh, ow = _output_hw(x, "maxpool2d_naive", kernel_size, stride)
    out = np.zeros((n, c, oh, ow), dtype=x.dtype)
    for i in range(n):
        for ch in range(c):
            for r in range(oh):
                for s in range(ow):
                    window = x[
                        i,
                        ch,
                        r * stride : r * stride + kernel_size,
                        s * stride : s * stride + kernel_size,
                    ]
                    out[i, ch, r, s] = window.max()
    return out


def maxpool2d_backward_naive(grad_out, x, kernel_size: int, stride: int | None = None):
    """Backward pass of max pooling with loops: each gradient goes to its window's maximum.

    When a window holds several equal maxima (common after ReLU, which makes zeros), the
    gradient goes to the first one in row-major order, as in PyTorch.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    x, grad_out = np.asarray(x), np.asarray(grad_out)
    stride = kernel_size if stride is None else stride
    n, c, oh, ow = grad_out.shape
    dx = np.zeros(x.shape, dtype=np.result_type(x, grad_out))
    for i in range(n):
        for ch in range(c):
            for r in range(oh):
                for s in range(ow):
                    rs, cs = r * stride, s * stride
                    window = x[i, ch, rs : rs + kernel_size, cs : cs + kernel_size]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[i, ch, rs + a, cs + b] += grad_out[i, ch, r, s]
    return dx


# --------------------------------------------------------------------------- vectorised versions
def im2col(x, kernel_size: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Unfold every k x k window of ``x`` into a row of a matrix.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)

    Returns
    -------
    cols : ndarray, shape (N * OH * OW, C * k * k)
        Row ``(i * OH + r) * OW + s`` holds the window under output position ``(r, s)`` of
        image ``i``, flattened in (C, k, k) order, the order of ``weight.reshape(F, -1)``.
        A convolution is then one matrix product: ``cols @ weight.reshape(F, -1).T``.
    """
    x = np.asarray(x)
    _check_nchw(x, "im2col")
    n, c, h, w = x.shape
    oh, ow = _output_hw(x, "im2col", kernel_size, stride, padding)
    win = _windows(_pad(x, padding), kernel_size, stride)  # (N, C, OH, OW, k, k) view
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kernel_size * kernel_size)


def _im2col_channels_last(x: np.ndarray, k: int, stride: int, padding: int) -> np.ndarray:
    """im2col with rows in (kh, kw, C) order, read from channels-last memory.

    Same windows as :func:`im2col`, but each row is flattened as (kh, kw, C). When ``x`` is an
    NCHW view of channels-last memory (what :class:`Conv2d` returns), every kernel row of a
    window is one contiguous run of ``k * C`` numbers, so the copy is several times faster.
    """
    n, c, h, w = x.shape
    if c == 1:
        # One channel (the first layer on grey images): copy each kernel offset's shifted
        # image as a whole (long contiguous runs) into column (i, j) of a transposed matrix.
        xp = _pad(x, padding)[:, 0]
        oh = (h + 2 * padding - k) // stride + 1
        ow = (w + 2 * padding - k) // stride + 1
        cols_t = np.empty((k * k, n, oh, ow), dtype=x.dtype)
        for i in range(k):
            for j in range(k):
                rows = slice(i, i + stride * oh, stride)
                cols_t[i * k + j] = xp[:, rows, j : j + stride * ow : stride]
        return cols_t.reshape(k * k, -1).T  # (N*OH*OW, k*k) view
    xh = x.transpose(0, 2, 3, 1)  # (N, H, W, C) view
    if padding:
        xh = np.pad(xh, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    win = sliding_window_view(xh, (k, k), axis=(1, 2))[:, ::stride, ::stride]  # N,OH,OW,C,k,k
    oh, ow = win.shape[1], win.shape[2]
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, k * k * c)


def conv2d(x, weight, bias=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Vectorised convolution (im2col and one matrix product). Same result as
    :func:`conv2d_naive`.

    Shape
    -----
    x (N, C, H, W), weight (F, C, k, k), bias (F,) -> out (N, F, OH, OW)
    """
    x, weight = np.asarray(x), np.asarray(weight)
    _check_weight(weight, bias, "conv2d")
    _check_nchw(x, "conv2d", channels=weight.shape[1])
    n, _, h, w = x.shape
    f, _, k, _ = weight.shape
    oh, ow = _output_hw(x, "conv2d", k, stride, padding)
    out = im2col(x, k, stride, padding) @ weight.reshape(f, -1).T
    if bias is not None:
        out += bias
    return out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2)


def maxpool2d(x, kernel_size: int, stride: int | None = None) -> np.ndarray:
    """Vectorised max pooling. Same result as :func:`maxpool2d_naive`."""
    x = np.asarray(x)
    _check_nchw(x, "maxpool2d")
    stride = kernel_size if stride is None else stride
    _output_hw(x, "maxpool2d", kernel_size, stride)
    return _windows(x, kernel_size, stride).max(axis=(4, 5))


# --------------------------------------------------------------------------- layers
class Module:
    """Base class: a layer with ``params``/``grads`` dicts and forward/backward passes."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    def train(self, mode: bool = True) -> Module:
        """Training mode (the default): ``forward`` keeps what ``backward`` needs."""
        self.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Inference mode: ``forward`` keeps no cache (less memory); ``backward`` is unavailable."""
        return self.train(False)

    def forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def zero_grad(self) -> None:
        """Set every gradient to zero, in place."""
        for g in self.grads.values():
            g.fill(0)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of the output for an input of ``input_shape`` (batch axis included).

        Runs on a copy of the layer, so a pending ``backward`` is not disturbed.
        """
        return copy.deepcopy(self).forward(np.zeros(input_shape, dtype=np.float32)).shape

    def _make_params(self, dtype, **arrays: np.ndarray) -> None:
        for name, value in arrays.items():
            self.params[name] = np.ascontiguousarray(value, dtype=dtype)
            self.grads[name] = np.zeros_like(self.params[name])

    def _require_forward(self, *names: str) -> None:
        if any(getattr(self, name, None) is None for name in names):
            raise RuntimeError(
                f"{type(self).__name__}.backward() was called before forward(), or after a "
                "forward() in eval mode, which keeps no cache. Call model.train() and "
                "forward(x) first: it stores what backward needs."
            )


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in PyTorch) over NCHW input.

    Parameters
    ----------
    in_channels, out_channels, kernel_size : int
    stride : int, default 1
    padding : int, default 0
        Zeros added on every side of each image.
    rng : int or numpy.random.Generator, optional
        Seed for He initialisation, ``weight ~ N(0, 2 / (in_channels * k * k))``; bias is zero.
    dtype : numpy dtype, default float32

    Shape
    -----
    input (N, in_channels, H, W) -> output (N, out_channels, OH, OW), with
    ``OH = (H + 2 * padding - kernel_size) // stride + 1`` (likewise ``OW``).
    ``params["weight"]`` is (out_channels, in_channels, k, k), ``params["bias"]`` (out_channels,).
    """

    EVAL_CHUNK = 64  # images unfolded at a time in eval mode

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        *,
        rng=None,
        dtype=np.float32,
    ) -> None:
        super().__init__()
        self.in_channels = _positive_int("in_channels", in_channels)
        self.out_channels = _positive_int("out_channels", out_channels)
        self.kernel_size = _positive_int("kernel_size", kernel_size)
        self.stride = _positive_int("stride", stride)
        self.padding = _non_negative_int("padding", padding)
        fan_in = in_channels * kernel_size * kernel_size
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        weight = _rng(rng).standard_normal(shape) * np.sqrt(2.0 / fan_in)
        self._make_params(dtype, weight=weight, bias=np.zeros(out_channels))
        self._cols = self._x_shape = None

    def __repr__(self) -> str:
        extra = f", stride={self.stride}" if self.stride != 1 else ""
        extra += f", padding={self.padding}" if self.padding else ""
        return (
            f"Conv2d({self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}{extra})"
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        _check_nchw(x, "Conv2d", channels=self.in_channels)
        n, _, h, w = x.shape
        k, s, p = self.kernel_size, self.stride, self.padding
        oh, ow = _output_hw(x, "Conv2d", k, s, p)
        w_mat = self.params["weight"].transpose(0, 2, 3, 1).reshape(self.out_channels, -1)
        self._x_shape = x.shape
        if self.training:
            self._cols = _im2col_channels_last(x, k, s, p)  # (N*OH*OW, k*k*C)
            out = self._cols @ w_mat.T
            out += self.params["bias"]
            out = out.reshape(n, oh, ow, self.out_channels)
        else:
            # Inference keeps no cache; unfolding a few images at a time keeps the column
            # matrix in cache (and memory bounded) for any batch size.
            self._cols = None
            out = np.empty((n, oh, ow, self.out_channels), dtype=np.result_type(x, w_mat))
            for i in range(0, n, self.EVAL_CHUNK):
                part = _im2col_channels_last(x[i : i + self.EVAL_CHUNK], k, s, p) @ w_mat.T
                part += self.params["bias"]
                out[i : i + self.EVAL_CHUNK] = part.reshape(-1, oh, ow, self.out_channels)
        # (N, OH, OW, F) -> (N, F, OH, OW) as a view: no copy, channels-last memory underneath,
        # which is the layout the next layer's im2col reads fastest.
        return out.transpose(0, 3, 1, 2)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Fill ``grads`` and return the input gradient (None when ``input_grad`` is False,
        which saves the col2im step for a first layer, whose input needs no gradient)."""
        self._require_forward("_cols")
        n, c, h, w = self._x_shape
        k, s, p = self.kernel_size, self.stride, self.padding
        f = self.out_channels
        _, _, oh, ow = grad_out.shape
        g = grad_out.transpose(0, 2, 3, 1).reshape(-1, f)  # (N*OH*OW, F)
        dw = (g.T @ self._cols).reshape(f, k, k, c)  # columns in (kh, kw, C) order
        self.grads["weight"][...] = dw.transpose(0, 3, 1, 2)
        np.sum(g, axis=0, out=self.grads["bias"])
        if not input_grad:
            return None
        # Gradient of every window, one (N, OH, OW, C) block per kernel offset (i, j) ...
        w_blocks = self.params["weight"].transpose(2, 3, 0, 1).reshape(k * k, f, c)
        dwin = np.matmul(g, w_blocks)  # (k*k, N*OH*OW, C), contiguous per offset
        # ... added back where the window came from (col2im), channels-last.
        dxp = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=dwin.dtype)
        for i in range(k):
            for j in range(k):
                block = dwin[i * k + j].reshape(n, oh, ow, c)
                dxp[:, i : i + s * oh : s, j : j + s * ow : s, :] += block
        return dxp[:, p : p + h, p : p + w, :].transpose(0, 3, 1, 2)


class MaxPool2d(Module):
    """Max pooling over k x k windows.

    Parameters
    ----------
    kernel_size : int
    stride : int, optional
        Defaults to ``kernel_size`` (non-overlapping windows), as in PyTorch.

    Shape
    -----
    input (N, C, H, W) -> output (N, C, OH, OW), ``OH = (H - kernel_size) // stride + 1``.

    Notes
    -----
    Vectorised over the k*k offsets of a window rather than over windows: offset ``(i, j)``
    of every window at once is the strided slice ``x[:, :, i::stride, j::stride]``, so the
    maximum is ``k*k - 1`` elementwise maxima. The backward pass sends each gradient to the
    first maximal offset in row-major order (as :func:`maxpool2d_backward_naive` and PyTorch).
    """

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.kernel_size = _positive_int("kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else _positive_int("stride", stride)
        self._x = self._out = None

    def __repr__(self) -> str:
        extra = f", stride={self.stride}" if self.stride != self.kernel_size else ""
        return f"MaxPool2d(kernel_size={self.kernel_size}{extra})"

    def _offsets(self, x: np.ndarray):
        """The strided slice of ``x`` under offset (i, j) of every window, for each offset."""
        k, s = self.kernel_size, self.stride
        oh, ow = _output_hw(x, "MaxPool2d", k, s)
        for i in range(k):
            for j in range(k):
                yield (
                    slice(None),
                    slice(None),
                    slice(i, i + s * (oh - 1) + 1, s),
                    slice(j, j + s * (ow - 1) + 1, s),
                )

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        _check_nchw(x, "MaxPool2d")
        out = None
        for idx in self._offsets(x):
            out = x[idx].copy() if out is None else np.maximum(out, x[idx], out=out)
        self._x, self._out = (x, out) if self.training else (None, None)
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        self._require_forward("_x")
        x, out = self._x, self._out
        dx = np.zeros(x.shape, dtype=grad_out.dtype)
        unclaimed = np.ones(out.shape, dtype=bool)  # windows whose maximum is not yet found
        for idx in self._offsets(x):
            hit = x[idx] == out
            hit &= unclaimed
            unclaimed &= ~hit
            dx[idx] += grad_out * hit
        return dx


class AvgPool2d(Module):
    """Average pooling over k x k windows; stride defaults to ``kernel_size``.

    Shape
    -----
    input (N, C, H, W) -> output (N, C, OH, OW), ``OH = (H - kernel_size) // stride + 1``.
    """

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.kernel_size = _positive_int("kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else _positive_int("stride", stride)
        self._x_shape = None

    def __repr__(self) -> str:
        extra = f", stride={self.stride}" if self.stride != self.kernel_size else ""
        return f"AvgPool2d(kernel_size={self.kernel_size}{extra})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        _check_nchw(x, "AvgPool2d")
        k, s = self.kernel_size, self.stride
        _output_hw(x, "AvgPool2d", k, s)
        self._x_shape = x.shape if self.training else None
        return _windows(x, k, s).mean(axis=(4, 5))

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        self._require_forward("_x_shape")
        k, s = self.kernel_size, self.stride
        _, _, oh, ow = grad_out.shape
        dx = np.zeros(self._x_shape, dtype=grad_out.dtype)
        share = grad_out / (k * k)  # every input in the window had weight 1/k^2
        for i in range(k):
            for j in range(k):
                dx[:, :, i : i + s * oh : s, j : j + s * ow : s] += share
        return dx


class ReLU(Module):
    """``max(x, 0)`` elementwise; the gradient passes where the input was positive.

    Shape
    -----
    any -> same shape
    """

    def __init__(self) -> None:
        super().__init__()
        self._mask = None

    def __repr__(self) -> str:
        return "ReLU()"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._mask = x > 0 if self.training else None
        return np.maximum(x, 0, dtype=x.dtype) if x.dtype.kind == "f" else np.maximum(x, 0)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        self._require_forward("_mask")
        return grad_out * self._mask  # (multiplying by a bool mask is ~10x faster than where)


class Flatten(Module):
    """Flatten every axis but the batch axis.

    Shape
    -----
    input (N, C, H, W) -> output (N, C * H * W)
    """

    def __init__(self) -> None:
        super().__init__()
        self._x_shape = None

    def __repr__(self) -> str:
        return "Flatten()"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(
                f"Flatten expects a batch of shape (N, ...) with at least 2 dimensions, "
                f"got shape {x.shape}."
            )
        self._x_shape = x.shape if self.training else None
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        self._require_forward("_x_shape")
        return grad_out.reshape(self._x_shape)


class Linear(Module):
    """Fully-connected layer: ``y = x @ weight.T + bias``.

    Parameters
    ----------
    in_features, out_features : int
    rng : int or numpy.random.Generator, optional
        Seed for He initialisation, ``weight ~ N(0, 2 / in_features)``; bias is zero.
    dtype : numpy dtype, default float32

    Shape
    -----
    input (N, in_features) -> output (N, out_features). ``params["weight"]`` is
    (out_features, in_features), ``params["bias"]`` (out_features,).
    """

    def __init__(self, in_features: int, out_features: int, *, rng=None, dtype=np.float32) -> None:
        super().__init__()
        self.in_features = _positive_int("in_features", in_features)
        self.out_features = _positive_int("out_features", out_features)
        weight = _rng(rng).standard_normal((out_features, in_features)) * np.sqrt(2.0 / in_features)
        self._make_params(dtype, weight=weight, bias=np.zeros(out_features))
        self._x = None

    def __repr__(self) -> str:
        return f"Linear(in_features={self.in_features}, out_features={self.out_features})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"Linear expects input of shape (N, {self.in_features}), got shape {x.shape}. "
                "Put a Flatten() before it, or check in_features."
            )
        self._x = x if self.training else None
        out = x @ self.params["weight"].T
        out += self.params["bias"]
        return out

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Fill ``grads``; return the input gradient (None when ``input_grad`` is False)."""
        self._require_forward("_x")
        np.matmul(grad_out.T, self._x, out=self.grads["weight"])
        np.sum(grad_out, axis=0, out=self.grads["bias"])
        return grad_out @ self.params["weight"] if input_grad else None
