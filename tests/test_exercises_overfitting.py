"""Tests for cnnlib.book.exercises.overfitting (Chapter 7's checkers)."""

import numpy as np

from cnnlib.book import exercises


def _dropout(x, keep, p):
    return np.where(keep, x / (1 - p), 0.0)


def _batchnorm(x, gamma, beta, eps):
    out = np.empty_like(x)
    for c in range(x.shape[1]):   # one channel at a time, as a loop
        values = x[:, c]
        mean = values.sum() / values.size
        var = ((values - mean) ** 2).sum() / values.size
        out[:, c] = gamma[c] * (values - mean) / np.sqrt(var + eps) + beta[c]
    return out


def _shift(image, dy, dx, fill):
    h, w = image.shape
    out = np.full((h, w), fill, dtype=image.dtype)
    for i in range(h):
        for j in range(w):
            if 0 <= i - dy < h and 0 <= j - dx < w:
                out[i, j] = image[i - dy, j - dx]
    return out


def _cosine(epoch, base_lr, t_max, eta_min):
    return eta_min + 0.5 * (base_lr - eta_min) * (1 + np.cos(epoch / t_max * np.pi))


def test_check_dropout_passes_inverted_dropout():
    assert exercises.check_dropout(_dropout).passed


def test_check_dropout_names_a_missing_rescale():
    result = exercises.check_dropout(lambda x, keep, p: x * keep)
    assert not result.passed and "did not rescale" in result.message


def test_check_dropout_names_a_division_by_p():
    result = exercises.check_dropout(lambda x, keep, p: x * keep / p)
    assert not result.passed and "divided by p" in result.message


def test_check_dropout_names_an_inverted_mask():
    result = exercises.check_dropout(lambda x, keep, p: x * ~keep / (1 - p))
    assert not result.passed and "True in keep means" in result.message


def test_check_dropout_reports_a_forgotten_return():
    result = exercises.check_dropout(lambda x, keep, p: None)
    assert not result.passed and "None" in result.message


def test_check_batchnorm_forward_passes_a_loop_version():
    assert exercises.check_batchnorm_forward(_batchnorm).passed


def test_check_batchnorm_forward_agrees_with_batchnorm2d_when_available():
    import cnnlib

    if not hasattr(cnnlib, "BatchNorm2d"):
        import pytest

        pytest.skip("cnnlib.BatchNorm2d has not landed yet")
    rng = np.random.default_rng(0)
    x = 2 + 3 * rng.standard_normal((4, 3, 5, 5))
    layer = cnnlib.BatchNorm2d(3, dtype=np.float64)
    gamma, beta = layer.params["weight"], layer.params["bias"]
    gamma[...], beta[...] = rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(layer(x), _batchnorm(x, gamma, beta, layer.eps), rtol=1e-10)


def test_check_batchnorm_forward_names_per_sample_statistics():
    def per_sample(x, gamma, beta, eps):
        mean = x.mean(axis=(1, 2, 3), keepdims=True)
        var = x.var(axis=(1, 2, 3), keepdims=True)
        return gamma[:, None, None] * (x - mean) / np.sqrt(var + eps) + beta[:, None, None]

    result = exercises.check_batchnorm_forward(per_sample)
    assert not result.passed and "layer normalisation" in result.message


def test_check_batchnorm_forward_names_the_unbiased_variance():
    def unbiased(x, gamma, beta, eps):
        mean = x.mean(axis=(0, 2, 3), keepdims=True)
        var = x.var(axis=(0, 2, 3), keepdims=True, ddof=1)
        return gamma[:, None, None] * (x - mean) / np.sqrt(var + eps) + beta[:, None, None]

    result = exercises.check_batchnorm_forward(unbiased)
    assert not result.passed and "ddof=1" in result.message


def test_check_batchnorm_forward_names_eps_outside_the_square_root():
    def outside(x, gamma, beta, eps):
        mean = x.mean(axis=(0, 2, 3), keepdims=True)
        std = x.std(axis=(0, 2, 3), keepdims=True)
        return gamma[:, None, None] * (x - mean) / (std + eps) + beta[:, None, None]

    result = exercises.check_batchnorm_forward(outside)
    assert not result.passed and "under the square root" in result.message


def test_check_batchnorm_forward_names_missing_gamma_and_beta():
    def bare(x, gamma, beta, eps):
        mean = x.mean(axis=(0, 2, 3), keepdims=True)
        return (x - mean) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + eps)

    result = exercises.check_batchnorm_forward(bare)
    assert not result.passed and "gamma and beta were not applied" in result.message


def test_check_shift_passes_a_loop_version():
    assert exercises.check_shift(_shift).passed


def test_check_shift_names_a_wrap_around():
    result = exercises.check_shift(lambda image, dy, dx, fill: np.roll(image, (dy, dx), (0, 1)))
    assert not result.passed and "wraps around" in result.message


def test_check_shift_names_the_wrong_direction():
    result = exercises.check_shift(lambda image, dy, dx, fill: _shift(image, -dy, -dx, fill))
    assert not result.passed and "wrong way" in result.message


def test_check_shift_names_a_zero_fill():
    result = exercises.check_shift(lambda image, dy, dx, fill: _shift(image, dy, dx, 0.0))
    assert not result.passed and "value fill" in result.message


def test_check_shift_reports_a_wrong_shape():
    result = exercises.check_shift(lambda image, dy, dx, fill: image[1:])
    assert not result.passed and "shape" in result.message


def test_check_cosine_lr_passes_the_formula():
    assert exercises.check_cosine_lr(_cosine).passed


def test_check_cosine_lr_names_a_missing_eta_min():
    result = exercises.check_cosine_lr(
        lambda epoch, base_lr, t_max, eta_min: base_lr * (1 + np.cos(np.pi * epoch / t_max)) / 2)
    assert not result.passed and "eta_min" in result.message


def test_check_cosine_lr_names_a_negative_learning_rate():
    result = exercises.check_cosine_lr(
        lambda epoch, base_lr, t_max, eta_min:
        eta_min + (base_lr - eta_min) * np.cos(np.pi * epoch / t_max))
    assert not result.passed and "negative" in result.message


def test_check_cosine_lr_agrees_with_cosine_annealing_when_available():
    import cnnlib

    if not hasattr(cnnlib, "CosineAnnealingLR"):
        import pytest

        pytest.skip("cnnlib.CosineAnnealingLR has not landed yet")
    p, g = np.zeros(1), np.zeros(1)
    opt = cnnlib.SGD([(p, g)], lr=0.1)
    schedule = cnnlib.CosineAnnealingLR(opt, T_max=6, eta_min=0.01)
    for epoch in range(7):
        assert np.isclose(opt.lr, _cosine(epoch, 0.1, 6, 0.01))
        schedule.step()
