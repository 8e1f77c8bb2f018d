"""Tests for cnnlib._fast: the layers' fast paths compute the same numbers as the readable ones.

Each test runs a layer twice, once with its fast path (``fast = True``, the default) and once
with the readable code of the class (``fast = False``), and compares forward outputs, input
gradients and parameter gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib import _fast
from cnnlib.functional import im2col
from cnnlib.layers import Conv2d, MaxPool2d

# (in_channels, kernel, stride, padding): one channel takes its own im2col path
CONV_SETTINGS = [(1, 5, 1, 0), (1, 3, 2, 1), (3, 3, 1, 1), (8, 5, 1, 0), (4, 3, 2, 2),
                 (2, 1, 1, 0)]
POOL_SETTINGS = [(2, None), (3, 2), (2, 1), (3, 3)]
DTYPES = [np.float32, np.float64]


def tolerance(dtype):
    return {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}


def normal(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def conv_pair(c_in, k, stride, padding, dtype, c_out=4):
    """The same convolution twice: the fast one and the readable one."""
    fast = Conv2d(c_in, c_out, k, stride, padding, rng=1, dtype=dtype)
    fast.params["bias"][:] = normal(c_out, seed=2)
    slow = Conv2d(c_in, c_out, k, stride, padding, rng=1, dtype=dtype)
    slow.params["bias"][:] = fast.params["bias"]
    slow.fast = False
    return fast, slow


def run(layer, x, grad_seed=4, input_grad=True):
    out = layer.forward(x).copy()
    dx = layer.backward(normal(out.shape, seed=grad_seed, dtype=x.dtype), input_grad=input_grad)
    return out, dx, {name: g.copy() for name, g in layer.grads.items()}


# --------------------------------------------------------------------------- Conv2d
def test_conv2d_uses_the_fast_path_by_default():
    assert Conv2d.fast is True


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("c_in", "k", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_fast_and_readable_forward_agree(c_in, k, stride, padding, dtype):
    fast, slow = conv_pair(c_in, k, stride, padding, dtype)
    x = normal((3, c_in, 9, 8), seed=3, dtype=dtype)
    out = fast.forward(x)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, slow.forward(x), **tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("c_in", "k", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_fast_and_readable_backward_agree(c_in, k, stride, padding, dtype):
    fast, slow = conv_pair(c_in, k, stride, padding, dtype)
    x = normal((3, c_in, 9, 8), seed=3, dtype=dtype)
    _, dx_fast, grads_fast = run(fast, x)
    _, dx_slow, grads_slow = run(slow, x)
    assert dx_fast.dtype == dtype and dx_fast.shape == x.shape
    np.testing.assert_allclose(dx_fast, dx_slow, **tolerance(dtype))
    for name in ("weight", "bias"):
        assert grads_fast[name].dtype == dtype
        np.testing.assert_allclose(grads_fast[name], grads_slow[name], **tolerance(dtype))


@pytest.mark.parametrize(("c_in", "k", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_fast_backward_without_input_grad_gives_the_same_parameter_gradients(
        c_in, k, stride, padding):
    fast, slow = conv_pair(c_in, k, stride, padding, np.float64)
    x = normal((3, c_in, 9, 8), seed=3)
    _, dx, grads_fast = run(fast, x, input_grad=False)
    _, _, grads_slow = run(slow, x)
    assert dx is None
    for name in ("weight", "bias"):
        np.testing.assert_allclose(grads_fast[name], grads_slow[name], rtol=1e-10, atol=1e-12)


def test_conv2d_fast_backward_twice_gives_the_same_gradients():
    # buffers reused between calls must not leak one step into the next
    fast, _ = conv_pair(3, 3, 1, 1, np.float64)
    x = normal((3, 3, 9, 8), seed=3)
    first = run(fast, x)
    second = run(fast, x)
    for a, b in zip(first[:2], second[:2], strict=True):
        np.testing.assert_array_equal(a, b)


def test_conv2d_fast_results_survive_the_next_step():
    # an output or gradient handed out must not be overwritten by a later call
    fast, slow = conv_pair(2, 3, 1, 1, np.float64)
    x1, x2 = normal((2, 2, 7, 7), seed=1), normal((2, 2, 7, 7), seed=2)
    out1 = fast.forward(x1)
    dx1 = fast.backward(np.ones_like(out1))
    expected_out = slow.forward(x1)
    expected_dx = slow.backward(np.ones_like(expected_out))
    run(fast, x2)
    np.testing.assert_allclose(out1, expected_out, rtol=1e-10)
    np.testing.assert_allclose(dx1, expected_dx, rtol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("c_in", "k", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_fast_eval_in_chunks_with_a_partial_chunk_agrees(c_in, k, stride, padding, dtype,
                                                                monkeypatch):
    monkeypatch.setattr(_fast, "CHUNK_IMAGES", 2)  # 5 images: chunks of 2, 2 and 1
    fast, slow = conv_pair(c_in, k, stride, padding, dtype)
    x = normal((5, c_in, 9, 8), seed=3, dtype=dtype)
    np.testing.assert_allclose(fast.eval().forward(x), slow.forward(x), **tolerance(dtype))


def test_conv2d_fast_forward_on_a_channels_first_input_agrees():
    # a plain C-contiguous NCHW array (not the channels-last view a Conv2d returns)
    fast, slow = conv_pair(3, 3, 1, 0, np.float64)
    x = np.ascontiguousarray(normal((2, 3, 6, 6), seed=5))
    np.testing.assert_allclose(fast.forward(x), slow.forward(x), rtol=1e-10)


def test_conv2d_fast_chains_through_a_second_convolution():
    # the second layer reads the first one's channels-last output
    first_fast, first_slow = conv_pair(1, 3, 1, 1, np.float64, c_out=3)
    second_fast, second_slow = conv_pair(3, 3, 2, 1, np.float64)
    x = normal((2, 1, 8, 8), seed=6)
    np.testing.assert_allclose(second_fast.forward(first_fast.forward(x)),
                               second_slow.forward(first_slow.forward(x)), rtol=1e-10)


@pytest.mark.parametrize(("c_in", "k", "stride", "padding"), CONV_SETTINGS)
def test_im2col_channels_last_holds_the_same_windows_as_im2col(c_in, k, stride, padding):
    x = normal((2, c_in, 7, 6), seed=1)
    ours = _fast.im2col_channels_last(x, k, stride, padding)  # rows in (kh, kw, C) order
    rows = ours.reshape(-1, k, k, c_in).transpose(0, 3, 1, 2).reshape(ours.shape[0], -1)
    np.testing.assert_array_equal(rows, im2col(x, k, stride, padding))


# --------------------------------------------------------------------------- MaxPool2d
def pool_pair(k, stride):
    fast, slow = MaxPool2d(k, stride), MaxPool2d(k, stride)
    slow.fast = False
    return fast, slow


def relu_ties(shape, seed=0, dtype=np.float64):
    return np.maximum(np.random.default_rng(seed).integers(-3, 3, size=shape), 0).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("k", "stride"), POOL_SETTINGS)
def test_maxpool_fast_and_readable_agree_with_ties(k, stride, dtype):
    fast, slow = pool_pair(k, stride)
    x = relu_ties((2, 3, 8, 7), seed=1, dtype=dtype)
    out_fast, dx_fast, _ = run(fast, x)
    out_slow, dx_slow, _ = run(slow, x)
    assert out_fast.dtype == dtype and dx_fast.dtype == dtype
    np.testing.assert_array_equal(out_fast, out_slow)
    np.testing.assert_array_equal(dx_fast, dx_slow)


@pytest.mark.parametrize(("k", "stride"), POOL_SETTINGS)
def test_maxpool_fast_and_readable_agree_on_a_convolution_output(k, stride):
    # the input a MaxPool2d usually gets: a channels-last view from a Conv2d
    conv, _ = conv_pair(2, 3, 1, 1, np.float64)
    x = conv.forward(normal((2, 2, 8, 7), seed=2))
    fast, slow = pool_pair(k, stride)
    out_fast, dx_fast, _ = run(fast, x)
    out_slow, dx_slow, _ = run(slow, x)
    np.testing.assert_array_equal(out_fast, out_slow)
    np.testing.assert_array_equal(dx_fast, dx_slow)


# --------------------------------------------------------------------------- Conv2d, other routes
# The fast path picks a route by shape: kernel rows for few output channels, whole windows
# (im2col) for many; the column matrix kept or unfolded again; one chunk or several.
@pytest.mark.parametrize(("c_in", "c_out"), [(1, 16), (3, 16), (16, 16), (16, 3)])
@pytest.mark.parametrize(("stride", "padding"), [(1, 1), (1, 0), (2, 1)])
def test_conv2d_fast_and_readable_agree_for_many_channels(c_in, c_out, stride, padding):
    fast, slow = conv_pair(c_in, 3, stride, padding, np.float64, c_out=c_out)
    x = normal((3, c_in, 8, 7), seed=3)
    for a, b in zip(run(fast, x), run(slow, x), strict=True):
        if isinstance(a, dict):
            for name in a:
                np.testing.assert_allclose(a[name], b[name], rtol=1e-10, atol=1e-12)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("c_in", "c_out"), [(1, 4), (3, 4), (3, 16), (16, 16)])
@pytest.mark.parametrize("keep_bytes", [0, 2**30], ids=["unfold-again", "keep-cols"])
def test_conv2d_fast_training_in_several_chunks_agrees(c_in, c_out, keep_bytes, monkeypatch):
    monkeypatch.setattr(_fast, "CHUNK_BYTES", 1)  # one image per chunk
    monkeypatch.setattr(_fast, "KEEP_BYTES", keep_bytes)
    fast, slow = conv_pair(c_in, 3, 1, 1, np.float64, c_out=c_out)
    x = normal((3, c_in, 6, 5), seed=3)
    out_fast, dx_fast, grads_fast = run(fast, x)
    out_slow, dx_slow, grads_slow = run(slow, x)
    np.testing.assert_allclose(out_fast, out_slow, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx_fast, dx_slow, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads_fast["weight"], grads_slow["weight"], rtol=1e-10,
                               atol=1e-12)
