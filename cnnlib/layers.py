"""Layers with forward and backward passes, in PyTorch's names and NCHW shapes.

Every layer is a :class:`Module` and follows one interface:

* ``forward(x)`` returns the output and, in training mode, keeps what ``backward`` needs
  (overwritten on each call; eval mode keeps nothing);
* ``backward(grad_out, input_grad=True)`` writes the parameter gradients into ``grads`` (a dict
  with the keys and shapes of ``params``) and returns the gradient for the input, or None when
  ``input_grad`` is False (the first layer's input needs none);
* ``params`` are what an optimiser updates; ``buffers`` are state that is saved and loaded but
  not trained (batch norm's running statistics);
* ``train()``/``eval()`` switch the mode, and ``with layer.evaluating(): ...`` evaluates and then
  restores the mode it found.

Parameter, gradient and buffer arrays are created once and then updated *in place* (by
``backward``, by the optimisers and by ``load_state_dict``), so an optimiser can hold on to them.

The convolution and pooling arithmetic lives in :mod:`cnnlib.functional`, the loop and
vectorised versions the chapters teach; :class:`Conv2d` uses the same ``im2col``, or the fast
paths in ``cnnlib._fast`` that compute the same numbers faster (``Conv2d.fast``).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator

import numpy as np

from . import _fast
from ._validation import check_nchw, non_negative_int, positive_int
from .functional import (
    _output_hw,
    col2im,
    conv2d,
    conv2d_backward_naive,
    conv2d_naive,
    conv_output_size,
    im2col,
    maxpool2d,
    maxpool2d_backward_naive,
    maxpool2d_naive,
)

__all__ = [
    "Module",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "ReLU",
    "Flatten",
    "Linear",
    "Dropout",
    "BatchNorm1d",
    "BatchNorm2d",
    # re-exported from cnnlib.functional, where they live
    "conv_output_size",
    "im2col",
    "col2im",
    "conv2d",
    "conv2d_naive",
    "conv2d_backward_naive",
    "maxpool2d",
    "maxpool2d_naive",
    "maxpool2d_backward_naive",
]


class Module:
    """Base class of every layer (and of :class:`~cnnlib.model.Sequential`).

    A subclass calls ``super().__init__()``, stores its constructor arguments as attributes of
    the same names (that is all the default ``__repr__`` needs), creates its arrays with
    :meth:`_make_params` / :meth:`_make_buffers`, and implements ``forward`` and ``backward``.
    ``forward`` ends with ``return self._keep_output(out)`` and ``backward`` starts with
    ``grad_out = self._check_grad_out(grad_out, "<cache attribute>")``, which give every layer
    the same errors for a backward without a forward and for a gradient of the wrong shape.

    Attributes
    ----------
    params : dict of str to ndarray
        What the optimiser updates.
    grads : dict of str to ndarray
        Same keys and shapes as ``params``; filled by ``backward``.
    buffers : dict of str to ndarray
        State saved with the parameters but not trained (e.g. running statistics).
    training : bool
        True in training mode (the default), False in eval mode.
    """

    #: Constructor arguments the default ``__repr__`` prints without their name.
    _repr_positional: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True
        self._out_shape: tuple[int, ...] | None = None

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Training mode (the default): ``forward`` keeps what ``backward`` needs."""
        self.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Inference mode: ``forward`` keeps no cache (less memory); ``backward`` is unavailable.

        Layers that behave differently at inference (dropout, batch norm) switch too.
        """
        return self.train(False)

    @contextlib.contextmanager
    def evaluating(self) -> Iterator[Module]:
        """Evaluate inside a ``with`` block, then restore the mode the module was in.

        >>> layer = ReLU()
        >>> with layer.evaluating():
        ...     layer.training
        False
        >>> layer.training
        True
        """
        was_training = self.training
        self.eval()
        try:
            yield self
        finally:
            self.train(was_training)

    # ------------------------------------------------------------------ passes
    def forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(
        self, grad_out: np.ndarray, input_grad: bool = True
    ) -> np.ndarray | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def zero_grad(self) -> None:
        """Set every gradient to zero, in place."""
        for g in self.grads.values():
            g.fill(0)

    # ------------------------------------------------------------------ description
    def __repr__(self) -> str:
        """``Name(arg, ..., keyword=value)`` from the constructor's arguments.

        Required arguments are always shown; optional ones only when they differ from their
        default. Arguments that are not stored under their own name (``rng``, ``dtype``) are
        left out.
        """
        parts = []
        signature = inspect.signature(type(self).__init__)
        for name, param in list(signature.parameters.items())[1:]:
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if name in ("rng", "dtype") or not hasattr(self, name):
                continue
            value = getattr(self, name)
            if param.default is not param.empty and _same(value, param.default):
                continue
            parts.append(repr(value) if name in self._repr_positional else f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # ------------------------------------------------------------------ for subclasses
    def _make_params(self, dtype, **arrays: np.ndarray) -> None:
        for name, value in arrays.items():
            self.params[name] = np.ascontiguousarray(value, dtype=dtype)
            self.grads[name] = np.zeros_like(self.params[name])

    def _make_buffers(self, dtype, **arrays: np.ndarray) -> None:
        for name, value in arrays.items():
            self.buffers[name] = np.ascontiguousarray(value, dtype=dtype)

    def _keep_output(self, out: np.ndarray) -> np.ndarray:
        """Remember the output's shape (training mode) so ``backward`` can check its gradient."""
        self._out_shape = out.shape if self.training else None
        return out

    def _check_grad_out(self, grad_out, *cache: str) -> np.ndarray:
        """The start of every ``backward``: a forward pass happened, and the shapes agree."""
        if self._out_shape is None or any(getattr(self, name, None) is None for name in cache):
            raise RuntimeError(
                f"{type(self).__name__}.backward() was called before forward(), or after a "
                "forward() in eval mode, which keeps no cache. Call model.train() and "
                "forward(x) first: it stores what backward needs."
            )
        grad_out = np.asarray(grad_out)
        if grad_out.shape != self._out_shape:
            raise ValueError(
                f"{type(self).__name__}.backward: expected grad_out of shape {self._out_shape} "
                f"(the shape of the last forward's output), got {grad_out.shape}. Pass the "
                "gradient of the loss with respect to this layer's output."
            )
        return grad_out


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _he_normal(rng, shape: tuple[int, ...], fan_in: int, gain: float) -> np.ndarray:
    """Weights ~ N(0, gain**2 / fan_in); gain sqrt(2) is He initialisation (ReLU after)."""
    return np.random.default_rng(rng).standard_normal(shape) * (gain / np.sqrt(fan_in))


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in PyTorch) over NCHW input.

    The forward pass is ``im2col`` → one matrix product (+ bias); the backward pass is two matrix
    products → ``col2im`` (:func:`cnnlib.functional.conv2d_backward` spells it out). With
    ``fast = True`` (the default) the layer computes the same numbers through the channels-last
    paths of ``cnnlib._fast``; set ``Conv2d.fast = False`` to run the readable version.

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

    _repr_positional = ("in_channels", "out_channels")
    fast = True  # use cnnlib._fast (same numbers, several times faster)

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
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels = positive_int("out_channels", out_channels)
        self.kernel_size = positive_int("kernel_size", kernel_size)
        self.stride = positive_int("stride", stride)
        self.padding = non_negative_int("padding", padding)
        fan_in = in_channels * kernel_size * kernel_size
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        weight = _he_normal(rng, shape, fan_in, np.sqrt(2.0))
        self._make_params(dtype, weight=weight, bias=np.zeros(out_channels))
        self._x = self._cols = self._x_shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        check_nchw(x, "Conv2d", channels=self.in_channels)
        k, s, p = self.kernel_size, self.stride, self.padding
        _output_hw(x, "Conv2d", k, s, p)
        weight, bias = self.params["weight"], self.params["bias"]
        self._x_shape = x.shape
        if self.fast:
            out, self._cols = _fast.conv2d_forward(x, weight, bias, s, p, keep_cols=self.training)
            self._x = None
            return self._keep_output(out)
        # The readable version: unfold the windows, one matrix product, fold the result back.
        n, f = x.shape[0], self.out_channels
        oh, ow = conv_output_size(x.shape[2], k, s, p), conv_output_size(x.shape[3], k, s, p)
        cols = im2col(x, k, s, p)  # (N*OH*OW, C*k*k)
        out = cols @ weight.reshape(f, -1).T + bias  # (N*OH*OW, F)
        self._x, self._cols = (x, None) if self.training else (None, None)
        return self._keep_output(out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2))

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Fill ``grads``; return the input gradient (None when ``input_grad`` is False,
        which saves the col2im step for a first layer, whose input needs no gradient)."""
        if self._cols is not None:  # the fast path ran forward
            grad_out = self._check_grad_out(grad_out, "_cols")
            dx, dweight, dbias = _fast.conv2d_backward(
                grad_out, self._cols, self._x_shape, self.params["weight"],
                self.stride, self.padding, input_grad,
            )
        else:
            grad_out = self._check_grad_out(grad_out, "_x")
            k, s, p, f = self.kernel_size, self.stride, self.padding, self.out_channels
            weight = self.params["weight"]
            g = grad_out.transpose(0, 2, 3, 1).reshape(-1, f)  # (N*OH*OW, F)
            dweight = (g.T @ im2col(self._x, k, s, p)).reshape(weight.shape)
            dbias = g.sum(axis=0)
            dx = col2im(g @ weight.reshape(f, -1), self._x_shape, k, s, p) if input_grad else None
        self.grads["weight"][...] = dweight
        self.grads["bias"][...] = dbias
        return dx


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
        self.kernel_size = positive_int("kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else positive_int("stride", stride)
        self._x = self._out = None

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
        check_nchw(x, "MaxPool2d")
        out = None
        for idx in self._offsets(x):
            out = x[idx].copy() if out is None else np.maximum(out, x[idx], out=out)
        self._x, self._out = (x, out) if self.training else (None, None)
        return self._keep_output(out)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        grad_out = self._check_grad_out(grad_out, "_x")
        if not input_grad:
            return None
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
        self.kernel_size = positive_int("kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else positive_int("stride", stride)
        self._x_shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        check_nchw(x, "AvgPool2d")
        k, s = self.kernel_size, self.stride
        oh, ow = _output_hw(x, "AvgPool2d", k, s)
        self._x_shape = x.shape if self.training else None
        out = np.zeros((*x.shape[:2], oh, ow), dtype=np.result_type(x.dtype, np.float32))
        for i in range(k):  # the mean of each window, one strided add per kernel offset
            for j in range(k):
                out += x[:, :, i : i + s * oh : s, j : j + s * ow : s]
        out /= k * k
        return self._keep_output(out)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        grad_out = self._check_grad_out(grad_out, "_x_shape")
        if not input_grad:
            return None
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

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._mask = x > 0 if self.training else None
        out = np.maximum(x, 0, dtype=x.dtype) if x.dtype.kind == "f" else np.maximum(x, 0)
        return self._keep_output(out)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        grad_out = self._check_grad_out(grad_out, "_mask")
        return grad_out * self._mask if input_grad else None  # bool mask: ~10x faster than where


class Flatten(Module):
    """Flatten every axis but the batch axis.

    Shape
    -----
    input (N, C, H, W) -> output (N, C * H * W); an empty batch (N = 0) gives (0, C * H * W).
    """

    def __init__(self) -> None:
        super().__init__()
        self._x_shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(
                f"Flatten: expected a batch of shape (N, ...) with at least 2 dimensions, "
                f"got shape {x.shape}."
            )
        self._x_shape = x.shape if self.training else None
        # Not reshape(N, -1): with N = 0 the -1 is ambiguous and NumPy refuses.
        return self._keep_output(x.reshape(x.shape[0], int(np.prod(x.shape[1:]))))

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        grad_out = self._check_grad_out(grad_out, "_x_shape")
        return grad_out.reshape(self._x_shape) if input_grad else None


class Linear(Module):
    """Fully-connected layer: ``y = x @ weight.T + bias``.

    Parameters
    ----------
    in_features, out_features : int
    rng : int or numpy.random.Generator, optional
        Seed for the initial weights, ``weight ~ N(0, gain**2 / in_features)``; bias is zero.
    gain : float, default sqrt(2)
        sqrt(2) is He initialisation, right for a layer followed by ReLU (chapter 3). An output
        layer, whose logits should start near zero so the first loss is near ln(classes)
        (chapter 4), wants a small gain.
    dtype : numpy dtype, default float32

    Shape
    -----
    input (N, in_features) -> output (N, out_features). ``params["weight"]`` is
    (out_features, in_features), ``params["bias"]`` (out_features,).
    """

    def __init__(
        self, in_features: int, out_features: int, *, rng=None, gain: float = np.sqrt(2.0),
        dtype=np.float32,
    ) -> None:
        super().__init__()
        self.in_features = positive_int("in_features", in_features)
        self.out_features = positive_int("out_features", out_features)
        if not (np.isfinite(gain) and gain >= 0):
            raise ValueError(f"Linear: expected gain >= 0, got {gain!r}.")
        self.gain = float(gain)
        weight = _he_normal(rng, (out_features, in_features), in_features, gain)
        self._make_params(dtype, weight=weight, bias=np.zeros(out_features))
        self._x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"Linear: expected input of shape (N, {self.in_features}), got shape {x.shape}. "
                "Put a Flatten() before it, or check in_features."
            )
        self._x = x if self.training else None
        out = x @ self.params["weight"].T
        out += self.params["bias"]
        return self._keep_output(out)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Fill ``grads``; return the input gradient (None when ``input_grad`` is False)."""
        grad_out = self._check_grad_out(grad_out, "_x")
        np.matmul(grad_out.T, self._x, out=self.grads["weight"])
        np.sum(grad_out, axis=0, out=self.grads["bias"])
        return grad_out @ self.params["weight"] if input_grad else None


