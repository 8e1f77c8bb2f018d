"""Augmentations: shapes kept, inputs untouched, exact shifts, reproducible from the rng."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib.augment import Compose, RandomAffine, RandomShift, affine_images, shift_images


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


# --------------------------------------------------------------------------- RandomAffine
def test_random_affine_keeps_shape_and_dtype_and_its_input():
    x = batch()
    before = x.copy()
    out = RandomAffine(15, translate=(0.1, 0.1))(x, np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_array_equal(x, before)


def test_random_affine_without_a_change_is_the_identity():
    x = batch()
    out = RandomAffine(0, scale=None)(x, np.random.default_rng(0))
    np.testing.assert_array_equal(out, x)


def test_a_quarter_turn_is_rot90_counter_clockwise():
    x = batch(2).astype(np.float64)
    out = RandomAffine((90, 90), scale=None)(x, np.random.default_rng(0))
    np.testing.assert_allclose(out, np.rot90(x, axes=(2, 3)), atol=1e-12)


def test_a_whole_pixel_translation_equals_a_shift():
    x = batch(1).astype(np.float64)
    out = affine_images(x, [0.0], [1.0], [[2.0, -1.0]], fill=-3.0)  # right 2, up 1
    np.testing.assert_allclose(out, shift_images(x, [[-1, 2]], fill=-3.0), atol=1e-12)


def test_random_affine_fills_the_uncovered_corners_with_the_background():
    x = np.full((1, 1, 9, 9), 1.0)
    x[0, 0, 4, 4] = -0.5  # the minimum, standing in for the background
    out = affine_images(x, [45.0], [1.0], [[0.0, 0.0]])
    assert out[0, 0, 0, 0] == -0.5 and out[0, 0, -1, -1] == -0.5


def test_random_affine_is_reproducible_from_the_generator_state():
    aug = RandomAffine(20, translate=(0.2, 0.1), scale=(0.8, 1.2))
    a, b = aug(batch(), np.random.default_rng(5)), aug(batch(), np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_affine_images_matches_torch_grid_sample():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    n, size = 5, 11
    x = rng.standard_normal((n, 2, size, size))
    degrees, scale = rng.uniform(-30, 30, n), rng.uniform(0.7, 1.3, n)
    move = rng.uniform(-2, 2, (n, 2))
    ours = affine_images(x, degrees, scale, move, fill=0.0)
    # torch's affine_grid maps normalised output coordinates (-1..1 across the pixel centres,
    # align_corners=True) to input coordinates; on a square image a pixel is 2 / (size - 1).
    a = np.deg2rad(degrees)
    cos, sin = np.cos(a) / scale, np.sin(a) / scale
    tx, ty = (move / ((size - 1) / 2)).T
    theta = np.stack([np.stack([cos, -sin, -(cos * tx - sin * ty)], 1),
                      np.stack([sin, cos, -(sin * tx + cos * ty)], 1)], 1)
    grid = torch.nn.functional.affine_grid(torch.tensor(theta), list(x.shape), align_corners=True)
    theirs = torch.nn.functional.grid_sample(torch.tensor(x), grid, mode="bilinear",
                                             padding_mode="zeros", align_corners=True)
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-12)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"degrees": -5}, r"expected degrees >= 0 or a pair"),
    ({"translate": (0.1, 1.5)}, r"expected translate fractions in \[0, 1\]"),
    ({"scale": (1.2, 0.8)}, r"expected scale \(min, max\) with 0 < min <= max"),
])
def test_random_affine_rejects_bad_ranges(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RandomAffine(**kwargs)


def test_compose_chains_shift_and_affine_reproducibly():
    aug = Compose([RandomShift(1), RandomAffine(10)])
    a, b = aug(batch(), np.random.default_rng(3)), aug(batch(), np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, batch())
