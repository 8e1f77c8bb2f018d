"""Tests for cnnlib.layers: shapes, hand-checked examples, gradient checks, naive versus
vectorised agreement (also as hypothesis properties), PyTorch as an oracle, modes and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import PROPERTY, close, conv_cases, distinct, normal, pool_cases

from cnnlib import _fast
from cnnlib.gradcheck import check_layer_gradients
from cnnlib.layers import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    conv2d,
    conv2d_backward_naive,
    conv2d_naive,
    conv_output_size,
    maxpool2d,
    maxpool2d_backward_naive,
    maxpool2d_naive,
)

GRAD_TOL = 1e-6  # largest relative error a float64 gradient check may show
# (in_channels, stride, padding): one channel takes Conv2d's special im2col path
CONV_SETTINGS = [(1, 1, 0), (1, 2, 1), (3, 1, 2), (3, 2, 1)]


def away_from_zero(shape, seed=0):
    """Float64 values with |x| in [0.1, 1]: a finite difference never crosses the ReLU kink."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 1.0, size=shape)


def relu_ties(shape, seed=0):
    """Small integers after a ReLU: many windows hold several equal maxima (often zeros)."""
    return np.maximum(np.random.default_rng(seed).integers(-3, 3, size=shape), 0).astype(float)


def conv64(c_in, c_out, k, stride=1, padding=0, seed=0):
    return Conv2d(c_in, c_out, k, stride, padding, rng=seed, dtype=np.float64)


