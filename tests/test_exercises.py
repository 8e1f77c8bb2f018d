"""Tests for cnnlib.exercises (one section per chapter)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib import exercises  # noqa: E402

# ----------------------------------------------------------------------- chapter 1: convolution


def _good_output_size(size, kernel_size, stride, padding):
    return (size + 2 * padding - kernel_size) // stride + 1


def _good_conv2d(x, kernel, stride=1, padding=0):
    k = kernel.shape[0]
    xp = np.pad(x, padding)
    oh = (xp.shape[0] - k) // stride + 1
    ow = (xp.shape[1] - k) // stride + 1
    out = np.zeros((oh, ow))
    for r in range(oh):
        for c in range(ow):
            out[r, c] = np.sum(xp[r * stride : r * stride + k, c * stride : c * stride + k]
                               * kernel)
    return out


def _good_conv2d_backward(grad_out, x, kernel):
    k = kernel.shape[0]
    dx, dk = np.zeros_like(x), np.zeros_like(kernel)
    for r in range(grad_out.shape[0]):
        for c in range(grad_out.shape[1]):
            dk += grad_out[r, c] * x[r : r + k, c : c + k]
            dx[r : r + k, c : c + k] += grad_out[r, c] * kernel
    return dx, dk, grad_out.sum()


def test_check_output_size_passes_a_correct_function():
    result = exercises.check_output_size(_good_output_size)
    assert result.passed and "passed" in str(result)


@pytest.mark.parametrize(("wrong", "message"), [
    (lambda h, k, s, p: (h + 2 * p - k) / s + 1, "must be an int"),      # true division
    (lambda h, k, s, p: (h - k) // s + 1, "padding=1): you returned 26, expected 28"),
    (lambda h, k, s, p: (h + 2 * p - k) // s, "you returned 2, expected 3"),  # off by one
    (lambda h, k, s, p: None, "the result is None"),
    (lambda h, k, s: 1, "raised TypeError"),
])
def test_check_output_size_catches_mistakes(wrong, message):
    result = exercises.check_output_size(wrong)
    assert not result.passed
    assert message in result.message


def test_check_output_size_needs_a_function():
    result = exercises.check_output_size(24)
    assert not result.passed and "your function itself" in result.message


def test_check_conv2d_passes_a_correct_function():
    assert exercises.check_conv2d(_good_conv2d).passed


def test_check_conv2d_catches_a_missing_return():
    result = exercises.check_conv2d(lambda x, kernel, stride=1, padding=0: None)
    assert not result.passed and "None" in result.message
    assert "❌ not yet" in str(result)


def test_check_conv2d_catches_ignored_padding():
    def no_padding(x, kernel, stride=1, padding=0):
        return _good_conv2d(x, kernel, stride, 0)

    result = exercises.check_conv2d(no_padding)
    assert not result.passed
    assert "shape" in result.message and "expected (6, 7)" in result.message


def test_check_conv2d_catches_ignored_stride():
    def no_stride(x, kernel, stride=1, padding=0):
        return _good_conv2d(x, kernel, 1, padding)

    result = exercises.check_conv2d(no_stride)
    assert not result.passed and "expected (3, 3)" in result.message


def test_check_conv2d_catches_a_flipped_kernel():
    def flipped(x, kernel, stride=1, padding=0):
        return _good_conv2d(x, kernel[::-1, ::-1], stride, padding)

    result = exercises.check_conv2d(flipped)
    assert not result.passed
    assert "wrong values" in result.message and "do not flip" in result.message


def test_check_conv2d_catches_a_function_that_modifies_its_input():
    def in_place(x, kernel, stride=1, padding=0):
        out = _good_conv2d(x, kernel, stride, padding)
        x *= 0
        return out

    result = exercises.check_conv2d(in_place)
    assert not result.passed and "changed its input 'x'" in result.message


def test_check_conv2d_backward_passes_a_correct_function():
    assert exercises.check_conv2d_backward(_good_conv2d_backward).passed


def test_check_conv2d_backward_catches_a_missing_bias_gradient():
    result = exercises.check_conv2d_backward(lambda g, x, k: _good_conv2d_backward(g, x, k)[:2])
    assert not result.passed and "expected 3 return value(s), got 2" in result.message


def test_check_conv2d_backward_catches_a_wrong_input_gradient():
    def unflipped(grad_out, x, kernel):
        dx, dk, db = _good_conv2d_backward(grad_out, x, kernel[::-1, ::-1])
        return dx, _good_conv2d_backward(grad_out, x, kernel)[1], db

    result = exercises.check_conv2d_backward(unflipped)
    assert not result.passed and "return value 1" in result.message


def test_check_conv2d_backward_reports_a_stub_that_returns_none():
    result = exercises.check_conv2d_backward(lambda grad_out, x, kernel: None)
    assert not result.passed and "return value 1 is None" in result.message


# ----------------------------------------------------------------------- chapter 2: pooling


def _good_maxpool2d(x, size, stride):
    oh, ow = (x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1
    out = np.empty((oh, ow))
    for r in range(oh):
        for c in range(ow):
            out[r, c] = x[r * stride : r * stride + size, c * stride : c * stride + size].max()
    return out


def _good_maxpool2d_backward(grad_out, x, size, stride):
    dx = np.zeros_like(x)
    for r in range(grad_out.shape[0]):
        for c in range(grad_out.shape[1]):
            window = x[r * stride : r * stride + size, c * stride : c * stride + size]
            a, b = np.unravel_index(np.argmax(window), window.shape)
            dx[r * stride + a, c * stride + b] += grad_out[r, c]
    return dx


def test_check_maxpool2d_passes_a_correct_function():
    assert exercises.check_maxpool2d(_good_maxpool2d).passed


def test_check_maxpool2d_catches_a_zero_initialised_maximum():
    def from_zero(x, size, stride):
        return np.maximum(_good_maxpool2d(x, size, stride), 0.0)

    result = exercises.check_maxpool2d(from_zero)
    assert not result.passed
    assert "negative maximum" in result.message


def test_check_maxpool2d_catches_ignored_stride():
    result = exercises.check_maxpool2d(lambda x, size, stride: _good_maxpool2d(x, size, size))
    assert not result.passed and "shape" in result.message and "case 5 of 7" in result.message


def test_check_maxpool2d_catches_a_missing_return():
    result = exercises.check_maxpool2d(lambda x, size, stride: None)
    assert not result.passed and "None" in result.message


def test_check_maxpool2d_backward_passes_a_correct_function():
    assert exercises.check_maxpool2d_backward(_good_maxpool2d_backward).passed


def test_check_maxpool2d_backward_catches_gradient_to_every_tied_maximum():
    def every_tie(grad_out, x, size, stride):
        dx = np.zeros_like(x)
        for r in range(grad_out.shape[0]):
            for c in range(grad_out.shape[1]):
                rows = slice(r * stride, r * stride + size)
                cols = slice(c * stride, c * stride + size)
                window = x[rows, cols]
                dx[rows, cols] += grad_out[r, c] * (window == window.max())
        return dx

    result = exercises.check_maxpool2d_backward(every_tie)
    assert not result.passed
    assert "case 6 of 7" in result.message and "first one" in result.message


def test_check_maxpool2d_backward_catches_overwritten_overlaps():
    def overwrite(grad_out, x, size, stride):
        dx = np.zeros_like(x)
        for r in range(grad_out.shape[0]):
            for c in range(grad_out.shape[1]):
                window = x[r * stride : r * stride + size, c * stride : c * stride + size]
                a, b = np.unravel_index(np.argmax(window), window.shape)
                dx[r * stride + a, c * stride + b] = grad_out[r, c]  # = instead of +=
        return dx

    result = exercises.check_maxpool2d_backward(overwrite)
    assert not result.passed and "wrong values" in result.message


def test_check_maxpool2d_backward_catches_a_wrong_shape():
    result = exercises.check_maxpool2d_backward(lambda g, x, size, stride: g)
    assert not result.passed and "expected (4, 4)" in result.message


def test_check_maxpool2d_backward_catches_a_function_that_modifies_grad_out():
    def in_place(grad_out, x, size, stride):
        dx = _good_maxpool2d_backward(grad_out, x, size, stride)
        grad_out[...] = 0
        return dx

    result = exercises.check_maxpool2d_backward(in_place)
    assert not result.passed and "changed its input 'grad_out'" in result.message


# ----------------------------------------------------------------------- chapter 3: fully connected


def _linear(x, weight, bias):
    return x @ weight.T + bias


def _linear_backward(grad_out, x, weight):
    return grad_out @ weight, grad_out.T @ x, grad_out.sum(axis=0)


def test_check_linear_forward_passes_a_correct_function():
    result = exercises.check_linear_forward(_linear)
    assert result.passed and "all 4 random cases" in result.message


def test_check_linear_forward_catches_a_missing_return():
    result = exercises.check_linear_forward(lambda x, weight, bias: None)
    assert not result.passed and "forget to return" in result.message


def test_check_linear_forward_catches_a_wrong_shape():
    result = exercises.check_linear_forward(lambda x, weight, bias: (x @ weight.T).T)
    assert not result.passed and "has shape (2, 1), expected (1, 2)" in result.message


def test_check_linear_forward_catches_wrong_values():
    result = exercises.check_linear_forward(lambda x, weight, bias: x @ weight.T)
    assert not result.passed and "wrong values" in result.message
    assert "bias is added" in result.message


def test_check_linear_forward_catches_modified_input():
    def in_place(x, weight, bias):
        x *= 1.0001
        return x @ weight.T + bias

    result = exercises.check_linear_forward(in_place)
    assert not result.passed and "changed its input 'x' in place" in result.message


def test_check_linear_backward_passes_a_correct_function():
    assert exercises.check_linear_backward(_linear_backward).passed


def test_check_linear_backward_catches_an_unsummed_bias_gradient():
    result = exercises.check_linear_backward(
        lambda grad_out, x, weight: (grad_out @ weight, grad_out.T @ x, grad_out))
    assert not result.passed and "return value 3 has shape" in result.message


def test_check_linear_backward_catches_an_averaged_weight_gradient():
    result = exercises.check_linear_backward(
        lambda grad_out, x, weight: (grad_out @ weight, grad_out.T @ x / len(x),
                                     grad_out.sum(axis=0)))
    assert not result.passed and "N times too small" in result.message


def test_check_linear_backward_catches_a_wrong_count_of_return_values():
    result = exercises.check_linear_backward(lambda grad_out, x, weight: (grad_out @ weight,))
    assert not result.passed and "expected 3 return value(s), got 1" in result.message


# ----------------------------------------------------------------------- chapter 4: softmax


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _naive_softmax(logits):
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _cross_entropy(logits, labels):
    return float(-_log_softmax(logits)[np.arange(len(labels)), labels].mean())


def _ce_backward(logits, labels):
    grad = _softmax(logits)
    grad[np.arange(len(labels)), labels] -= 1
    return grad / len(labels)


def test_check_softmax_passes_a_stable_softmax():
    result = exercises.check_softmax(_softmax)
    assert result.passed and "subtract" not in result.message.lower()


def test_check_softmax_hints_subtract_the_maximum_on_overflow(recwarn):
    result = exercises.check_softmax(_naive_softmax)
    assert not result.passed and "Subtract the maximum" in result.message
    assert "nan or inf" in result.message
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_check_softmax_gives_no_overflow_hint_for_finite_wrong_values():
    def wrong_axis(logits):
        e = np.exp(logits - logits.max())
        return e / e.sum(axis=0, keepdims=True)

    result = exercises.check_softmax(wrong_axis)
    assert not result.passed and "wrong values" in result.message
    assert "maximum" not in result.message


@pytest.mark.parametrize(("fn", "message"), [
    (lambda logits: None, "forget to return"),
    (lambda logits: _softmax(logits)[0], "has shape (3,), expected (1, 3)"),
    (lambda logits: _softmax(logits.T), "has shape (3, 1), expected (1, 3)"),
])
def test_check_softmax_catches_a_missing_return_and_wrong_shapes(fn, message):
    result = exercises.check_softmax(fn)
    assert not result.passed and message in result.message


def test_check_softmax_catches_modified_input():
    def in_place(logits):
        logits -= logits.max(axis=1, keepdims=True)
        return _softmax(logits)

    result = exercises.check_softmax(in_place)
    assert not result.passed and "changed its input 'logits' in place" in result.message


def test_check_cross_entropy_passes_a_stable_loss():
    assert exercises.check_cross_entropy(_cross_entropy).passed


def test_check_cross_entropy_catches_log_of_a_rounded_zero():
    def log_of_softmax(logits, labels):
        return float(-np.log(_softmax(logits)[np.arange(len(labels)), labels]).mean())

    result = exercises.check_cross_entropy(log_of_softmax)
    assert not result.passed and "log-softmax" in result.message


def test_check_cross_entropy_catches_sum_instead_of_mean():
    result = exercises.check_cross_entropy(lambda logits, labels: _cross_entropy(
        logits, labels) * len(labels))
    assert not result.passed and "mean over the batch, not the sum" in result.message


def test_check_cross_entropy_catches_a_flipped_sign():
    result = exercises.check_cross_entropy(lambda logits, labels: -_cross_entropy(logits, labels))
    assert not result.passed and "sign is flipped" in result.message


def test_check_cross_entropy_catches_per_example_losses():
    result = exercises.check_cross_entropy(
        lambda logits, labels: -_log_softmax(logits)[np.arange(len(labels)), labels])
    assert not result.passed and "expected ()" in result.message


def test_check_softmax_cross_entropy_backward_passes_a_correct_gradient():
    assert exercises.check_softmax_cross_entropy_backward(_ce_backward).passed


def test_check_softmax_cross_entropy_backward_catches_missing_division_by_n():
    result = exercises.check_softmax_cross_entropy_backward(
        lambda logits, labels: _ce_backward(logits, labels) * len(labels))
    assert not result.passed and "N times too large" in result.message


def test_check_softmax_cross_entropy_backward_catches_a_flipped_sign():
    result = exercises.check_softmax_cross_entropy_backward(
        lambda logits, labels: -_ce_backward(logits, labels))
    assert not result.passed and "sign is flipped" in result.message


def test_check_softmax_cross_entropy_backward_catches_a_missing_return():
    result = exercises.check_softmax_cross_entropy_backward(lambda logits, labels: None)
    assert not result.passed and "forget to return" in result.message


# ----------------------------------------------------------------------- chapter 5: training


def _adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return param - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


def test_check_adam_step_passes_a_correct_step():
    assert exercises.check_adam_step(_adam_step).passed


def test_check_adam_step_agrees_with_cnnlib_adam():
    import cnnlib

    rng = np.random.default_rng(0)
    p, g = rng.standard_normal(5), rng.standard_normal(5)
    opt = cnnlib.Adam([(p, g)], lr=0.01, betas=(0.9, 0.99))
    m = v = np.zeros(5)
    q = p.copy()
    for t in (1, 2, 3):
        g[...] = rng.standard_normal(5)
        q, m, v = _adam_step(q, g, m, v, t, 0.01, 0.9, 0.99, 1e-8)
        opt.step()
    np.testing.assert_allclose(p, q, rtol=1e-12)


def test_check_adam_step_names_the_missing_bias_correction():
    def uncorrected(param, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        return param - lr * m / (np.sqrt(v) + eps), m, v

    result = exercises.check_adam_step(uncorrected)
    assert not result.passed and "without bias correction" in result.message


def test_check_adam_step_recognises_the_articles_reset_bug():
    def reset(param, grad, m, v, t, lr, beta1, beta2, eps):
        return _adam_step(param, grad, 0 * m, 0 * v, t, lr, beta1, beta2, eps)

    result = exercises.check_adam_step(reset)
    assert not result.passed and "zero moments" in result.message


def test_check_adam_step_reports_a_wrong_step_number():
    def late(param, grad, m, v, t, lr, beta1, beta2, eps):
        return _adam_step(param, grad, m, v, t + 1, lr, beta1, beta2, eps)

    assert "wrong step number" in exercises.check_adam_step(late).message


def test_check_adam_step_reports_a_forgotten_return():
    result = exercises.check_adam_step(lambda **case: None)
    assert not result.passed and "None" in result.message


def test_check_adam_step_reports_a_missing_return_value():
    result = exercises.check_adam_step(lambda **case: _adam_step(**case)[0])
    assert "expected 3 return value(s), got 1" in result.message


def test_check_adam_step_rejects_in_place_updates():
    def in_place(param, grad, m, v, t, lr, beta1, beta2, eps):
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad**2
        return param - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v

    assert "in place" in exercises.check_adam_step(in_place).message


def test_check_adam_step_does_not_reveal_the_formula():
    def wrong(param, grad, m, v, t, lr, beta1, beta2, eps):
        return param + 1.0, m, v

    message = exercises.check_adam_step(wrong).message
    assert "wrong values" in message and "sqrt" not in message


def test_check_accuracy_passes_a_correct_function():
    result = exercises.check_accuracy(lambda logits, labels: np.mean(logits.argmax(1) == labels))
    assert result.passed


def test_check_accuracy_spots_a_count():
    result = exercises.check_accuracy(lambda logits, labels: np.sum(logits.argmax(1) == labels))
    assert not result.passed and "number of correct predictions" in result.message


def test_check_accuracy_spots_a_percentage():
    def percent(logits, labels):
        return 100 * np.mean(logits.argmax(1) == labels)

    assert "percentage" in exercises.check_accuracy(percent).message


def test_check_accuracy_reports_wrong_values():
    def wrong_axis(logits, labels):
        return np.mean(logits.argmax(0)[: len(labels)] == labels)

    result = exercises.check_accuracy(wrong_axis)
    assert not result.passed and "wrong values" in result.message


def test_check_accuracy_reports_a_forgotten_return():
    assert "None" in exercises.check_accuracy(lambda logits, labels: None).message


def _split(n, val_size, seed):
    order = np.random.default_rng(seed).permutation(n)
    return order[val_size:], order[:val_size]


def test_check_train_val_split_passes_a_seeded_permutation():
    assert exercises.check_train_val_split(_split).passed


def test_check_train_val_split_rejects_an_unshuffled_split():
    def last(n, val_size, seed):
        return np.arange(n - val_size), np.arange(n - val_size, n)

    result = exercises.check_train_val_split(last)
    assert not result.passed and "shuffle" in result.message


def test_check_train_val_split_rejects_an_unseeded_split():
    def unseeded(n, val_size, seed):
        return _split(n, val_size, None)

    message = exercises.check_train_val_split(unseeded).message
    assert "same seed gave two different splits" in message


def test_check_train_val_split_rejects_a_seed_that_is_ignored():
    def fixed(n, val_size, seed):
        return _split(n, val_size, 0)

    assert "seeds 0 and 1 gave the same split" in exercises.check_train_val_split(fixed).message


def test_check_train_val_split_rejects_overlapping_splits():
    def overlap(n, val_size, seed):
        train, val = _split(n, val_size, seed)
        return np.concatenate([train[1:], val[:1]]), val

    assert "in both splits" in exercises.check_train_val_split(overlap).message


def test_check_train_val_split_rejects_wrong_sizes():
    def everything(n, val_size, seed):
        order = np.random.default_rng(seed).permutation(n)
        return order, order[:val_size]

    assert "expected 7 and 3" in exercises.check_train_val_split(everything).message


def test_check_train_val_split_rejects_float_indices():
    def floats(n, val_size, seed):
        return tuple(a.astype(float) for a in _split(n, val_size, seed))

    assert "must be integers" in exercises.check_train_val_split(floats).message


def test_check_train_val_split_reports_a_forgotten_return():
    assert "None" in exercises.check_train_val_split(lambda n, val_size, seed: None).message


def _standardize(train, test):
    mean, std = train.mean(), train.std()
    return (train - mean) / std, (test - mean) / std


def test_check_standardize_passes_training_statistics():
    assert exercises.check_standardize(_standardize).passed


def test_check_standardize_recognises_test_statistics():
    def own(train, test):
        return _standardize(train, train)[0], _standardize(test, test)[0]

    result = exercises.check_standardize(own)
    assert not result.passed and "its own statistics" in result.message


def test_check_standardize_rejects_modifying_the_input():
    def in_place(train, test):
        mean, std = train.mean(), train.std()
        train -= mean
        train /= std
        return train, (test - mean) / std

    assert "in place" in exercises.check_standardize(in_place).message


def _im2col_loop(x, kernel_size, stride):
    n, _, h, w = x.shape
    k = kernel_size
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    return np.array([x[i, :, r * stride : r * stride + k, s * stride : s * stride + k].ravel()
                     for i in range(n) for r in range(oh) for s in range(ow)])


def test_check_im2col_passes_a_loop_version():
    assert exercises.check_im2col(_im2col_loop).passed


def test_check_im2col_spots_windows_flattened_by_column():
    def by_column(x, kernel_size, stride):
        cols = _im2col_loop(x, kernel_size, stride)
        k = kernel_size
        return cols.reshape(len(cols), -1, k, k).transpose(0, 1, 3, 2).reshape(len(cols), -1)

    assert "column by column" in exercises.check_im2col(by_column).message


def test_check_im2col_reports_a_wrong_shape():
    result = exercises.check_im2col(lambda x, kernel_size, stride: _im2col_loop(x, kernel_size,
                                                                               stride).T)
    assert not result.passed and "has shape" in result.message


def _conv_via_im2col(x, weight, bias):
    from cnnlib import im2col

    n, _, h, w = x.shape
    f, _, k, _ = weight.shape
    out = im2col(x, k) @ weight.reshape(f, -1).T + bias
    return out.reshape(n, h - k + 1, w - k + 1, f).transpose(0, 3, 1, 2)


def test_check_conv2d_im2col_passes_a_correct_function():
    assert exercises.check_conv2d_im2col(_conv_via_im2col).passed


def test_check_conv2d_im2col_spots_a_straight_reshape():
    from cnnlib import im2col

    def straight(x, weight, bias):
        n, _, h, w = x.shape
        f, _, k, _ = weight.shape
        out = im2col(x, k) @ weight.reshape(f, -1).T + bias
        return out.reshape(n, f, h - k + 1, w - k + 1)

    result = exercises.check_conv2d_im2col(straight)
    assert not result.passed and "wrong places" in result.message


def test_check_conv2d_im2col_spots_a_missing_bias():
    def no_bias(x, weight, bias):
        return _conv_via_im2col(x, weight, 0 * bias)

    assert "forgot the bias" in exercises.check_conv2d_im2col(no_bias).message
