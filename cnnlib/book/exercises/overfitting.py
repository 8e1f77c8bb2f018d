"""Exercise checkers for Chapter 7, fighting overfitting."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .harness import CheckResult, check_with_known_mistakes, checker

__all__ = ["check_dropout", "check_batchnorm_forward", "check_shift", "check_cosine_lr"]


# --------------------------------------------------------------------------- dropout


def _dropout_reference(x, keep, p):
    return x * keep / (1 - p)


def _dropout_cases(seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for shape, p in [((4, 6), 0.5), ((2, 3, 5, 5), 0.25), ((10,), 0.1), ((3, 8), 0.8)]:
        cases.append(dict(x=rng.standard_normal(shape), keep=rng.random(shape) >= p, p=p))
    return cases


@checker
def check_dropout(fn: Callable) -> CheckResult:
    """Check ``fn(x, keep, p) -> out``: inverted dropout with a given mask.

    ``keep`` is a boolean array of the shape of ``x``, True where a unit survives (each unit
    survives with probability ``1 - p``). The survivors are scaled so that the expected value
    of every unit is unchanged.

    Shape
    -----
    x (any shape), keep (same shape, bool), p (a number in [0, 1)) -> out (shape of x)
    """
    variants = [
        (lambda x, keep, p: x * keep,
         "You dropped the right units but did not rescale the survivors: divide by the keep "
         "probability 1 - p, or the next layer sees smaller inputs in training than at test "
         "time."),
        (lambda x, keep, p: x * keep / p,
         "You divided by p, the probability of *dropping* a unit; divide by 1 - p, the "
         "probability of keeping it."),
        (lambda x, keep, p: x * keep * (1 - p),
         "You multiplied by 1 - p; inverted dropout divides the survivors by it."),
        (lambda x, keep, p: x * ~keep / (1 - p),
         "You kept the units the mask drops: True in keep means the unit survives."),
    ]
    return check_with_known_mistakes(
        "check_dropout", fn, _dropout_reference, _dropout_cases(), variants,
        hint="Zero the units where keep is False and divide the others by 1 - p.")


# --------------------------------------------------------------------------- batch norm


def _batchnorm_reference(x, gamma, beta, eps):
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1)


def _batchnorm_cases(seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for n, c, h, w in [(4, 3, 5, 5), (8, 2, 3, 4), (2, 5, 6, 6), (16, 1, 2, 2)]:
        # channels with very different means and scales, as real feature maps have
        shift, scale = 3 * rng.standard_normal(c), np.exp(rng.standard_normal(c))
        x = shift.reshape(1, -1, 1, 1) + scale.reshape(1, -1, 1, 1) * rng.standard_normal(
            (n, c, h, w))
        cases.append(dict(x=x, gamma=1 + 0.5 * rng.standard_normal(c),
                          beta=rng.standard_normal(c), eps=1e-5))
    return cases


@checker
def check_batchnorm_forward(fn: Callable) -> CheckResult:
    """Check ``fn(x, gamma, beta, eps) -> out``: batch normalisation in training mode.

    Each channel is normalised with the mean and the (biased) variance of its values over the
    batch and both spatial axes, then scaled by ``gamma`` and shifted by ``beta``.

    Shape
    -----
    x (N, C, H, W), gamma (C,), beta (C,), eps a number -> out (N, C, H, W)
    """

    def per_sample(x, gamma, beta, eps):
        mean = x.mean(axis=(1, 2, 3), keepdims=True)
        var = x.var(axis=(1, 2, 3), keepdims=True)
        return gamma.reshape(1, -1, 1, 1) * (x - mean) / np.sqrt(var + eps) + beta.reshape(
            1, -1, 1, 1)

    def batch_only(x, gamma, beta, eps):
        mean, var = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)
        return gamma.reshape(1, -1, 1, 1) * (x - mean) / np.sqrt(var + eps) + beta.reshape(
            1, -1, 1, 1)

    def everything(x, gamma, beta, eps):
        return gamma.reshape(1, -1, 1, 1) * (x - x.mean()) / np.sqrt(x.var() + eps) \
            + beta.reshape(1, -1, 1, 1)

    def unbiased(x, gamma, beta, eps):
        mean = x.mean(axis=(0, 2, 3), keepdims=True)
        var = x.var(axis=(0, 2, 3), keepdims=True, ddof=1)
        return gamma.reshape(1, -1, 1, 1) * (x - mean) / np.sqrt(var + eps) + beta.reshape(
            1, -1, 1, 1)

    def std_not_var(x, gamma, beta, eps):
        mean = x.mean(axis=(0, 2, 3), keepdims=True)
        std = x.std(axis=(0, 2, 3), keepdims=True)
        return gamma.reshape(1, -1, 1, 1) * (x - mean) / (std + eps) + beta.reshape(1, -1, 1, 1)

    def no_affine(x, gamma, beta, eps):
        return _batchnorm_reference(x, np.ones_like(gamma), np.zeros_like(beta), eps)

    variants = [
        (per_sample, "You normalised each image over its channels and pixels (that is layer "
                     "normalisation); batch norm takes the statistics of each channel over "
                     "the batch and the pixels: axes (0, 2, 3)."),
        (batch_only, "You took the statistics over the batch axis only, one per pixel; batch "
                     "norm pools each channel over the batch AND its pixels: axes (0, 2, 3)."),
        (everything, "You used one mean and one variance for the whole array; batch norm "
                     "normalises each channel separately: axes (0, 2, 3)."),
        (unbiased, "You used the unbiased variance (ddof=1); the batch statistics use the "
                   "biased one, the plain mean of the squared deviations."),
        (std_not_var, "Almost: eps belongs under the square root, sqrt(var + eps), not "
                      "added to the standard deviation."),
        (no_affine, "The normalisation is right, but gamma and beta were not applied: "
                    "out = gamma * x_hat + beta, per channel."),
    ]
    return check_with_known_mistakes(
        "check_batchnorm_forward", fn, _batchnorm_reference, _batchnorm_cases(), variants,
        hint="Per channel: subtract the mean, divide by sqrt(variance + eps), then scale by "
             "gamma and shift by beta.", rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- augmentation


def _shift_reference(image, dy, dx, fill):
    h, w = image.shape
    out = np.full_like(image, fill)
    src = image[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    out[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out


def _shift_cases(seed: int = 2) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for shape, dy, dx in [((5, 5), 1, 0), ((5, 6), 0, -2), ((6, 6), -1, 2), ((28, 28), 2, -1),
                          ((4, 4), 0, 0), ((6, 5), -2, -2)]:
        cases.append(dict(image=rng.standard_normal(shape), dy=dy, dx=dx, fill=-0.5))
    return cases


@checker
def check_shift(fn: Callable) -> CheckResult:
    """Check ``fn(image, dy, dx, fill) -> shifted``: move a 2-D image ``dy`` rows down and
    ``dx`` columns right (negative: up, left); pixels moved out are lost, the uncovered ones
    take the value ``fill``.

    Shape
    -----
    image (H, W), dy and dx integers, fill a number -> shifted (H, W)
    """
    variants = [
        (lambda image, dy, dx, fill: np.roll(image, (dy, dx), axis=(0, 1)),
         "Your shift wraps around (np.roll): what leaves one side reappears on the other, "
         "which a real digit never does. Fill the uncovered pixels with fill instead."),
        (lambda image, dy, dx, fill: _shift_reference(image, -dy, -dx, fill),
         "You shifted the wrong way: a positive dy moves the image down, a positive dx to the "
         "right."),
        (lambda image, dy, dx, fill: _shift_reference(image, dx, dy, fill),
         "You swapped the axes: dy moves rows (axis 0), dx moves columns (axis 1)."),
        (lambda image, dy, dx, fill: _shift_reference(image, dy, dx, 0.0),
         "The uncovered pixels should take the value fill (blank paper after "
         "standardisation is not 0)."),
    ]
    return check_with_known_mistakes(
        "check_shift", fn, _shift_reference, _shift_cases(), variants,
        hint="Start from an array full of fill and copy the part of the image that stays "
             "inside into its new place.")


# --------------------------------------------------------------------------- schedules


def _cosine_reference(epoch, base_lr, t_max, eta_min):
    return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * epoch / t_max)) / 2


def _cosine_cases() -> list[dict]:
    return [dict(epoch=e, base_lr=lr, t_max=t, eta_min=m)
            for e, lr, t, m in [(0, 0.1, 10, 0.0), (3, 0.1, 10, 0.0), (10, 0.1, 10, 0.0),
                                (5, 1e-3, 10, 1e-5), (7, 3e-3, 8, 1e-4), (1, 0.01, 4, 0.001)]]


@checker
def check_cosine_lr(fn: Callable) -> CheckResult:
    """Check ``fn(epoch, base_lr, t_max, eta_min) -> lr``: the cosine schedule.

    The learning rate falls from ``base_lr`` at epoch 0 to ``eta_min`` at epoch ``t_max``
    along half a cosine wave, as ``CosineAnnealingLR`` sets it.
    """
    variants = [
        (lambda epoch, base_lr, t_max, eta_min:
         base_lr * (1 + np.cos(np.pi * epoch / t_max)) / 2,
         "You left out eta_min: the schedule ends at eta_min, not at 0, and the cosine spans "
         "base_lr - eta_min."),
        (lambda epoch, base_lr, t_max, eta_min:
         eta_min + (base_lr - eta_min) * np.cos(np.pi * epoch / t_max),
         "Your learning rate turns negative in the second half: use (1 + cos(...)) / 2, which "
         "goes from 1 to 0."),
        (lambda epoch, base_lr, t_max, eta_min:
         eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * epoch / t_max / 2)) / 2,
         "Your cosine covers a quarter wave: the angle runs from 0 to pi over t_max epochs."),
        (lambda epoch, base_lr, t_max, eta_min:
         eta_min + (base_lr - eta_min) * (1 + np.sin(np.pi * epoch / t_max)) / 2,
         "You used a sine; the schedule starts at the top of a cosine."),
    ]
    return check_with_known_mistakes(
        "check_cosine_lr", fn, _cosine_reference, _cosine_cases(), variants,
        hint="lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2.",
        rtol=1e-9, atol=1e-12)