class Dropout(Module):
    """Inverted dropout: in training, zero each value with probability ``p`` and scale the rest
    by ``1 / (1 - p)``, so the expected output equals the input; in eval mode, the identity.

    Parameters
    ----------
    p : float, default 0.5
        Probability of dropping a value, ``0 <= p <= 1``. As in PyTorch, ``p = 1`` drops
        everything: the output and the input gradient are all zeros.
    rng : int or numpy.random.Generator, optional
        Source of the masks, kept in ``self.rng`` (gradient checks replay it).

    Shape
    -----
    any -> same shape. The mask drawn in ``forward`` is the one ``backward`` uses.
    """

    def __init__(self, p: float = 0.5, *, rng=None) -> None:
        super().__init__()
        if isinstance(p, bool) or not (isinstance(p, (int, float, np.floating)) and 0 <= p <= 1):
            raise ValueError(
                f"Dropout: expected a probability 0 <= p <= 1, got p={p!r}. Pass the fraction "
                "of values to drop, e.g. Dropout(0.5)."
            )
        self.p = float(p)
        self.rng = np.random.default_rng(rng)
        self._scale = None  # the mask, already divided by 1 - p

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if not self.training or self.p == 0.0:
            self._scale = np.ones((), dtype=x.dtype) if self.training else None
            return self._keep_output(x)
        keep = self.rng.random(x.shape) >= self.p  # each value survives with probability 1 - p
        if self.p == 1.0:  # nothing survives (PyTorch's choice), and 1 / (1 - p) is undefined
            self._scale = np.zeros(x.shape, dtype=x.dtype)
        else:
            self._scale = keep.astype(x.dtype) / np.asarray(1.0 - self.p, dtype=x.dtype)
        return self._keep_output(x * self._scale)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        grad_out = self._check_grad_out(grad_out, "_scale")
        return grad_out * self._scale if input_grad else None


