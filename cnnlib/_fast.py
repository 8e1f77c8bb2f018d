"""Fast paths for :class:`cnnlib.layers.Conv2d`: the same numbers as the readable version in
:mod:`cnnlib.functional`, arranged for speed. Private: a reader studies ``functional``; the
layer picks these when ``Conv2d.fast`` is True, and ``tests/test__fast.py`` checks both agree.

The tricks (chapter 6 measures the first ones):

* **channels-last memory.** The layer returns an NCHW *view* of (N, H, W, C) memory, so the next
  layer's windows read ``k * C`` contiguous numbers per kernel row.
* **one channel.** For a grey image, each kernel offset's shifted image is copied whole.
* **chunks that stay in cache.** The column matrix is filled a few images at a time, and each
  chunk is multiplied while it is still in the processor's cache. In eval mode only one chunk
  exists at a time, so memory is bounded for any batch size. A training column matrix of at
  most ``KEEP_BYTES`` is kept for the weight gradient; a bigger one is unfolded again, chunk by
  chunk, in the backward pass (faster than reading it back from memory).
* **buffers kept across steps.** Column matrices and zero-padded inputs live in a per-layer
  ``work`` dict and are reused while the shapes stay the same: a fresh multi-megabyte array
  every step costs page faults.
* **the input gradient as a convolution.** For stride 1, the gradient for the input is the
  output gradient, zero-padded by ``k - 1 - padding``, convolved with the kernel flipped in
  both directions (input and output channels swapped): one unfold and one matrix product
  instead of a matrix product with ``k * k`` times more outputs and ``k * k`` strided adds
  (``col2im``, still used for strides above 1).
* **kernel rows for few output channels.** A product with only F < 16 columns uses the
  processor poorly; unfolding along the width only and multiplying by the weight as a
  (k*C, k*F) matrix, then adding the ``k`` kernel rows' shifted results, is faster (the seed
  network's second convolution and its input gradient go this way).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

CHUNK_BYTES = 2**21  # bytes of column matrix unfolded at a time (about half the L2 cache)
CHUNK_IMAGES = 64  # at most this many images per chunk
KEEP_BYTES = 2**24  # a training column matrix up to this size is kept for the backward pass
ROWS_MAX_CHANNELS = 16  # convolutions with fewer output channels go by kernel rows


def _buffer(work: dict | None, name: str, shape: tuple, dtype, zeros: bool = False):
    """The array ``work[name]`` if it has this shape and dtype, else a new one (kept there)."""
    buf = None if work is None else work.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = np.zeros(shape, dtype) if zeros else np.empty(shape, dtype)
        if work is not None:
            work[name] = buf
    return buf


def _padded_nhwc(x: np.ndarray, padding: int, work: dict | None, name: str) -> np.ndarray:
    """``x`` (N, C, H, W) as zero-padded (N, H + 2p, W + 2p, C); the border is zeroed once."""
    xh = x.transpose(0, 2, 3, 1)
    if padding == 0:
        return xh
    n, h, w, c = xh.shape
    buf = _buffer(work, name, (n, h + 2 * padding, w + 2 * padding, c), xh.dtype, zeros=True)
    buf[:, padding : padding + h, padding : padding + w] = xh
    return buf


def _unfold(xh: np.ndarray, k: int, stride: int, dest: np.ndarray) -> np.ndarray:
    """Write every k x k window of padded NHWC ``xh`` into the rows of ``dest``, (kh, kw, C)."""
    n, hp, wp, c = xh.shape
    oh, ow = (hp - k) // stride + 1, (wp - k) // stride + 1
    if c == 1:  # one channel: each kernel offset's shifted image, copied as a whole
        for i in range(k):
            for j in range(k):
                shifted = xh[:, i : i + stride * oh : stride, j : j + stride * ow : stride, 0]
                np.copyto(dest[:, i * k + j].reshape(n, oh, ow), shifted)
        return dest
    win = sliding_window_view(xh, (k, k), axis=(1, 2))[:, ::stride, ::stride]  # N,OH,OW,C,k,k
    np.copyto(dest.reshape(n, oh, ow, k, k, c), win.transpose(0, 1, 2, 4, 5, 3))
    return dest


def _unfold_chunks(xh, k: int, stride: int, work: dict, name: str, keep: bool = False):
    """Unfold padded NHWC ``xh`` a few images at a time, into the buffer ``work[name]``.

    Yields ``(rows, cols)``: which rows of the whole column matrix this chunk is, and those rows.
    A chunk is at most ``CHUNK_BYTES``, so that the matrix product that reads it finds it in the
    cache. With ``keep`` the buffer holds the whole column matrix (each chunk in its own rows);
    otherwise it holds one chunk, overwritten by the next.
    """
    n, hp, wp, c = xh.shape
    per_image = ((hp - k) // stride + 1) * ((wp - k) // stride + 1)
    image_bytes = per_image * k * k * c * xh.dtype.itemsize
    chunk = max(1, min(CHUNK_IMAGES, n, CHUNK_BYTES // image_bytes))
    buf = _new_cols(work, name, (n if keep else chunk) * per_image, k, c, xh.dtype)
    for i in range(0, n, chunk):
        sub = xh[i : i + chunk]
        rows = slice(i * per_image, (i + len(sub)) * per_image)
        part = buf[rows] if keep else buf[: len(sub) * per_image]
        yield rows, _unfold(sub, k, stride, part)


def _conv_nhwc(xh, w_mat, k: int, stride: int, out, work: dict, name: str, keep=False):
    """``out`` (N, OH, OW, F) = every window of padded NHWC ``xh`` times ``w_mat`` (k*k*C, F).

    Returns the whole column matrix (``work[name]``) with ``keep``, else None.
    """
    out2 = out.reshape(-1, out.shape[3])
    for rows, cols in _unfold_chunks(xh, k, stride, work, name, keep):
        np.matmul(cols, w_mat, out=out2[rows])
    if keep:  # the buffer the chunks were unfolded into, as a (rows, k*k*C) matrix
        return _new_cols(work, name, out2.shape[0], k, xh.shape[3], xh.dtype)
    return None


def _new_cols(work, name, rows, k, c, dtype):
    """A (rows, k*k*C) column matrix; for one channel it is the transpose of a contiguous
    (k*k, rows) array, so that each kernel offset's column is filled as one run."""
    if c == 1:
        return _buffer(work, name, (k * k, rows), dtype).T
    return _buffer(work, name, (rows, k * k * c), dtype)