# --------------------------------------------------------------------------- convolution
@pytest.mark.parametrize(("c_in", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_naive_conv2d_and_layer_forward_agree(c_in, stride, padding):
    x = normal((2, c_in, 7, 6), seed=1)
    layer = conv64(c_in, 4, 3, stride, padding, seed=2)
    layer.params["bias"][:] = normal(4, seed=3)
    w, b = layer.params["weight"], layer.params["bias"]
    naive = conv2d_naive(x, w, b, stride, padding)
    close(conv2d(x, w, b, stride, padding), naive)
    close(layer.forward(x), naive)


@pytest.mark.parametrize(("c_in", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_backward_naive_and_layer_backward_agree(c_in, stride, padding):
    x = normal((2, c_in, 7, 6), seed=1)
    layer = conv64(c_in, 4, 3, stride, padding, seed=2)
    out = layer.forward(x)
    grad_out = normal(out.shape, seed=4)
    dx, dw, db = conv2d_backward_naive(grad_out, x, layer.params["weight"], stride, padding)
    close(layer.backward(grad_out), dx)
    close(layer.grads["weight"], dw)
    close(layer.grads["bias"], db)


def test_conv2d_output_shape_follows_the_formula():
    layer = Conv2d(2, 5, 3, stride=2, padding=1, rng=0)
    assert layer(np.zeros((4, 2, 9, 8), dtype=np.float32)).shape == (4, 5, 5, 4)


def test_conv2d_parameter_shapes_follow_pytorch():
    layer = Conv2d(3, 8, 5, rng=0)
    assert layer.params["weight"].shape == (8, 3, 5, 5)
    assert layer.params["bias"].shape == (8,)


def test_conv2d_he_initialisation_scale_and_zero_bias():
    layer = Conv2d(16, 64, 3, rng=0)
    assert layer.params["weight"].std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    assert not layer.params["bias"].any()


def test_conv2d_default_dtype_is_float32():
    layer = Conv2d(1, 2, 3, rng=0)
    assert layer.params["weight"].dtype == np.float32
    assert layer(np.zeros((1, 1, 5, 5), dtype=np.float32)).dtype == np.float32


def test_conv2d_same_integer_seed_and_generator_give_same_weights():
    a = Conv2d(2, 3, 3, rng=7).params["weight"]
    b = Conv2d(2, 3, 3, rng=np.random.default_rng(7)).params["weight"]
    np.testing.assert_array_equal(a, b)


def test_conv2d_different_seeds_give_different_weights():
    assert not np.array_equal(Conv2d(2, 3, 3, rng=0).params["weight"],
                              Conv2d(2, 3, 3, rng=1).params["weight"])


@pytest.mark.parametrize(("c_in", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_gradients_match_finite_differences(c_in, stride, padding):
    errors = check_layer_gradients(conv64(c_in, 3, 3, stride, padding, seed=1),
                                   normal((2, c_in, 6, 5), seed=2))
    assert set(errors) == {"input", "weight", "bias"}
    assert max(errors.values()) < GRAD_TOL, errors


# --------------------------------------------------------------------------- pooling


@pytest.mark.parametrize(("k", "stride"), [(2, None), (3, 2), (2, 1), (3, 3)])
def test_maxpool_naive_vectorised_and_layer_forward_agree(k, stride):
    x = normal((2, 3, 7, 8), seed=5)
    naive = maxpool2d_naive(x, k, stride)
    np.testing.assert_array_equal(maxpool2d(x, k, stride), naive)
    np.testing.assert_array_equal(MaxPool2d(k, stride).forward(x), naive)


@pytest.mark.parametrize(("k", "stride"), [(2, None), (3, 2), (2, 1), (3, 3)])
def test_maxpool_backward_naive_and_layer_backward_agree(k, stride):
    x = distinct((2, 3, 7, 8), seed=5)
    layer = MaxPool2d(k, stride)
    grad_out = normal(layer.forward(x).shape, seed=6)
    close(layer.backward(grad_out), maxpool2d_backward_naive(grad_out, x, k, stride))


def test_maxpool_ties_send_the_gradient_to_the_first_maximum():
    x = np.maximum(np.array([[-1.0, -2.0, 3.0, 3.0], [-3.0, -4.0, 3.0, 1.0]]), 0)[None, None]
    # after the ReLU the left window is all zeros and the right one holds 3 twice
    expected = np.array([[[[5.0, 0.0, 7.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])
    grad_out = np.array([[[[5.0, 7.0]]]])
    layer = MaxPool2d(2)
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(grad_out), expected)
    np.testing.assert_array_equal(maxpool2d_backward_naive(grad_out, x, 2), expected)


@pytest.mark.parametrize(("k", "stride"), [(2, None), (3, 1)])
def test_maxpool_ties_after_relu_agree_between_naive_and_layer(k, stride):
    x = relu_ties((2, 2, 6, 6), seed=3)
    layer = MaxPool2d(k, stride)
    grad_out = normal(layer.forward(x).shape, seed=4)
    close(layer.backward(grad_out), maxpool2d_backward_naive(grad_out, x, k, stride))


def test_maxpool_stride_defaults_to_kernel_size():
    assert MaxPool2d(3).stride == 3
    assert MaxPool2d(2)(np.zeros((1, 1, 6, 6))).shape == (1, 1, 3, 3)


@pytest.mark.parametrize(("k", "stride"), [(2, None), (3, 2), (2, 1)])
def test_maxpool_gradients_match_finite_differences(k, stride):
    errors = check_layer_gradients(MaxPool2d(k, stride), distinct((2, 2, 5, 6), seed=1))
    assert errors["input"] < GRAD_TOL, errors


def test_avgpool_matches_hand_computed_example():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    close(AvgPool2d(2)(x), np.array([[[[2.5, 4.5], [10.5, 12.5]]]]))


@pytest.mark.parametrize(("k", "stride"), [(2, None), (3, 2), (2, 1)])
def test_avgpool_gradients_match_finite_differences(k, stride):
    errors = check_layer_gradients(AvgPool2d(k, stride), normal((2, 2, 5, 6), seed=1))
    assert errors["input"] < GRAD_TOL, errors


# --------------------------------------------------------------------------- ReLU, Flatten, Linear
def test_relu_forward_zeroes_negatives():
    np.testing.assert_array_equal(ReLU()(np.array([[-2.0, 0.0, 3.0]])), [[0.0, 0.0, 3.0]])


def test_relu_gradients_match_finite_differences():
    errors = check_layer_gradients(ReLU(), away_from_zero((3, 2, 4, 4), seed=1))
    assert errors["input"] < GRAD_TOL, errors


def test_flatten_keeps_the_batch_axis_in_c_h_w_order():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(Flatten()(x), x.reshape(2, 12))


def test_flatten_gradients_match_finite_differences():
    errors = check_layer_gradients(Flatten(), normal((2, 3, 2, 2), seed=1))
    assert errors["input"] < GRAD_TOL, errors


def test_linear_computes_x_times_weight_transposed_plus_bias():
    layer = Linear(3, 2, rng=0, dtype=np.float64)
    layer.params["bias"][:] = [1.0, -1.0]
    x = normal((4, 3), seed=1)
    close(layer(x), x @ layer.params["weight"].T + layer.params["bias"])


def test_linear_parameter_shapes_follow_pytorch():
    layer = Linear(800, 128, rng=0)
    assert layer.params["weight"].shape == (128, 800)
    assert layer.params["bias"].shape == (128,)


def test_linear_he_initialisation_scale():
    layer = Linear(800, 128, rng=0)
    assert layer.params["weight"].std() == pytest.approx(np.sqrt(2 / 800), rel=0.05)


def test_linear_gradients_match_finite_differences():
    errors = check_layer_gradients(Linear(5, 4, rng=0, dtype=np.float64), normal((3, 5), seed=1))
    assert set(errors) == {"input", "weight", "bias"}
    assert max(errors.values()) < GRAD_TOL, errors


# --------------------------------------------------------------------------- the Module interface
@pytest.mark.parametrize("make", [lambda: Conv2d(2, 3, 3, rng=0), lambda: Linear(4, 3, rng=0)])
def test_grads_have_the_keys_and_shapes_of_params(make):
    layer = make()
    assert list(layer.grads) == ["weight", "bias"]
    for name, p in layer.params.items():
        assert layer.grads[name].shape == p.shape
        assert layer.grads[name].dtype == p.dtype


def test_backward_writes_parameter_gradients_in_place():
    layer = Conv2d(2, 3, 3, rng=0)
    before = dict(layer.grads)
    out = layer(normal((2, 2, 5, 5)).astype(np.float32))
    layer.backward(np.ones_like(out))
    for name, g in layer.grads.items():
        assert g is before[name]
        assert g.any()


def test_zero_grad_clears_gradients_in_place():
    layer = Linear(4, 3, rng=0)
    out = layer(np.ones((2, 4), np.float32))
    layer.backward(np.ones_like(out))
    weight_grad = layer.grads["weight"]
    layer.zero_grad()
    assert layer.grads["weight"] is weight_grad
    assert not weight_grad.any()


def test_forward_overwrites_the_cache_with_the_latest_batch():
    layer = conv64(2, 3, 3, seed=0)
    layer.forward(normal((5, 2, 6, 6), seed=1))
    x = normal((2, 2, 6, 6), seed=2)
    grad_out = normal(layer.forward(x).shape, seed=3)
    dx, dw, _ = conv2d_backward_naive(grad_out, x, layer.params["weight"])
    close(layer.backward(grad_out), dx)
    close(layer.grads["weight"], dw)


@pytest.mark.parametrize("make", [lambda: Conv2d(2, 3, 3, rng=0), lambda: Linear(4, 3, rng=0)])
def test_backward_with_input_grad_false_returns_none_and_same_parameter_gradients(make):
    layer = make()
    x = normal((2, 2, 5, 5) if isinstance(layer, Conv2d) else (2, 4)).astype(np.float32)
    out = layer(x)
    grad_out = np.ones_like(out)
    layer.backward(grad_out)
    expected = {k: g.copy() for k, g in layer.grads.items()}
    layer.zero_grad()
    assert layer.backward(grad_out, input_grad=False) is None
    for name, g in layer.grads.items():
        np.testing.assert_array_equal(g, expected[name])


# --------------------------------------------------------------------------- train / eval modes
@pytest.mark.parametrize(
    ("layer", "shape"),
    [(Conv2d(1, 2, 3, rng=0), (2, 1, 5, 5)), (MaxPool2d(2), (2, 1, 4, 4)),
     (ReLU(), (2, 3)), (Linear(3, 2, rng=0), (2, 3))],
    ids=["Conv2d", "MaxPool2d", "ReLU", "Linear"],
)
def test_backward_after_an_eval_forward_raises(layer, shape):
    x = normal(shape).astype(np.float32)
    out = layer.forward(x)  # a training forward first: eval must drop its cache
    layer.eval()
    layer.forward(x)
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        layer.backward(np.ones_like(out))


def test_flatten_backward_after_an_eval_forward_raises():
    layer = Flatten().eval()
    layer.forward(np.zeros((2, 3, 2, 2)))
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        layer.backward(np.ones((2, 12)))


def test_avgpool_backward_after_an_eval_forward_raises():
    layer = AvgPool2d(2).eval()
    layer.forward(np.zeros((2, 3, 4, 4)))
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        layer.backward(np.ones((2, 3, 2, 2)))


def test_eval_forward_gives_the_training_forward_output():
    layer = Conv2d(2, 3, 3, rng=0)
    x = normal((2, 2, 5, 5)).astype(np.float32)
    expected = layer(x).copy()
    np.testing.assert_allclose(layer.eval()(x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("c_in", [1, 3])
def test_conv2d_eval_forward_in_chunks_equals_training_forward(c_in):
    layer = conv64(c_in, 4, 3, stride=2, padding=1, seed=1)
    layer.params["bias"][:] = normal(4, seed=2)
    x = normal((_fast.CHUNK_IMAGES + 5, c_in, 7, 6), seed=3)  # one full chunk and a partial one
    expected = layer.forward(x).copy()
    close(layer.eval().forward(x), expected)


def test_train_and_eval_return_the_layer_and_set_the_mode():
    layer = ReLU()
    assert layer.eval() is layer and layer.training is False
    assert layer.train() is layer and layer.training is True


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "make", [lambda: Conv2d(1, 2, 3, rng=0), lambda: MaxPool2d(2), lambda: AvgPool2d(2)],
    ids=["Conv2d", "MaxPool2d", "AvgPool2d"],
)
def test_layers_reject_input_that_is_not_4d(make):
    with pytest.raises(ValueError, match=r"4-D input of shape \(N, C, H, W\), got shape "
                                         r"\(28, 28\) \(2-D\)"):
        make()(np.zeros((28, 28), np.float32))


def test_conv2d_layer_rejects_wrong_channel_count():
    with pytest.raises(ValueError, match=r"expected 3 input channel\(s\), i\.e\. shape "
                                         r"\(N, 3, H, W\), got shape \(2, 1, 5, 5\)"):
        Conv2d(3, 4, 3, rng=0)(np.zeros((2, 1, 5, 5), np.float32))


def test_conv2d_rejects_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match=r"kernel_size 5 is larger than the padded input "
                                         r"\(3 \+ 2\*0 = 3\)"):
        Conv2d(1, 2, 5, rng=0)(np.zeros((1, 1, 3, 3), np.float32))


@pytest.mark.parametrize("layer", [Conv2d(1, 2, 5, rng=0), MaxPool2d(5)],
                         ids=["Conv2d", "MaxPool2d"])
def test_kernel_too_large_error_states_the_received_shape(layer):
    with pytest.raises(ValueError, match=r"kernel_size 5 .*\(1, 1, 3, 10\)"):
        layer(np.zeros((1, 1, 3, 10), np.float32))


def test_conv2d_padding_makes_room_for_a_large_kernel():
    assert Conv2d(1, 2, 5, padding=1, rng=0)(np.zeros((1, 1, 3, 3), np.float32)).shape == (
        1, 2, 1, 1)


def test_maxpool_rejects_window_larger_than_the_input():
    with pytest.raises(ValueError, match=r"kernel_size 4 is larger than the padded input "
                                         r"\(3 \+ 2\*0 = 3\)"):
        MaxPool2d(4)(np.zeros((1, 1, 3, 3)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel_size": 0}, r"kernel_size: expected a positive integer, got 0\."),
        ({"kernel_size": -3}, r"kernel_size: expected a positive integer, got -3\."),
        ({"kernel_size": 2.0}, r"kernel_size: expected a positive integer, got 2\.0\."),
        ({"kernel_size": True}, r"kernel_size: expected a positive integer, got True\."),
        ({"stride": 0}, r"stride: expected a positive integer, got 0\."),
        ({"stride": True}, r"stride: expected a positive integer, got True\."),
        ({"padding": -1}, r"padding: expected a non-negative integer, got -1\."),
        ({"padding": False}, r"padding: expected a non-negative integer, got False\."),
        ({"out_channels": 0}, r"out_channels: expected a positive integer, got 0\."),
        ({"in_channels": 0}, r"in_channels: expected a positive integer, got 0\."),
        ({"in_channels": True}, r"in_channels: expected a positive integer, got True\."),
    ],
)
def test_conv2d_rejects_bad_sizes(kwargs, message):
    args = {"in_channels": 1, "out_channels": 2, "kernel_size": 3} | kwargs
    with pytest.raises(ValueError, match=message):
        Conv2d(**args)


@pytest.mark.parametrize("cls", [MaxPool2d, AvgPool2d])
@pytest.mark.parametrize(
    ("args", "message"),
    [((0,), r"kernel_size: expected a positive integer, got 0\."),
     ((True,), r"kernel_size: expected a positive integer, got True\."),
     ((2, 0), r"stride: expected a positive integer, got 0\."),
     ((2, -1), r"stride: expected a positive integer, got -1\.")],
)
def test_pooling_rejects_bad_sizes(cls, args, message):
    with pytest.raises(ValueError, match=message):
        cls(*args)


@pytest.mark.parametrize(
    ("args", "message"),
    [((0, 3), r"in_features: expected a positive integer, got 0\."),
     ((3, 0), r"out_features: expected a positive integer, got 0\."),
     ((True, 3), r"in_features: expected a positive integer, got True\.")],
)
def test_linear_rejects_bad_sizes(args, message):
    with pytest.raises(ValueError, match=message):
        Linear(*args)


def test_linear_rejects_wrong_in_features():
    with pytest.raises(ValueError, match=r"Linear: expected input of shape \(N, 800\), "
                                         r"got shape \(4, 784\)"):
        Linear(800, 10, rng=0)(np.zeros((4, 784), np.float32))


def test_linear_rejects_unflattened_input():
    with pytest.raises(ValueError, match=r"Linear: expected input of shape \(N, 16\), "
                                         r"got shape \(4, 1, 4, 4\)"):
        Linear(16, 10, rng=0)(np.zeros((4, 1, 4, 4), np.float32))


def test_flatten_rejects_1d_input():
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        Flatten()(np.zeros(5))


@pytest.mark.parametrize(
    ("layer", "grad_shape"),
    [(Conv2d(1, 2, 3, rng=0), (1, 2, 3, 3)), (MaxPool2d(2), (1, 1, 2, 2)),
     (AvgPool2d(2), (1, 1, 2, 2)), (ReLU(), (2, 3)), (Flatten(), (2, 3)),
     (Linear(3, 2, rng=0), (1, 2))],
    ids=["Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Flatten", "Linear"],
)
def test_backward_before_forward_raises(layer, grad_shape):
    name = type(layer).__name__
    with pytest.raises(RuntimeError, match=rf"{name}\.backward\(\) was called before forward"):
        layer.backward(np.ones(grad_shape))


# --------------------------------------------------------------------------- properties
def _conv_setup(case):
    x = normal((case["n"], case["c"], case["h"], case["w"]), seed=case["seed"])
    layer = conv64(case["c"], case["f"], case["k"], case["stride"], case["padding"],
                   seed=case["seed"] + 1)
    layer.params["bias"][:] = normal(case["f"], seed=case["seed"] + 2)
    return x, layer


@PROPERTY
@given(conv_cases())
def test_property_conv2d_forward_versions_agree(case):
    x, layer = _conv_setup(case)
    w, b, s, p = layer.params["weight"], layer.params["bias"], case["stride"], case["padding"]
    naive = conv2d_naive(x, w, b, s, p)
    oh = conv_output_size(case["h"], case["k"], s, p)
    ow = conv_output_size(case["w"], case["k"], s, p)
    assert naive.shape == (case["n"], case["f"], oh, ow)
    close(conv2d(x, w, b, s, p), naive)
    close(layer.forward(x), naive)
    close(layer.eval().forward(x), naive)


@PROPERTY
@given(conv_cases())
def test_property_conv2d_backward_versions_agree(case):
    x, layer = _conv_setup(case)
    grad_out = normal(layer.forward(x).shape, seed=case["seed"] + 3)
    dx, dw, db = conv2d_backward_naive(grad_out, x, layer.params["weight"], case["stride"],
                                       case["padding"])
    close(layer.backward(grad_out), dx)
    close(layer.grads["weight"], dw)
    close(layer.grads["bias"], db)


@PROPERTY
@given(pool_cases())
def test_property_maxpool_forward_versions_agree(case):
    x = relu_ties((case["n"], case["c"], case["h"], case["w"]), seed=case["seed"])
    naive = maxpool2d_naive(x, case["k"], case["stride"])
    np.testing.assert_array_equal(maxpool2d(x, case["k"], case["stride"]), naive)
    np.testing.assert_array_equal(MaxPool2d(case["k"], case["stride"]).forward(x), naive)


@PROPERTY
@given(pool_cases())
def test_property_maxpool_backward_versions_agree_with_ties(case):
    x = relu_ties((case["n"], case["c"], case["h"], case["w"]), seed=case["seed"])
    layer = MaxPool2d(case["k"], case["stride"])
    grad_out = normal(layer.forward(x).shape, seed=case["seed"] + 1)
    close(layer.backward(grad_out),
          maxpool2d_backward_naive(grad_out, x, case["k"], case["stride"]))


@PROPERTY
@given(pool_cases())
def test_property_avgpool_equals_a_depthwise_mean_filter(case):
    x = normal((case["n"], case["c"], case["h"], case["w"]), seed=case["seed"])
    k, s = case["k"], case["stride"] or case["k"]
    mean_filter = np.full((1, 1, k, k), 1.0 / (k * k))
    expected = np.concatenate(
        [conv2d_naive(x[:, i : i + 1], mean_filter, None, s) for i in range(case["c"])], axis=1)
    close(AvgPool2d(case["k"], case["stride"]).forward(x), expected)


# --------------------------------------------------------------------------- PyTorch as an oracle
@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def torch_close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(("c_in", "stride", "padding"), [(1, 1, 0), (3, 2, 1), (2, 1, 2)])
def test_conv2d_matches_torch_forward_and_backward(torch, c_in, stride, padding):
    x = normal((2, c_in, 8, 7), seed=1)
    layer = conv64(c_in, 4, 3, stride, padding, seed=2)
    layer.params["bias"][:] = normal(4, seed=3)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.params["weight"], requires_grad=True)
    bt = torch.tensor(layer.params["bias"], requires_grad=True)
    out_t = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding)
    grad_out = normal(tuple(out_t.shape), seed=4)
    out_t.backward(torch.tensor(grad_out))
    torch_close(layer.forward(x), out_t)
    torch_close(layer.backward(grad_out), xt.grad)
    torch_close(layer.grads["weight"], wt.grad)
    torch_close(layer.grads["bias"], bt.grad)


@pytest.mark.parametrize(("k", "stride"), [(2, None), (3, 2), (2, 1)])
def test_maxpool_matches_torch_forward_and_backward_with_ties(torch, k, stride):
    x = relu_ties((2, 3, 7, 6), seed=1)
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(xt, k, stride)
    grad_out = normal(tuple(out_t.shape), seed=2)
    out_t.backward(torch.tensor(grad_out))
    layer = MaxPool2d(k, stride)
    torch_close(layer.forward(x), out_t)
    torch_close(layer.backward(grad_out), xt.grad)


@pytest.mark.parametrize(("k", "stride"), [(2, None), (3, 2)])
def test_avgpool_matches_torch_forward_and_backward(torch, k, stride):
    x = normal((2, 3, 7, 6), seed=1)
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch.nn.functional.avg_pool2d(xt, k, stride)
    grad_out = normal(tuple(out_t.shape), seed=2)
    out_t.backward(torch.tensor(grad_out))
    layer = AvgPool2d(k, stride)
    torch_close(layer.forward(x), out_t)
    torch_close(layer.backward(grad_out), xt.grad)


def test_linear_matches_torch_forward_and_backward(torch):
    layer = Linear(6, 4, rng=0, dtype=np.float64)
    layer.params["bias"][:] = normal(4, seed=1)
    x = normal((5, 6), seed=2)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.params["weight"], requires_grad=True)
    bt = torch.tensor(layer.params["bias"], requires_grad=True)
    out_t = torch.nn.functional.linear(xt, wt, bt)
    grad_out = normal((5, 4), seed=3)
    out_t.backward(torch.tensor(grad_out))
    torch_close(layer.forward(x), out_t)
    torch_close(layer.backward(grad_out), xt.grad)
    torch_close(layer.grads["weight"], wt.grad)
    torch_close(layer.grads["bias"], bt.grad)


def test_relu_matches_torch_backward_at_zero(torch):
    x = np.array([[-1.0, 0.0, 2.0]])
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).backward(torch.ones(1, 3, dtype=torch.float64))
    layer = ReLU()
    layer.forward(x)
    torch_close(layer.backward(np.ones((1, 3))), xt.grad)


# --------------------------------------------------------------------------- the Module interface
def every_layer():
    """One instance of each layer, with an input it accepts (float64)."""
    x4 = normal((2, 3, 6, 6), seed=5)
    return [
        (Conv2d(3, 4, 3, padding=1, rng=0, dtype=np.float64), x4),
        (MaxPool2d(2), x4),
        (AvgPool2d(2), x4),
        (ReLU(), x4),
        (Flatten(), x4),
        (Linear(5, 3, rng=0, dtype=np.float64), normal((4, 5), seed=6)),
    ]


LAYER_IDS = ["Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Flatten", "Linear"]


@pytest.mark.parametrize(("layer", "x"), every_layer(), ids=LAYER_IDS)
def test_every_layer_rejects_a_gradient_of_the_wrong_shape(layer, x):
    out = layer.forward(x)
    wrong = np.zeros((out.shape[0] + 1, *out.shape[1:]))
    name, n = type(layer).__name__, out.shape[0]
    with pytest.raises(ValueError, match=rf"{name}\.backward: expected grad_out of shape "
                                         rf"\({n}, .*got \({n + 1}, "):
        layer.backward(wrong)


@pytest.mark.parametrize(("layer", "x"), every_layer(), ids=LAYER_IDS)
def test_every_layer_skips_the_input_gradient_on_request(layer, x):
    out = layer.forward(x)
    grad = normal(out.shape, seed=7)
    full = layer.backward(grad)
    expected = {k: g.copy() for k, g in layer.grads.items()}
    layer.zero_grad()
    layer.forward(x)
    assert full is not None and layer.backward(grad, input_grad=False) is None
    for name, g in layer.grads.items():
        np.testing.assert_allclose(g, expected[name])


@pytest.mark.parametrize(("layer", "x"), every_layer(), ids=LAYER_IDS)
def test_every_layer_has_params_grads_and_buffers_dicts(layer, x):
    assert set(layer.params) == set(layer.grads)
    assert layer.buffers == {}


def test_default_repr_shows_required_and_changed_arguments():
    assert repr(Conv2d(1, 8, 5, rng=0)) == "Conv2d(1, 8, kernel_size=5)"
    assert repr(Conv2d(3, 4, 3, stride=2, padding=1)) == (
        "Conv2d(3, 4, kernel_size=3, stride=2, padding=1)")
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2)"
    assert repr(Linear(4, 3)) == "Linear(in_features=4, out_features=3)"
    assert repr(Linear(4, 3, gain=0.5)) == "Linear(in_features=4, out_features=3, gain=0.5)"
    assert repr(ReLU()) == "ReLU()"


def test_a_new_layer_gets_a_repr_from_its_constructor_without_writing_one():
    class Scale(Module):
        def __init__(self, factor: float, offset: float = 0.0, *, rng=None) -> None:
            super().__init__()
            self.factor, self.offset = factor, offset

    assert repr(Scale(2.5)) == "Scale(factor=2.5)"
    assert repr(Scale(2.5, offset=1.0)) == "Scale(factor=2.5, offset=1.0)"


def test_evaluating_switches_to_eval_and_restores_training_mode():
    layer = ReLU()
    with layer.evaluating() as same:
        assert same is layer and not layer.training
    assert layer.training


def test_evaluating_restores_eval_mode_too():
    layer = ReLU().eval()
    with layer.evaluating():
        pass
    assert not layer.training


def test_evaluating_restores_the_mode_after_an_error():
    layer = ReLU()
    with pytest.raises(KeyError), layer.evaluating():
        raise KeyError("boom")
    assert layer.training


def test_module_has_no_output_shape_helper_any_more():
    assert not hasattr(Module, "output_shape")


@pytest.mark.parametrize("n", [0, 3])
def test_flatten_keeps_the_feature_size_for_any_batch_size(n):
    assert Flatten().forward(np.zeros((n, 8, 10, 10))).shape == (n, 800)


def test_conv2d_readable_and_fast_paths_agree():
    x = normal((3, 2, 7, 6), seed=1)
    fast = conv64(2, 4, 3, stride=2, padding=1, seed=2)
    readable = conv64(2, 4, 3, stride=2, padding=1, seed=2)
    readable.fast = False
    grad = normal(fast.forward(x).shape, seed=3)
    np.testing.assert_allclose(readable.forward(x), fast.forward(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(readable.backward(grad), fast.backward(grad), rtol=1e-12,
                               atol=1e-12)
    for name in fast.grads:
        np.testing.assert_allclose(readable.grads[name], fast.grads[name], rtol=1e-12,
                                   atol=1e-12)


# --------------------------------------------------------------------------- dropout
def test_dropout_is_the_identity_in_eval_mode():
    x = normal((4, 3, 5, 5))
    np.testing.assert_array_equal(Dropout(0.5, rng=0).eval()(x), x)


def test_dropout_keeps_the_mean_and_drops_about_p():
    x = np.ones((200, 500))
    out = Dropout(0.3, rng=0)(x)
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.3) < 4 * np.sqrt(0.3 * 0.7 / x.size)  # four standard errors
    assert abs(out.mean() - 1.0) < 0.01
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.7])


def test_dropout_backward_uses_the_forward_mask():
    layer = Dropout(0.5, rng=1)
    out = layer(np.ones((3, 8)))
    np.testing.assert_array_equal(layer.backward(np.ones((3, 8))), out)


def test_dropout_same_seed_same_mask():
    x = normal((2, 3, 4, 4))
    np.testing.assert_array_equal(Dropout(0.5, rng=3)(x), Dropout(0.5, rng=3)(x))


@pytest.mark.parametrize("shape", [(3, 2, 4, 4), (5, 7)])
def test_dropout_passes_a_gradient_check(shape):
    assert check_layer_gradients(Dropout(0.4, rng=2), normal(shape))["input"] < GRAD_TOL


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", True, float("nan")])
def test_dropout_rejects_a_p_outside_0_1(p):
    with pytest.raises(ValueError, match=r"Dropout: expected a probability 0 <= p <= 1"):
        Dropout(p)


def test_dropout_p_one_drops_everything_as_torch_does():
    torch = pytest.importorskip("torch")
    layer = Dropout(1.0, rng=0)
    out = layer(np.ones((3, 4)))
    tx = torch.ones(3, 4, dtype=torch.float64, requires_grad=True)
    tout = torch.nn.Dropout(1.0)(tx)
    tout.backward(torch.ones(3, 4, dtype=torch.float64))
    np.testing.assert_array_equal(out, tout.detach().numpy())
    np.testing.assert_array_equal(layer.backward(np.ones((3, 4))), tx.grad.numpy())
    assert not out.any()


def test_dropout_zero_p_is_the_identity_in_training():
    x = normal((3, 4))
    layer = Dropout(0.0)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)


def test_dropout_scales_kept_values_as_torch_does():
    torch = pytest.importorskip("torch")
    ours = np.unique(Dropout(0.25, rng=0)(np.ones((50, 40))))
    theirs = np.unique(torch.nn.Dropout(0.25)(torch.ones(50, 40, dtype=torch.float64)).numpy())
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)


