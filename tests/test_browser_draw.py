"""The draw-your-own-digit widget in Chromium against cnnlib in NumPy.

The widget's ES module (exactly the ``_esm`` the Python widget ships) is loaded in a local test
page with a small stand-in for anywidget's model (``get``/``set``/``on``/``off``/
``save_changes``), served from 127.0.0.1 with every other host blocked. The network is a
seed network trained in the test for one epoch on the 55,000 training images (Adam, lr 1e-3):
a trained network, unlike a random one, has confident and meaningful logits, so a drawn "1"
and "0" must come out as 1 and 0.
"""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from conftest import (
    BUILD_HTML,
    PageLog,
    free_port,
    offline_context,
    stop,
    wait_for_http,
    watch,
)

import cnnlib
from cnnlib.book.widgets.draw import CANVAS, draw_digit, preprocess_drawing

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

ROOT_SELECTOR = ".cnnlib-widget[data-widget=draw_digit]"
STATIC_PAGE = "book/05a_draw_a_digit.html"  # the book's page, when `make book` built it
N_DIGITS = 256  # MNIST test digits in the forward-pass parity check
REL_TOL = 1e-4  # max |logit_js - logit_numpy| / max |logit_numpy|, per digit

HARNESS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>draw_digit harness</title>
<link rel="icon" href="data:,"></head>
<body><main id="root"></main>
<script type="module">
class Model {
  constructor(state) { this.state = state; this.handlers = {}; this.saves = 0; }
  get(name) { return this.state[name]; }
  set(name, value) {
    this.state[name] = value;
    for (const fn of this.handlers[`change:${name}`] || []) fn();
  }
  on(event, fn) { (this.handlers[event] ||= []).push(fn); }
  off(event, fn) {
    this.handlers[event] = (this.handlers[event] || []).filter((f) => f !== fn);
  }
  save_changes() { this.saves += 1; }
}
import widget, { drawDigit } from "./widget.js";
const state = await (await fetch("./state.json")).json();
window.model = new Model(state);
window.drawDigit = drawDigit;
widget.render({ model: window.model, el: document.getElementById("root") });
window.harnessReady = true;
</script></body></html>
"""


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()


@pytest.fixture(scope="module")
def data():
    return cnnlib.prepare_mnist(progress=False)


@pytest.fixture(scope="module")
def model(data):
    net = cnnlib.seed_network(rng=0)
    cnnlib.fit(net, cnnlib.SoftmaxCrossEntropy(), cnnlib.Adam(net.parameters(), lr=1e-3),
               data.x_train, data.y_train, epochs=1, batch_size=32, seed=0, progress=False)
    return net.eval()


@pytest.fixture(scope="module")
def widget(model, data):
    return draw_digit(model, data.mean, data.std)


@pytest.fixture(scope="module")
def harness_url(widget, tmp_path_factory):
    root = tmp_path_factory.mktemp("draw_harness")
    (root / "index.html").write_text(HARNESS, encoding="utf-8")
    (root / "widget.js").write_text(widget._esm, encoding="utf-8")
    state = {k: v for k, v in widget.get_state().items() if not k.startswith("_")}
    (root / "state.json").write_text(json.dumps(state), encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/index.html"
    try:
        wait_for_http(url, timeout=30, proc=proc)
        yield url
    finally:
        stop(proc)


@pytest.fixture
def page(browser, harness_url):
    """The harness page with the widget rendered; fails on any console error or request out."""
    log = PageLog()
    context = offline_context(browser, log, has_touch=True)
    page = context.new_page()
    watch(page, log)
    page.goto(harness_url, wait_until="load")
    page.wait_for_function("() => window.harnessReady === true", timeout=30_000)
    yield page
    problems = log.problems()
    context.close()
    assert not problems, problems


def prediction(page) -> str:
    return page.locator(ROOT_SELECTOR).get_attribute("data-prediction")


def wait_status(page, status: str) -> None:
    page.wait_for_function(
        f"() => document.querySelector('{ROOT_SELECTOR}')?.dataset.status === '{status}'",
        timeout=10_000)


def wait_ready(page) -> None:
    wait_status(page, "ready")


def pad_box(page) -> dict:
    return page.locator("canvas.dd-pad").bounding_box()


def test_forward_pass_matches_cnnlib(page, model, data):
    x = data.x_test[:N_DIGITS]
    expected = model.forward(x).astype(np.float64)
    got = np.array(page.evaluate(
        """([packed, n]) => {
            const net = drawDigit.loadWeights(model.get("weights"));
            const all = drawDigit.unpack({ shape: [n, 784], dtype: "float32", b64: packed });
            const out = [];
            for (let i = 0; i < n; i++) {
                out.push(drawDigit.forward(net, all.data.subarray(784 * i, 784 * (i + 1))).logits);
            }
            return out;
        }""", [b64(x), N_DIGITS]))
    rel = np.abs(got - expected).max(axis=1) / np.abs(expected).max(axis=1)
    agree = int(np.sum(got.argmax(1) == expected.argmax(1)))
    print(f"\nforward parity on {N_DIGITS} MNIST test digits: same class {agree}/{N_DIGITS}, "
          f"max relative logit difference {rel.max():.2e}")
    assert agree == N_DIGITS
    assert rel.max() < REL_TOL


def test_forward_pass_is_float64_exact(page, model, data):
    """The page keeps activations in float64: it matches cnnlib run in float64 to rounding."""
    net64 = cnnlib.seed_network(rng=0, dtype=np.float64)
    net64.load_state_dict(model.state_dict())
    x = data.x_test[:32]
    expected = net64.eval().forward(x.astype(np.float64))
    got = np.array(page.evaluate(
        """([packed, n]) => {
            const net = drawDigit.loadWeights(model.get("weights"));
            const all = drawDigit.unpack({ shape: [n, 784], dtype: "float32", b64: packed });
            return Array.from({ length: n }, (_, i) =>
                drawDigit.forward(net, all.data.subarray(784 * i, 784 * (i + 1))).logits);
        }""", [b64(x), len(x)]))
    rel = np.abs(got - expected).max(axis=1) / np.abs(expected).max(axis=1)
    print(f"\nfloat64 forward parity on {len(x)} digits: max relative difference {rel.max():.1e}")
    assert rel.max() < 1e-12


SYNTHETIC = {
    "vertical stroke": [[(150, 45), (140, 235)]],
    "ellipse": [[(140 + 55 * math.sin(a), 140 - 85 * math.cos(a))
                 for a in np.linspace(0, 2 * math.pi, 49)]],
    "seven": [[(80, 55), (200, 55), (125, 235)]],
    "small corner L": [[(20, 20), (20, 60), (45, 60)]],
    "dot": [[(200.25, 90.5)]],
    "two strokes": [[(60, 200), (230, 180)], [(90.3, 40.7), (100.1, 260.9), (101, 261)]],
}


@pytest.mark.parametrize("name", SYNTHETIC)
def test_preprocessing_matches_numpy(page, name):
    strokes = SYNTHETIC[name]
    got = np.array(page.evaluate(
        """([strokes, size, radius]) => {
            const raster = drawDigit.rasterise(strokes, size, radius);
            return Array.from(drawDigit.preprocess(raster, size, size).image);
        }""", [strokes, CANVAS, 10.0])).reshape(28, 28)
    expected = preprocess_drawing(strokes)
    assert expected.any()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-3)


def test_preprocessing_of_images_matches_numpy(page, data):
    rng = np.random.default_rng(1)
    images = [cnnlib.load_mnist().test_images[i] / 255.0 for i in (0, 1, 2)]
    blob = np.zeros((CANVAS, CANVAS))
    blob[30:250, 100:160] = rng.uniform(0.2, 1.0, (220, 60))
    images.append(blob)
    for image in images:
        h, w = image.shape
        got = np.array(page.evaluate(
            """([packed, h, w]) => {
                const a = drawDigit.unpack({ shape: [h, w], dtype: "float32", b64: packed });
                return Array.from(drawDigit.preprocess(Float64Array.from(a.data), h, w).image);
            }""", [b64(image), h, w])).reshape(28, 28)
        expected = preprocess_drawing(image.astype(np.float32))
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-3)


def test_widget_on_pixels_matches_python_widget(page, widget, data):
    """Python sets a drawing: the page's whole pipeline agrees with the Python widget's data."""
    for i in range(5):
        image = cnnlib.load_mnist().test_images[i] / 255.0
        widget.strokes, widget.pixels = [], image
        page.evaluate("""(p) => new Promise((done) => {
            model.set("pixels", p);
            requestAnimationFrame(() => requestAnimationFrame(done));  // after the redraw
        })""", widget.get_state()["pixels"])
        assert prediction(page) == str(widget.data["prediction"])
        logits = np.array(json.loads(page.locator(ROOT_SELECTOR).get_attribute("data-logits")))
        expected = widget.data["logits"].astype(np.float64)
        assert np.abs(logits - expected).max() / np.abs(expected).max() < REL_TOL


def drag(page, points) -> None:
    box = pad_box(page)
    sx, sy = box["width"] / CANVAS, box["height"] / CANVAS
    (x0, y0), rest = points[0], points[1:]
    page.mouse.move(box["x"] + x0 * sx, box["y"] + y0 * sy)
    page.mouse.down()
    for x, y in rest:
        page.mouse.move(box["x"] + x * sx, box["y"] + y * sy, steps=4)
    page.mouse.up()


def test_mouse_drawn_one_is_read_as_one(page):
    drag(page, [(140, 40), (138, 140), (136, 240)])
    wait_ready(page)
    assert prediction(page) == "1"


def test_mouse_drawn_zero_is_read_as_zero(page):
    drag(page, [(140 + 60 * math.sin(a), 140 - 90 * math.cos(a))
                for a in np.linspace(0, 2 * math.pi, 40)])
    wait_ready(page)
    assert prediction(page) == "0"


def test_mouse_strokes_reach_the_model_and_agree_with_python(page, widget):
    drag(page, [(140 + 60 * math.sin(a), 140 - 90 * math.cos(a))
                for a in np.linspace(0, 2 * math.pi, 40)])
    wait_ready(page)
    strokes = page.evaluate("() => model.get('strokes')")
    assert len(strokes) == 1 and len(strokes[0]) > 40
    widget.pixels, widget.strokes = None, strokes
    assert prediction(page) == str(widget.data["prediction"])
    probs = json.loads(page.locator(ROOT_SELECTOR).get_attribute("data-probabilities"))
    np.testing.assert_allclose(probs, widget.data["probabilities"], atol=1e-5)


def test_touch_drawing_works(page):
    box = pad_box(page)
    cdp = page.context.new_cdp_session(page)
    x = box["x"] + box["width"] / 2

    def touch(kind, y):
        points = [] if kind == "touchEnd" else [{"x": x, "y": box["y"] + y, "id": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 40)
    for y in range(50, 250, 10):
        touch("touchMove", y)
    touch("touchEnd", 240)
    wait_ready(page)
    assert prediction(page) == "1"


def test_clear_button_empties_the_drawing(page):
    drag(page, [(140, 40), (140, 240)])
    wait_ready(page)
    page.get_by_role("button", name="Clear").click()
    wait_status(page, "empty")
    assert prediction(page) == ""
    assert page.evaluate("() => model.get('strokes')") == []
    assert "Draw a digit" in page.locator(".dd-status").inner_text()


def test_clear_works_from_the_keyboard(page):
    drag(page, [(140, 40), (140, 240)])
    wait_ready(page)
    page.get_by_role("button", name="Clear").focus()
    page.keyboard.press("Enter")
    wait_status(page, "empty")
    assert prediction(page) == ""


def test_delete_key_on_the_canvas_clears(page):
    drag(page, [(140, 40), (140, 240)])
    wait_ready(page)
    page.locator("canvas.dd-pad").press("Delete")
    wait_status(page, "empty")


def test_every_control_is_labelled(page):
    assert page.get_by_label("Example:").count() == 1
    assert page.locator("canvas.dd-pad").get_attribute("aria-label")
    page.get_by_label("Example:").select_option("7")
    wait_ready(page)
    assert prediction(page) == "7"


@pytest.mark.skipif(not (BUILD_HTML / STATIC_PAGE).exists(),
                    reason=f"{STATIC_PAGE} is not built: run `make book` first")
def test_static_book_page_reads_a_drawn_one(book_url, offline_page):
    """On the built page, without a kernel and offline, the widget draws and predicts."""
    page, log = offline_page
    page.goto(book_url + STATIC_PAGE, wait_until="load")
    page.locator(ROOT_SELECTOR).wait_for(timeout=60_000)
    wait_ready(page)  # the notebook left a 7 drawn
    page.get_by_role("button", name="Clear").click()
    wait_status(page, "empty")
    page.locator("canvas.dd-pad").scroll_into_view_if_needed()
    drag(page, [(140, 40), (138, 140), (136, 240)])
    wait_ready(page)
    assert prediction(page) == "1"
    assert not log.problems(), log.problems()


@pytest.mark.skipif(not (BUILD_HTML / STATIC_PAGE).exists(),
                    reason=f"{STATIC_PAGE} is not built: run `make book` first")
def test_static_book_page_fits_the_budget():
    size = (BUILD_HTML / STATIC_PAGE).stat().st_size
    assert size < 2.5e6, f"{STATIC_PAGE} is {size / 1e6:.2f} MB"


@pytest.mark.skipif(not (BUILD_HTML / STATIC_PAGE).exists(),
                    reason=f"{STATIC_PAGE} is not built: run `make book` first")
def test_readme_screenshot_of_a_drawn_zero(book_url, offline_page):
    """docs/screenshots/draw.png: a zero drawn with the mouse on the static page, read as 0."""
    from conftest import SCREENSHOTS
    from test_browser import save_small_png

    page, log = offline_page
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(book_url + STATIC_PAGE, wait_until="load")
    root = page.locator(ROOT_SELECTOR)
    root.wait_for(timeout=60_000)
    wait_ready(page)
    page.get_by_role("button", name="Clear").click()
    wait_status(page, "empty")
    page.locator("canvas.dd-pad").scroll_into_view_if_needed()
    drag(page, [(140 + 60 * math.sin(a), 140 - 90 * math.cos(a))
                for a in np.linspace(0, 2 * math.pi, 40)])
    wait_ready(page)
    assert prediction(page) == "0"
    save_small_png(root.screenshot(), SCREENSHOTS / "draw.png")
    size = (SCREENSHOTS / "draw.png").stat().st_size
    assert 0 < size < 400_000, f"draw.png is {size} bytes"
    assert not log.problems(), log.problems()
