"""cnnlib.book.widgets.draw: MNIST-style preprocessing of drawings and the widget's Python side.

The page does the same arithmetic in JavaScript; tests/test_browser_draw.py compares the two.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest

import cnnlib
from cnnlib.book.widgets.draw import (
    CANVAS,
    PEN_RADIUS,
    DrawDigit,
    draw_digit,
    preprocess_drawing,
    rasterise,
)

ONE = [[(150, 45), (140, 235)]]
ZERO = [[(140 + 55 * math.sin(a), 140 - 85 * math.cos(a))
         for a in np.linspace(0, 2 * math.pi, 49)]]
SEVEN = [[(80, 55), (200, 55), (125, 235)]]
CORNER_L = [[(20, 20), (20, 60), (45, 60)]]  # small and far from the centre
WIDE = [[(30, 130), (250, 150)]]  # a dash, much wider than tall
DRAWINGS = {"one": ONE, "zero": ZERO, "seven": SEVEN, "corner L": CORNER_L, "wide": WIDE}


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Centre of mass with pixel i spanning [i, i + 1), so the field's centre is (14, 14)."""
    ys, xs = np.mgrid[: image.shape[0], : image.shape[1]] + 0.5
    return float((image * ys).sum() / image.sum()), float((image * xs).sum() / image.sum())


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


@pytest.fixture(scope="module")
def model():
    return cnnlib.seed_network(rng=0)


# --------------------------------------------------------------------------- rasterise
def test_dot_is_a_disc_of_the_pen_radius():
    raster = rasterise([[(140.0, 140.0)]])
    ys, xs = np.mgrid[:CANVAS, :CANVAS] + 0.5
    d = np.hypot(ys - 140, xs - 140)
    assert np.all(raster[d <= PEN_RADIUS - 0.5] == 1)
    assert np.all(raster[d >= PEN_RADIUS + 0.5] == 0)


def test_stroke_edges_are_anti_aliased():
    raster = rasterise(ONE)
    assert np.any((raster > 0) & (raster < 1))


def test_rasterise_draws_over_a_base():
    base = np.full((CANVAS, CANVAS), 0.25)
    raster = rasterise([[(10, 10)]], base=base)
    assert raster[10, 10] == 1 and raster[200, 200] == 0.25


def test_rasterise_rejects_a_base_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"base must have shape \(280, 280\), got \(28, 28\)"):
        rasterise(ONE, base=np.zeros((28, 28)))


def test_strokes_with_nan_are_rejected():
    with pytest.raises(ValueError, match="stroke 0 holds a NaN"):
        preprocess_drawing([[(1.0, float("nan")), (3.0, 4.0)]])


def test_strokes_of_triples_are_rejected():
    with pytest.raises(ValueError, match=r"stroke 0 must be a list of \(x, y\) points"):
        rasterise([[(1, 2, 3)]])


# --------------------------------------------------------------------------- preprocess
@pytest.mark.parametrize("name", DRAWINGS)
def test_centre_of_mass_lands_at_the_centre(name):
    cy, cx = centre_of_mass(preprocess_drawing(DRAWINGS[name]))
    # whole-pixel shifts reach within half a pixel (a symmetric stroke 3 px wide: exactly 0.5)
    assert abs(cy - 14) <= 0.5 + 1e-9 and abs(cx - 14) <= 0.5 + 1e-9


@pytest.mark.parametrize("name", DRAWINGS)
def test_bounding_box_fits_20_by_20(name):
    h, w = ink_box(preprocess_drawing(DRAWINGS[name]))
    assert max(h, w) == 20


def test_aspect_ratio_is_kept():
    raster = np.zeros((CANVAS, CANVAS))
    raster[40:240, 90:190] = 1.0  # 200 tall, 100 wide
    assert ink_box(preprocess_drawing(raster)) == (20, 10)


def test_scaling_averages_ink_by_area():
    raster = np.zeros((CANVAS, CANVAS))
    rows, cols = np.mgrid[40:240, 40:240]
    raster[40:240, 40:240] = (rows + cols) % 2 == 0  # a checkerboard: half of every 10 x 10
    image = preprocess_drawing(raster)
    np.testing.assert_allclose(image[image > 0], 0.5)


def test_values_stay_in_unit_range():
    image = preprocess_drawing(ZERO)
    assert image.min() >= 0 and image.max() <= 1 + 1e-12


def test_empty_drawing_gives_zeros_not_nan():
    for empty in ([], np.zeros((28, 28)), np.zeros((CANVAS, CANVAS))):
        image = preprocess_drawing(empty)
        assert image.shape == (28, 28) and np.all(image == 0)