# --------------------------------------------------------------------------- batch norm
def norm_rel_error(a, b):
    """||a - b|| / (||a|| + ||b||): batch norm's input gradient has entries near zero (each
    channel's gradient sums to zero), where an elementwise relative error means nothing."""
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))


def bn(cls, c=3):
    layer = cls(c, dtype=np.float64)
    layer.params["weight"][:] = np.linspace(0.5, 2.0, c)
    layer.params["bias"][:] = np.linspace(-0.3, 0.3, c)
    return layer


@pytest.mark.parametrize(("cls", "shape"), [(BatchNorm2d, (4, 3, 5, 5)), (BatchNorm1d, (6, 3)),
                                            (BatchNorm1d, (4, 3, 7))])
def test_batchnorm_passes_a_gradient_check(cls, shape):
    from cnnlib.gradcheck import numerical_gradient_array

    layer, x = bn(cls), normal(shape, seed=1)
    errors = check_layer_gradients(layer, x)
    assert errors["weight"] < GRAD_TOL and errors["bias"] < GRAD_TOL
    grad = normal(shape, seed=2)
    layer.forward(x)
    dx = layer.backward(grad)
    numerical = numerical_gradient_array(lambda: layer.forward(x), x, grad)
    assert norm_rel_error(dx, numerical) < 1e-8


