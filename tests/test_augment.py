"""Augmentations: shapes kept, inputs untouched, exact shifts, reproducible from the rng."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib.augment import Compose, RandomShift, shift_images


def batch(n=6, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 1, 8, 8)).astype(np.float32)


def test_random_shift_keeps_shape_and_dtype():
    out = RandomShift(2)(batch(), np.random.default_rng(0))
    assert out.shape == (6, 1, 8, 8) and out.dtype == np.float32


def test_random_shift_never_changes_its_input():
    x = batch()
    before = x.copy()
    RandomShift(3)(x, np.random.default_rng(0))
    np.testing.assert_array_equal(x, before)


def test_a_shift_of_one_row_moves_every_pixel_down_one_row():
    x = batch(1)
    out = shift_images(x, [[1, 0]], fill=-9.0)
    np.testing.assert_array_equal(out[0, 0, 1:], x[0, 0, :-1])
    assert (out[0, 0, 0] == -9.0).all()


def test_a_shift_left_moves_columns_left_and_fills_the_right_edge():
    x = batch(1)
    out = shift_images(x, [[0, -2]], fill=0.5)
    np.testing.assert_array_equal(out[0, 0, :, :-2], x[0, 0, :, 2:])
    assert (out[0, 0, :, -2:] == 0.5).all()


def test_default_fill_is_each_images_background():
    x = batch(2)
    out = shift_images(x, [[2, 0], [0, 2]])
    assert (out[0, 0, :2] == x[0].min()).all()
    assert (out[1, 0, :, :2] == x[1].min()).all()


def test_random_shift_is_reproducible_from_the_generator_state():
    a = RandomShift(2)(batch(), np.random.default_rng(7))
    b = RandomShift(2)(batch(), np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_random_shift_draws_every_offset_in_range():
    x = np.zeros((400, 1, 7, 7), np.float32)
    x[:, 0, 3, 3] = 1.0  # one bright pixel in the middle
    out = RandomShift(2)(x, np.random.default_rng(0))
    rows, cols = np.nonzero(out[:, 0].max(axis=2))[1], np.nonzero(out[:, 0].max(axis=1))[1]
    assert set(rows - 3) == set(cols - 3) == {-2, -1, 0, 1, 2}


def test_max_shift_zero_is_the_identity():
    x = batch()
    np.testing.assert_array_equal(RandomShift(0)(x, np.random.default_rng(0)), x)


def test_compose_applies_in_order():
    def add_one(x, rng):
        return x + 1

    def double(x, rng):
        return x * 2

    x = np.zeros((1, 1, 2, 2))
    assert Compose([add_one, double])(x, np.random.default_rng(0))[0, 0, 0, 0] == 2


def test_random_shift_rejects_a_flat_batch():
    with pytest.raises(ValueError, match=r"RandomShift: expected a 4-D input"):
        RandomShift(1)(np.zeros((3, 64)), np.random.default_rng(0))


def test_random_shift_rejects_a_negative_shift():
    with pytest.raises(ValueError, match=r"max_shift: expected a non-negative integer, got -1"):
        RandomShift(-1)
