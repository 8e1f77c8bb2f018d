"""Fast paths for :class:`cnnlib.layers.Conv2d`: the same numbers as the readable version in
:mod:`cnnlib.functional`, arranged for speed. Private: a reader studies ``functional``; the
layer picks these when ``Conv2d.fast`` is True, and ``tests/test__fast.py`` checks both agree.

Three tricks, each worth a few times on the seed network (chapter 6 measures them):

* **channels-last memory.** The layer returns an NCHW *view* of (N, H, W, C) memory, so the next
  layer's windows read ``k * C`` contiguous numbers per kernel row.
* **one channel.** For a grey image, each kernel offset's shifted image is copied whole.
* **chunked inference.** In eval mode a few images are unfolded at a time, so the column matrix
  stays in cache and memory is bounded for any batch size.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .functional import _pad

EVAL_CHUNK = 64  # images unfolded at a time in eval mode


def im2col_channels_last(x: np.ndarray, k: int, stride: int, padding: int) -> np.ndarray:
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
        return cols_t.reshape(k * k, n * oh * ow).T  # (N*OH*OW, k*k) view
    xh = x.transpose(0, 2, 3, 1)  # (N, H, W, C) view
    if padding:
        xh = np.pad(xh, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    win = sliding_window_view(xh, (k, k), axis=(1, 2))[:, ::stride, ::stride]  # N,OH,OW,C,k,k
    oh, ow = win.shape[1], win.shape[2]
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, k * k * c)




def conv2d_forward(x, weight, bias, stride: int, padding: int, keep_cols: bool):
    """Convolution through :func:`im2col_channels_last`.

    Returns
    -------
    out : ndarray, shape (N, F, OH, OW)
        An NCHW view of channels-last memory.
    cols : ndarray, shape (N*OH*OW, k*k*C), or None
        The column matrix, kept for the backward pass when ``keep_cols``.
    """
    n, _, h, w = x.shape
    f, _, k, _ = weight.shape
    oh = (h + 2 * padding - k) // stride + 1
    ow = (w + 2 * padding - k) // stride + 1
    w_mat = weight.transpose(0, 2, 3, 1).reshape(f, -1)  # columns in (kh, kw, C) order
    if keep_cols:
        cols = im2col_channels_last(x, k, stride, padding)
        out = cols @ w_mat.T
        out += bias
        return out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2), cols
    out = np.empty((n, oh, ow, f), dtype=np.result_type(x, w_mat))
    for i in range(0, n, EVAL_CHUNK):
        part = im2col_channels_last(x[i : i + EVAL_CHUNK], k, stride, padding) @ w_mat.T
        part += bias
        out[i : i + EVAL_CHUNK] = part.reshape(-1, oh, ow, f)
    return out.transpose(0, 3, 1, 2), None


def conv2d_backward(grad_out, cols, x_shape, weight, stride: int, padding: int, input_grad: bool):
    """Backward pass matching :func:`conv2d_forward`; returns ``(dx or None, dweight, dbias)``."""
    n, c, h, w = x_shape
    f, _, k, _ = weight.shape
    s, p = stride, padding
    _, _, oh, ow = grad_out.shape
    g = grad_out.transpose(0, 2, 3, 1).reshape(-1, f)  # (N*OH*OW, F)
    dweight = (g.T @ cols).reshape(f, k, k, c).transpose(0, 3, 1, 2)
    dbias = g.sum(axis=0)
    if not input_grad:
        return None, dweight, dbias
    # Gradient of every window, one (N, OH, OW, C) block per kernel offset (i, j) ...
    w_blocks = weight.transpose(2, 3, 0, 1).reshape(k * k, f, c)
    dwin = np.matmul(g, w_blocks)  # (k*k, N*OH*OW, C), contiguous per offset
    # ... added back where the window came from (col2im), channels-last.
    dxp = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=dwin.dtype)
    for i in range(k):
        for j in range(k):
            block = dwin[i * k + j].reshape(n, oh, ow, c)
            dxp[:, i : i + s * oh : s, j : j + s * ow : s, :] += block
    return dxp[:, p : p + h, p : p + w, :].transpose(0, 3, 1, 2), dweight, dbias