def test_batchnorm_training_output_has_zero_mean_and_unit_variance_per_channel():
    out = BatchNorm2d(3, dtype=np.float64)(normal((8, 3, 4, 4)) * 5 + 2)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-3)


def test_batchnorm_keeps_running_statistics_in_buffers_not_params():
    layer = BatchNorm2d(4)
    assert sorted(layer.params) == ["bias", "weight"]
    assert sorted(layer.buffers) == ["running_mean", "running_var"]


def test_batchnorm_eval_uses_the_running_statistics():
    layer = BatchNorm1d(2, dtype=np.float64)
    layer.buffers["running_mean"][:] = [1.0, -1.0]
    layer.buffers["running_var"][:] = [4.0, 0.25]
    out = layer.eval()(np.array([[3.0, 0.0]]))
    np.testing.assert_allclose(out, [[2 / np.sqrt(4 + 1e-5), 1 / np.sqrt(0.25 + 1e-5)]])


def test_batchnorm_in_training_refuses_one_value_per_channel():
    with pytest.raises(ValueError, match=r"expected more than 1 value per channel"):
        BatchNorm1d(3)(np.zeros((1, 3)))


def test_batchnorm_rejects_the_wrong_channel_count():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input of shape \(N, C, H, W\) "
                                         r"with C = 3, got shape \(2, 4, 5, 5\)"):
        BatchNorm2d(3)(np.zeros((2, 4, 5, 5)))