def test_28_pixel_image_and_its_10x_enlargement_agree():
    image = cnnlib.load_mnist().test_images[0] / 255.0
    big = np.repeat(np.repeat(image, 10, 0), 10, 1)
    np.testing.assert_allclose(preprocess_drawing(big), preprocess_drawing(image), atol=1e-12)


def test_uint8_images_are_scaled_to_unit_range():
    image = cnnlib.load_mnist().test_images[0]
    np.testing.assert_allclose(preprocess_drawing(image), preprocess_drawing(image / 255.0))


def test_three_dimensional_drawing_is_rejected():
    with pytest.raises(ValueError, match=r"shape \(H, W\).*got an array of shape \(1, 28, 28\)"):
        preprocess_drawing(np.zeros((1, 28, 28)))


def test_ink_outside_unit_range_is_rejected():
    with pytest.raises(ValueError, match=r"ink must lie in \[0, 1\].*got values from 0 to 255"):
        preprocess_drawing(np.full((28, 28), 255.0) * (np.arange(28) > 0))


# --------------------------------------------------------------------------- the widget
def test_new_widget_is_empty(model):
    w = draw_digit(model, 0.13, 0.31)
    assert w.data["status"] == "empty" and w.data["prediction"] is None
    assert not np.isnan(w.data["x"]).any()


def test_strokes_update_data_with_cnnlib_forward_pass(model):
    w = draw_digit(model, 0.13, 0.31)
    w.strokes = SEVEN
    x = ((preprocess_drawing(SEVEN) - 0.13) / 0.31).astype(np.float32)[None, None]
    logits = model.forward(x)[0]
    np.testing.assert_array_equal(w.data["logits"], logits)
    assert w.data["prediction"] == int(np.argmax(logits))
    assert w.data["conv1"].shape == (8, 24, 24) and w.data["pooled"].shape == (8, 10, 10)
    np.testing.assert_allclose(w.data["probabilities"].sum(), 1.0)


def test_pixels_are_drawn_under_the_strokes(model):
    w = draw_digit(model, 0.13, 0.31)
    w.pixels = cnnlib.load_mnist().test_images[0]
    assert w.data["status"] == "ready"
    np.testing.assert_array_equal(w.raster()[::10, ::10], w.pixels)


def test_clearing_returns_to_the_empty_state(model):
    w = draw_digit(model, 0.13, 0.31)
    w.strokes = ONE
    w.strokes = []
    assert w.data["status"] == "empty" and w.data["probabilities"] is None


def test_pixels_of_another_size_are_rejected(model):
    w = draw_digit(model, 0.13, 0.31)
    with pytest.raises(ValueError, match=r"pixels must be .* \(28, 28\) or \(280, 280\); got "
                                         r"shape \(32, 32\)"):
        w.pixels = np.zeros((32, 32))


def test_pixels_round_trip_through_json(model):
    w = draw_digit(model, 0.13, 0.31)
    w.pixels = np.linspace(0, 1, 784).reshape(28, 28)
    state = json.loads(json.dumps(w.get_state(["pixels"])))
    back = DrawDigit.pixels.metadata["from_json"](state["pixels"], w)
    np.testing.assert_array_equal(back, w.pixels)


def test_weights_in_the_page_are_the_models(model):
    w = draw_digit(model, 0.13, 0.31)
    for name, value in model.state_dict().items():
        packed = w.weights[name]
        got = np.frombuffer(base64.b64decode(packed["b64"]), "<f4").reshape(packed["shape"])
        np.testing.assert_array_equal(got, value)


def test_widget_state_fits_the_page_budget(model):
    w = draw_digit(model, 0.13, 0.31)
    assert len(json.dumps(w.get_state())) < 2.5e6


def test_later_training_does_not_change_the_widget(model):
    w = draw_digit(model, 0.13, 0.31)
    w.strokes = ONE
    before = w.data["logits"].copy()
    other = cnnlib.seed_network(rng=0)
    other.load_state_dict(model.state_dict())
    w2 = draw_digit(other, 0.13, 0.31)
    for _, p, _ in other.named_parameters():
        p += 1.0
    w2.strokes = ONE
    np.testing.assert_array_equal(w2.data["logits"], before)


def test_other_models_are_rejected():
    small = cnnlib.Sequential(cnnlib.Flatten(), cnnlib.Linear(784, 10, rng=0))
    with pytest.raises(ValueError, match=r"needs a cnnlib.seed_network\(\).*expected parameters"):
        draw_digit(small, 0.13, 0.31)


def test_non_positive_std_is_rejected(model):
    with pytest.raises(ValueError, match=r"std > 0.*got mean=0.13, std=0"):
        draw_digit(model, 0.13, 0)


def test_pen_radius_out_of_range_is_rejected(model):
    with pytest.raises(ValueError, match=r"pen_radius must be in \(0, 70.0\]"):
        draw_digit(model, 0.13, 0.31, pen_radius=0)
