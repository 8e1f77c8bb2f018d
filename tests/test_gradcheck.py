"""Tests for cnnlib.gradcheck: relative error, centred differences, and the layer checker."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib.gradcheck import (
    check_layer_gradients,
    numerical_gradient,
    numerical_gradient_array,
    rel_error,
)
from cnnlib.layers import Linear, ReLU


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


class BrokenLinear(Linear):
    """A Linear layer whose backward pass is off by a factor of two."""

    def backward(self, grad_out, input_grad=True):
        return super().backward(2 * grad_out, input_grad)


# --------------------------------------------------------------------------- rel_error
def test_rel_error_of_equal_arrays_is_zero():
    x = normal((3, 4))
    assert rel_error(x, x.copy()) == 0.0


def test_rel_error_matches_hand_computed_value():
    assert rel_error([1.0], [3.0]) == pytest.approx(0.5)  # |1 - 3| / (1 + 3)


def test_rel_error_is_the_largest_entry():
    assert rel_error([1.0, 1.0], [1.0, 3.0]) == pytest.approx(0.5)


def test_rel_error_floors_the_denominator_near_zero():
    assert rel_error([1e-10], [0.0]) == pytest.approx(1e-2)  # 1e-10 / max(1e-8, 1e-10)


def test_rel_error_of_empty_arrays_is_zero():
    assert rel_error(np.zeros(0), np.zeros(0)) == 0.0


def test_rel_error_rejects_different_shapes():
    with pytest.raises(ValueError, match=r"equal shapes, got \(2, 3\) and \(3, 2\)"):
        rel_error(np.zeros((2, 3)), np.zeros((3, 2)))


# --------------------------------------------------------------------------- numerical gradients
def test_numerical_gradient_of_sum_of_squares_is_twice_x():
    x = normal((3, 4))
    assert rel_error(numerical_gradient(lambda: float(np.sum(x**2)), x), 2 * x) < 1e-8


def test_numerical_gradient_of_a_nonlinear_function():
    x = normal(5, seed=1)
    grad = numerical_gradient(lambda: float(np.sum(np.sin(x) * x)), x)
    assert rel_error(grad, np.cos(x) * x + np.sin(x)) < 1e-8


def test_numerical_gradient_restores_x():
    x = normal((2, 3))
    before = x.copy()
    numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_respects_the_step_size():
    x = np.array([1.0])
    # centred difference of x**3: ((1+h)^3 - (1-h)^3) / 2h = 3 + h^2, exactly visible at h=0.1
    assert numerical_gradient(lambda: float(x[0] ** 3), x, h=0.1)[0] == pytest.approx(3.01)


def test_numerical_gradient_rejects_float32():
    x = np.ones(3, dtype=np.float32)
    with pytest.raises(ValueError, match=r"gradient checks need float64 input, got float32"):
        numerical_gradient(lambda: float(np.sum(x)), x)


def test_numerical_gradient_array_is_the_gradient_of_the_weighted_sum():
    x, grad_out = normal((2, 3)), normal((2, 3), seed=1)
    grad = numerical_gradient_array(lambda: 3 * x + x**2, x, grad_out)
    assert rel_error(grad, grad_out * (3 + 2 * x)) < 1e-8


# --------------------------------------------------------------------------- check_layer_gradients
def test_check_layer_gradients_reports_input_and_every_parameter():
    errors = check_layer_gradients(Linear(4, 3, rng=0, dtype=np.float64), normal((2, 4)))
    assert set(errors) == {"input", "weight", "bias"}


def test_check_layer_gradients_passes_a_correct_layer():
    errors = check_layer_gradients(Linear(4, 3, rng=0, dtype=np.float64), normal((2, 4)))
    assert max(errors.values()) < 1e-6, errors


def test_check_layer_gradients_reports_only_input_for_a_layer_without_params():
    x = np.array([[-1.0, 0.5, 2.0]])
    assert list(check_layer_gradients(ReLU(), x)) == ["input"]


def test_check_layer_gradients_catches_a_wrong_backward():
    errors = check_layer_gradients(BrokenLinear(4, 3, rng=0, dtype=np.float64), normal((2, 4)))
    assert errors["input"] > 0.1 and errors["weight"] > 0.1 and errors["bias"] > 0.1


def test_check_layer_gradients_leaves_the_callers_input_alone():
    x = normal((2, 4))
    before = x.copy()
    check_layer_gradients(Linear(4, 3, rng=0, dtype=np.float64), x)
    np.testing.assert_array_equal(x, before)


def test_check_layer_gradients_leaves_the_parameters_alone():
    layer = Linear(4, 3, rng=0, dtype=np.float64)
    before = layer.params["weight"].copy()
    check_layer_gradients(layer, normal((2, 4)))
    np.testing.assert_array_equal(layer.params["weight"], before)


def test_check_layer_gradients_is_deterministic_for_a_seed():
    layer, x = Linear(4, 3, rng=0, dtype=np.float64), normal((2, 4))
    assert check_layer_gradients(layer, x, seed=3) == check_layer_gradients(layer, x, seed=3)


def test_check_layer_gradients_rejects_float32_input():
    with pytest.raises(ValueError, match=r"float64 input, got float32"):
        check_layer_gradients(Linear(4, 3, rng=0, dtype=np.float64),
                              np.ones((2, 4), np.float32))


def test_check_layer_gradients_rejects_a_float32_layer():
    with pytest.raises(ValueError, match=r"float64 parameter 'weight', got float32"):
        check_layer_gradients(Linear(4, 3, rng=0), normal((2, 4)))


class NoisyScale:
    """A toy layer whose forward draws random numbers (like dropout): y = x * m, m ~ U(0.5, 1.5)."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.params, self.grads = {}, {}
        self._m = None

    def forward(self, x):
        self._m = self.rng.uniform(0.5, 1.5, size=x.shape)
        return x * self._m

    def backward(self, grad_out, input_grad=True):
        return grad_out * self._m


def test_check_layer_gradients_replays_the_layers_random_draws():
    errors = check_layer_gradients(NoisyScale(), normal((3, 4), seed=1))
    assert errors["input"] < 1e-7


def test_check_layer_gradients_restores_the_layers_generator():
    layer = NoisyScale(seed=4)
    untouched = NoisyScale(seed=4)
    check_layer_gradients(layer, normal((3, 4), seed=1))
    assert layer.rng.random() == untouched.rng.random()