@pytest.mark.parametrize(("cls", "shape", "momentum"), [
    ("BatchNorm2d", (5, 3, 4, 4), 0.2), ("BatchNorm1d", (7, 3), 0.2),
    ("BatchNorm1d", (4, 3, 6), 0.1), ("BatchNorm2d", (3, 3, 2, 5), None),
])
def test_batchnorm_matches_torch_over_several_steps(cls, shape, momentum):
    torch = pytest.importorskip("torch")
    ours = {"BatchNorm2d": BatchNorm2d, "BatchNorm1d": BatchNorm1d}[cls](3, momentum=momentum,
                                                                          dtype=np.float64)
    theirs = getattr(torch.nn, cls)(3, momentum=momentum).double()
    for step in range(4):
        x, grad = normal(shape, seed=10 + step) * 3 + step, normal(shape, seed=20 + step)
        out = ours(x)
        tx = torch.tensor(x, requires_grad=True)
        tout = theirs(tx)
        tout.backward(torch.tensor(grad))
        np.testing.assert_allclose(out, tout.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.backward(grad), tx.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.grads["weight"], theirs.weight.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.grads["bias"], theirs.bias.grad.numpy(), atol=1e-12)
        theirs.weight.grad = theirs.bias.grad = None
    np.testing.assert_allclose(ours.buffers["running_mean"], theirs.running_mean.numpy(),
                               atol=1e-12)
    np.testing.assert_allclose(ours.buffers["running_var"], theirs.running_var.numpy(),
                               atol=1e-12)
    x = normal(shape, seed=99)
    np.testing.assert_allclose(ours.eval()(x), theirs.eval()(torch.tensor(x)).detach().numpy(),
                               atol=1e-12)


