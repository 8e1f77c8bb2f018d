"""Tests for cnnlib.book.exercises.training (Chapter 5's checkers)."""

import numpy as np

from cnnlib.book import exercises


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
    result = exercises.check_adam_step(lambda *case: None)
    assert not result.passed and "None" in result.message


def test_check_adam_step_reports_a_missing_return_value():
    result = exercises.check_adam_step(lambda *case: _adam_step(*case)[0])
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
