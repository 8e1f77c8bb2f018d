"""Convolution and pooling as functions: loop versions to learn from, vectorised ones to use.

Chapter 1 and 2 teach with the loop versions (``conv2d_naive``, ``maxpool2d_naive`` and their
backward passes): slide a window, multiply, sum. The vectorised versions compute the same numbers
in the way chapter 6 explains: ``im2col`` unfolds every window into a row of a matrix, one matrix
product does every multiply-add, and ``col2im`` adds the window gradients back where the windows
came from. The layers in :mod:`cnnlib.layers` are built from these functions.

Shapes are NCHW as in PyTorch: ``x`` is (N, C, H, W), a convolution weight (F, C, k, k).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validation import check_nchw, non_negative_int, positive_int

__all__ = [
    "conv_output_size",
    "conv2d_naive",
    "conv2d_backward_naive",
    "maxpool2d_naive",
    "maxpool2d_backward_naive",
    "im2col",
    "col2im",
    "conv2d",
    "conv2d_backward",
    "maxpool2d",
    "maxpool2d_backward",
]


# --------------------------------------------------------------------------- sizes and padding
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Output length along one spatial axis of a convolution or pooling window.

    ``out = (size + 2 * padding - kernel_size) // stride + 1``

    >>> conv_output_size(28, 5)
    24
    >>> conv_output_size(28, 3, stride=2, padding=1)
    14
    """
    size = positive_int("size", size)
    kernel_size = positive_int("kernel_size", kernel_size)
    stride = positive_int("stride", stride)
    padding = non_negative_int("padding", padding)
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
    check_nchw(x, "conv2d_naive", channels=weight.shape[1])
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
    check_nchw(x, "maxpool2d_naive")
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
    check_nchw(x, "im2col")
    n, c, h, w = x.shape
    oh, ow = _output_hw(x, "im2col", kernel_size, stride, padding)
    win = _windows(_pad(x, padding), kernel_size, stride)  # (N, C, OH, OW, k, k) view
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kernel_size * kernel_size)


def conv2d(x, weight, bias=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Vectorised convolution (im2col and one matrix product). Same result as
    :func:`conv2d_naive`.

    Shape
    -----
    x (N, C, H, W), weight (F, C, k, k), bias (F,) -> out (N, F, OH, OW)
    """
    x, weight = np.asarray(x), np.asarray(weight)
    _check_weight(weight, bias, "conv2d")
    check_nchw(x, "conv2d", channels=weight.shape[1])
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
    check_nchw(x, "maxpool2d")
    stride = kernel_size if stride is None else stride
    _output_hw(x, "maxpool2d", kernel_size, stride)
    return _windows(x, kernel_size, stride).max(axis=(4, 5))

def col2im(cols, x_shape, kernel_size: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The reverse of :func:`im2col` for gradients: add every row back onto its window.

    Where windows overlap, their contributions add up, which is exactly what the chain rule asks
    of a convolution's input gradient.

    Parameters
    ----------
    cols : ndarray, shape (N * OH * OW, C * k * k)
        One row per window, in the order :func:`im2col` makes them.
    x_shape : tuple (N, C, H, W)
        Shape of the input the windows were taken from.

    Returns
    -------
    x : ndarray, shape (N, C, H, W)
    """
    n, c, h, w = x_shape
    k = kernel_size
    oh = conv_output_size(h, k, stride, padding)
    ow = conv_output_size(w, k, stride, padding)
    expected = (n * oh * ow, c * k * k)
    if np.shape(cols) != expected:
        raise ValueError(
            f"col2im: expected cols of shape {expected} for input shape {tuple(x_shape)}, "
            f"kernel {k}, stride {stride}, padding {padding}; got {np.shape(cols)}."
        )
    windows = np.asarray(cols).reshape(n, oh, ow, c, k, k)
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=windows.dtype)
    for i in range(k):  # one strided add per kernel offset: k*k adds, not N*OH*OW
        for j in range(k):
            rows = slice(i, i + stride * oh, stride)
            cols_ = slice(j, j + stride * ow, stride)
            xp[:, :, rows, cols_] += windows[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return _unpad(xp, padding)


def conv2d_backward(grad_out, x, weight, stride: int = 1, padding: int = 0):
    """Backward pass of :func:`conv2d`: two matrix products and a col2im.

    With ``cols = im2col(x)`` and ``W = weight.reshape(F, -1)``, the forward pass was
    ``out = cols @ W.T``, so ``dW = g.T @ cols`` and ``dcols = g @ W``, where ``g`` is
    ``grad_out`` with one row per output position.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dweight : ndarray, shape (F, C, k, k)
    dbias : ndarray, shape (F,)
    """
    x, weight, grad_out = np.asarray(x), np.asarray(weight), np.asarray(grad_out)
    f, c, k, _ = weight.shape
    g = grad_out.transpose(0, 2, 3, 1).reshape(-1, f)  # (N*OH*OW, F)
    cols = im2col(x, k, stride, padding)
    dweight = (g.T @ cols).reshape(weight.shape)
    dx = col2im(g @ weight.reshape(f, -1), x.shape, k, stride, padding)
    return dx, dweight, g.sum(axis=0)


def maxpool2d_backward(grad_out, x, kernel_size: int, stride: int | None = None) -> np.ndarray:
    """Backward pass of :func:`maxpool2d`: each gradient goes to its window's (first) maximum.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    x, grad_out = np.asarray(x), np.asarray(grad_out)
    stride = kernel_size if stride is None else stride
    n, c, oh, ow = grad_out.shape
    k = kernel_size
    windows = _windows(x, k, stride).reshape(n, c, oh, ow, k * k)
    first_max = windows.argmax(axis=4)  # argmax picks the first maximum, as PyTorch does
    i, j = np.divmod(first_max, k)
    rows = np.arange(oh)[:, None] * stride + i
    cols = np.arange(ow)[None, :] * stride + j
    dx = np.zeros(x.shape, dtype=np.result_type(x, grad_out))
    nn, cc = np.ogrid[:n, :c]
    np.add.at(dx, (nn[..., None, None], cc[..., None, None], rows, cols), grad_out)
    return dx