def test_batchnorm_buffers_survive_save_and_load(tmp_path):
    from cnnlib.model import Sequential

    net = Sequential(Conv2d(1, 2, 3, rng=0), BatchNorm2d(2), ReLU())
    net(normal((4, 1, 6, 6)).astype(np.float32) * 3 + 1)
    net.save(tmp_path / "bn.npz")
    other = Sequential(Conv2d(1, 2, 3, rng=1), BatchNorm2d(2), ReLU()).load(tmp_path / "bn.npz")
    np.testing.assert_array_equal(other[1].buffers["running_var"], net[1].buffers["running_var"])
    assert len(net.parameters()) == 4  # conv weight, bias; bn weight, bias: no buffers


def test_new_layers_have_readable_reprs():
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"
    assert repr(BatchNorm2d(8)) == "BatchNorm2d(num_features=8)"
    assert repr(BatchNorm1d(4, momentum=0.2)) == "BatchNorm1d(num_features=4, momentum=0.2)"


def test_batchnorm_buffers_are_in_the_state_dict_but_not_the_parameters():
    from cnnlib.model import Sequential

    net = Sequential(Conv2d(1, 2, 3, rng=0), BatchNorm2d(2))
    assert {"1.running_mean", "1.running_var", "1.weight", "1.bias"} <= set(net.state_dict())
    trained = [p for p, _ in net.parameters()]
    assert not any(p is b for p in trained for b in net[1].buffers.values())


def test_batchnorm_momentum_none_keeps_the_average_of_all_batches(tmp_path):
    from cnnlib.model import Sequential

    layer = BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [normal((5, 2), seed=s) * (s + 1) + s for s in range(3)]
    for x in batches:
        layer(x)
    np.testing.assert_allclose(layer.buffers["running_mean"],
                               np.mean([x.mean(axis=0) for x in batches], axis=0), atol=1e-12)
    assert layer.buffers["num_batches_tracked"] == 3
    net = Sequential(layer)
    net.save(tmp_path / "bn.npz")
    other = Sequential(BatchNorm1d(2, momentum=None, dtype=np.float64)).load(tmp_path / "bn.npz")
    assert other[0].buffers["num_batches_tracked"] == 3


@pytest.mark.parametrize("momentum", [-0.1, 1.5, "0.1"])
def test_batchnorm_rejects_a_momentum_outside_0_1(momentum):
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected momentum in \[0, 1\]"):
        BatchNorm2d(3, momentum=momentum)