class _BatchNorm(Module):
    """Batch normalisation over every axis but the channel axis (axis 1).

    In training the batch's mean and (biased) variance normalise ``x``; the running averages
    move towards the batch statistics by ``momentum`` (with the *unbiased* variance, as
    PyTorch does). In eval mode the running averages normalise instead, so a prediction does
    not depend on the other images in the batch. ``momentum=None`` keeps the plain average of
    every batch seen so far instead (counted in the buffer ``num_batches_tracked``).
    """

    _expected_ndim: tuple[int, ...] = ()

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, *,
        dtype=np.float32,
    ) -> None:
        super().__init__()
        self.num_features = positive_int("num_features", num_features)
        if not eps > 0:
            raise ValueError(f"{type(self).__name__}: expected eps > 0, got {eps!r}.")
        if momentum is not None and not (
            isinstance(momentum, (int, float, np.floating)) and 0.0 <= momentum <= 1.0
        ):
            raise ValueError(
                f"{type(self).__name__}: expected momentum in [0, 1] (or None for a cumulative "
                f"average), got {momentum!r}."
            )
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        c = self.num_features
        self._make_params(dtype, weight=np.ones(c), bias=np.zeros(c))
        self._make_buffers(dtype, running_mean=np.zeros(c), running_var=np.ones(c))
        if self.momentum is None:  # the cumulative average needs the number of batches so far
            self.buffers["num_batches_tracked"] = np.zeros((), dtype=np.float64)  # a scalar
        self._x_hat = self._inv_std = None

    def _axes_and_shape(self, x: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
        if x.ndim not in self._expected_ndim or x.shape[1] != self.num_features:
            dims = " or ".join(
                {2: "(N, C)", 3: "(N, C, L)", 4: "(N, C, H, W)"}[d] for d in self._expected_ndim
            )
            raise ValueError(
                f"{type(self).__name__}: expected input of shape {dims} with C = "
                f"{self.num_features}, got shape {x.shape}."
            )
        axes = (0, *range(2, x.ndim))  # every axis but the channels
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)  # broadcasts per channel
        return axes, shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        axes, shape = self._axes_and_shape(x)
        if self.training:
            count = x.size // self.num_features  # values per channel
            if count < 2:
                raise ValueError(
                    f"{type(self).__name__}: expected more than 1 value per channel in "
                    f"training mode, got input shape {x.shape}. Use a batch of 2 or more, or "
                    "call eval() first."
                )
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)  # biased: what normalises this batch
            if self.momentum is None:  # average of all batches: the k-th one weighs 1/k
                self.buffers["num_batches_tracked"] += 1
                m = 1.0 / float(self.buffers["num_batches_tracked"])
            else:
                m = self.momentum
            self.buffers["running_mean"] *= 1 - m
            self.buffers["running_mean"] += m * mean
            self.buffers["running_var"] *= 1 - m
            self.buffers["running_var"] += m * var * count / (count - 1)  # unbiased
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape).astype(x.dtype)
        if self.training:
            self._x_hat, self._inv_std = x_hat, inv_std.reshape(shape)
        else:
            self._x_hat = self._inv_std = None
        out = x_hat * self.params["weight"].reshape(shape) + self.params["bias"].reshape(shape)
        return self._keep_output(out)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Gradients of the training-mode forward pass.

        With ``x_hat = (x - mean) / std`` and ``y = weight * x_hat + bias``, per channel over
        its ``n`` values: ``dbias = sum(dy)``, ``dweight = sum(dy * x_hat)``, and, because the
        mean and the standard deviation depend on every ``x`` of the channel,
        ``dx = weight / std * (dy - mean(dy) - x_hat * mean(dy * x_hat))``.
        """
        # Derivation, per channel, over its n values x_1..x_n (sums run over them):
        #   mu = mean(x), var = mean((x - mu)**2), std = sqrt(var + eps),
        #   x_hat_i = (x_i - mu) / std,  y_i = weight * x_hat_i + bias.
        # x_hat_i depends on x_j directly, through mu (d mu / d x_j = 1/n) and through std
        # (d std / d x_j = (x_j - mu) / (n * std) = x_hat_j / n; the mu term sums to zero), so
        #   d x_hat_i / d x_j = (delta_ij - 1/n - x_hat_i * x_hat_j / n) / std.
        # With dL/dx_hat_i = weight * dy_i, summing over i:
        #   dx_j = weight / std * (dy_j - sum(dy) / n - x_hat_j * sum(dy * x_hat) / n)
        #        = (1/n) * weight / std * (n * dy_j - sum(dy) - x_hat_j * sum(dy * x_hat)),
        # where sum(dy) = dbias and sum(dy * x_hat) = dweight: both are computed anyway.
        grad_out = self._check_grad_out(grad_out, "_x_hat")
        axes, shape = self._axes_and_shape(grad_out)
        x_hat = self._x_hat
        dbias = grad_out.sum(axis=axes)
        dweight = (grad_out * x_hat).sum(axis=axes)
        self.grads["bias"][...] = dbias
        self.grads["weight"][...] = dweight
        if not input_grad:
            return None
        n = grad_out.size // self.num_features
        scale = (self.params["weight"].reshape(shape) * self._inv_std).astype(grad_out.dtype)
        return scale * (
            grad_out - (dbias / n).reshape(shape) - x_hat * (dweight / n).reshape(shape)
        )


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of each channel of NCHW maps (Ioffe and Szegedy, 2015).

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default 1e-5
        Added to the variance before the square root.
    momentum : float or None, default 0.1
        How far the running statistics move towards each batch's statistics:
        ``running = (1 - momentum) * running + momentum * batch``. None: the cumulative
        average of every batch so far (``num_batches_tracked`` joins the buffers).
    dtype : numpy dtype, default float32

    Shape
    -----
    input (N, C, H, W) -> output (N, C, H, W). ``params``: ``weight`` (C,) (starts at 1) and
    ``bias`` (C,) (starts at 0). ``buffers``: ``running_mean`` (C,) and ``running_var`` (C,):
    saved and loaded with the model, never trained.
    """

    _expected_ndim = (4,)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of each feature of (N, C) inputs (or each channel of (N, C, L)).

    Parameters and buffers as :class:`BatchNorm2d`.

    Shape
    -----
    input (N, C) or (N, C, L) -> same shape.
    """

    _expected_ndim = (2, 3)