def _conv_rows(xh, weight, out, work: dict, name: str, keep: bool):
    """Stride-1 convolution of padded NHWC ``xh`` into ``out`` (N, OH, OW, F), by kernel rows.

    For few output channels, unfolding whole windows makes a matrix ``k`` times wider than
    needed by a product with only F columns. Here each row is unfolded along the width only
    (``xw``: (N, Hp, OW, k, C)), one product with the weight as a (k*C, k*F) matrix gives every
    kernel row's contribution, and ``k`` shifted adds sum them. Returns ``xw`` with ``keep``.
    """
    n, hp, wp, c = xh.shape
    f, _, k, _ = weight.shape
    oh, ow = hp - k + 1, wp - k + 1
    w_rows = weight.transpose(3, 1, 2, 0).reshape(k * c, k * f)  # [(kw, C), (kh, F)]
    image_bytes = hp * ow * k * max(c, f) * xh.dtype.itemsize
    chunk = n if keep else max(1, min(CHUNK_IMAGES, n, CHUNK_BYTES // image_bytes))
    xw_buf = _buffer(work, name, (chunk, hp, ow, k, c), xh.dtype)
    p_buf = _buffer(work, name + "_p", (chunk * hp * ow, k * f), xh.dtype)
    for i in range(0, n, chunk):
        sub = xh[i : i + chunk]
        m = len(sub)
        xw = xw_buf[:m]
        np.copyto(xw, sliding_window_view(sub, k, axis=2).transpose(0, 1, 2, 4, 3))
        prod = np.matmul(xw.reshape(-1, k * c), w_rows, out=p_buf[: m * hp * ow])
        prod = prod.reshape(m, hp, ow, k, f)  # [image, input row, column, kernel row, F]
        o = out[i : i + m]
        np.copyto(o, prod[:, 0:oh, :, 0, :])
        for t in range(1, k):
            o += prod[:, t : t + oh, :, t, :]
    return xw_buf if keep else None


def _dweight_rows(gh, xw, k: int, work: dict):
    """Weight gradient (F, C, k, k) from the row-unfolded input ``xw`` of :func:`_conv_rows`.

    ``dW[:, :, t] = sum over positions of g[n, r, s] (x) xw[n, r + t, s]``. Placing a copy of
    g, shifted down by t rows, in slot t of ``g_shift`` (N, Hp, OW, k, F) makes all k kernel
    rows one matrix product: ``xw.T @ g_shift``.
    """
    n, oh, ow, f = gh.shape
    hp, c = xw.shape[1], xw.shape[4]
    m = n * hp * ow
    g_shift = _buffer(work, "g_shift", (n, hp, ow, k, f), gh.dtype, zeros=True)
    for t in range(k):  # the rest of slot t stays zero
        g_shift[:, t : t + oh, :, t, :] = gh
    dw = xw.reshape(m, k * c).T @ g_shift.reshape(m, k * f)  # [(kw, C), (kh, F)]
    return dw.reshape(k, c, k, f).transpose(3, 1, 2, 0)


def _by_rows(stride: int, c_in: int, c_out: int) -> bool:
    """Whether :func:`_conv_rows` is the faster way (measured: few output channels)."""
    return stride == 1 and c_in > 1 and c_out < ROWS_MAX_CHANNELS


def im2col_channels_last(x: np.ndarray, k: int, stride: int, padding: int) -> np.ndarray:
    """im2col with rows in (kh, kw, C) order, read from channels-last memory.

    Same windows as :func:`cnnlib.functional.im2col`, but each row is flattened as (kh, kw, C).
    When ``x`` is an NCHW view of channels-last memory (what :class:`Conv2d` returns), every
    kernel row of a window is one contiguous run of ``k * C`` numbers, so the copy is several
    times faster.
    """
    n, c, h, w = x.shape
    xh = _padded_nhwc(x, padding, None, "")
    oh = (h + 2 * padding - k) // stride + 1
    ow = (w + 2 * padding - k) // stride + 1
    return _unfold(xh, k, stride, _new_cols(None, "", n * oh * ow, k, c, xh.dtype))


def conv2d_forward(x, weight, bias, stride: int, padding: int, training: bool, work: dict):
    """Convolution through channels-last windows, a cache-sized chunk of images at a time.

    Returns
    -------
    out : ndarray, shape (N, F, OH, OW)
        An NCHW view of channels-last memory.
    saved : tuple or None
        In training mode, what :func:`conv2d_backward` needs: the zero-padded channels-last
        input, and the column matrix when it is at most ``KEEP_BYTES`` (else None: the backward
        pass unfolds the input again, chunk by chunk, which is faster than keeping a matrix
        too big for the cache).
    """
    n, c, h, w = x.shape
    f, _, k, _ = weight.shape
    oh = (h + 2 * padding - k) // stride + 1
    ow = (w + 2 * padding - k) // stride + 1
    dtype = np.result_type(x, weight)
    w_mat = weight.astype(dtype, copy=False).transpose(2, 3, 1, 0).reshape(k * k * c, f)
    xh = _padded_nhwc(x.astype(dtype, copy=False), padding, work if training else None, "xpad")
    out = np.empty((n, oh, ow, f), dtype)
    if _by_rows(stride, c, f):
        xw = _conv_rows(xh, weight.astype(dtype, copy=False), out, work, "xw", training)
        saved = (xh, None, xw)
    else:
        keep = training and n * oh * ow * k * k * c * np.dtype(dtype).itemsize <= KEEP_BYTES
        cols = _conv_nhwc(xh, w_mat, k, stride, out, work, "cols" if keep else "cols_x", keep)
        saved = (xh, cols, None)
    out += bias
    return out.transpose(0, 3, 1, 2), (saved if training else None)


def conv2d_backward(grad_out, saved, x_shape, weight, stride: int, padding: int,
                    input_grad: bool, work: dict):
    """Backward pass matching :func:`conv2d_forward`; returns ``(dx or None, dweight, dbias)``.

    ``saved`` is what :func:`conv2d_forward` returned in training mode.
    """
    n, c, h, w = x_shape
    f, _, k, _ = weight.shape
    s, p = stride, padding
    xh, kept_cols, xw = saved
    dtype = np.result_type(grad_out, weight)
    gh = grad_out.astype(dtype, copy=False).transpose(0, 2, 3, 1)  # (N, OH, OW, F)
    _, oh, ow, _ = gh.shape
    g = gh.reshape(-1, f)  # a view when grad_out is channels-last, as ReLU passes it
    if xw is not None:  # forward went by kernel rows
        dweight = _dweight_rows(gh, xw, k, work)
    else:
        if kept_cols is not None:
            dw = kept_cols.T @ g  # (k*k*C, F), rows in (kh, kw, C) order
        else:  # the column matrix again, chunk by chunk
            dw = np.zeros((k * k * c, f), dtype)
            for rows, cols in _unfold_chunks(xh, k, s, work, "cols_x"):
                dw += cols.T @ g[rows]
        dweight = dw.reshape(k, k, c, f).transpose(3, 2, 0, 1)
    dbias = g.sum(axis=0)
    if not input_grad:
        return None, dweight, dbias
    if s == 1 and p <= k - 1:
        # The input gradient is a convolution of grad_out with the flipped kernel (chapter 6).
        w_flip = weight.astype(dtype, copy=False)[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
        gp = _padded_nhwc(grad_out.astype(dtype, copy=False), k - 1 - p, work, "gpad")
        dx = np.empty((n, h, w, c), dtype)
        if _by_rows(1, f, c):
            _conv_rows(gp, w_flip, dx, work, "gw", keep=False)
        else:  # w_flip (C, F, k, k) as a (k*k*F, C) matrix, rows in (kh, kw, F) order
            w_mat = w_flip.transpose(2, 3, 1, 0).reshape(k * k * f, c)
            _conv_nhwc(gp, w_mat, k, 1, dx, work, "cols_g")
        return dx.transpose(0, 3, 1, 2), dweight, dbias
    # Strided: the gradient of every window, one (N, OH, OW, C) block per kernel offset ...
    w_blocks = weight.transpose(2, 3, 0, 1).reshape(k * k, f, c)
    dwin = np.matmul(g, w_blocks)  # (k*k, N*OH*OW, C), contiguous per offset
    # ... added back where the window came from (col2im), channels-last.
    dxp = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=dwin.dtype)
    for i in range(k):
        for j in range(k):
            block = dwin[i * k + j].reshape(n, oh, ow, c)
            dxp[:, i : i + s * oh : s, j : j + s * ow : s, :] += block
    return dxp[:, p : p + h, p : p + w, :].transpose(0, 3, 1, 2), dweight, dbias
