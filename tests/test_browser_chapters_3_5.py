"""Drive the chapter 3-5 widgets on the built book pages, offline, and check what they draw.

Every control of every widget on a page is moved with the keyboard or by choosing an option, as a
reader would; after each move the widget's drawing (the ``data-state`` JSON of its
``.cnnlib-widget`` root, which records what the canvas shows) must change, and the numbers in it
must equal what cnnlib computes here in the test. Each page's widget state must stay under
2.5 MB. The measurements (controls, controls driven, page weight, widget state, time to the
first widget) go to tests/artifacts/chapters_3_5_widgets.json.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import cnnlib

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

STATE_LIMIT = 2.5e6  # bytes of widget state per page
CONTROLS = "input, select, button, textarea"

# When the first .cnnlib-widget appears, in ms after navigation start.
FIRST_WIDGET_CLOCK = """
new MutationObserver((_, observer) => {
  if (document.querySelector('.cnnlib-widget')) {
    window.__firstWidgetMs = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


def state(page, name: str, nth: int = 0) -> dict:
    root = page.locator(f'.cnnlib-widget[data-widget="{name}"]').nth(nth)
    return json.loads(root.get_attribute("data-state"))


def widget(page, name: str, nth: int = 0):
    return page.locator(f'.cnnlib-widget[data-widget="{name}"]').nth(nth)


def press(page, control, key: str) -> None:
    """Focus a control and press a key: the keyboard path a reader without a mouse takes."""
    control.focus()
    page.keyboard.press(key)


def changed(page, name: str, before: dict, act) -> dict:
    """Do ``act`` and return the new state, asserting the drawing changed."""
    act()
    after = state(page, name)
    assert after != before, f"{name}: the drawing did not change"
    return after


def open_page(browser_page, book_url: str, path: str, names: list[str]) -> dict:
    page, log = browser_page
    page.add_init_script(FIRST_WIDGET_CLOCK)
    page.goto(book_url + path, wait_until="load")
    for name in names:
        widget(page, name).wait_for(state="attached", timeout=60_000)
        page.wait_for_function(
            f"""() => document.querySelector('.cnnlib-widget[data-widget="{name}"]')
                   ?.dataset.state !== undefined""", timeout=30_000)
    metrics = page.evaluate(
        """() => {
            const entries = [...performance.getEntriesByType('navigation'),
                             ...performance.getEntriesByType('resource')];
            const state = [...document.querySelectorAll(
                'script[type="application/vnd.jupyter.widget-state+json"]')]
                .reduce((n, s) => n + s.textContent.length, 0);
            return {page_bytes: entries.reduce((n, e) => n + (e.decodedBodySize || 0), 0),
                    widget_state_bytes: state,
                    first_widget_ms: window.__firstWidgetMs};
        }""")
    metrics["controls"] = page.locator(f".cnnlib-widget :is({CONTROLS})").count()
    assert not log.problems(), log.problems()
    return metrics


def record(artifacts_dir, chapter: str, metrics: dict, driven: int) -> None:
    path = artifacts_dir / "chapters_3_5_widgets.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[chapter] = {**metrics, "controls_driven": driven}
    path.write_text(json.dumps(data, indent=1))
    print(chapter, data[chapter])


def page_or_skip(built_html, path: str) -> None:
    if not (built_html / path).exists():
        pytest.skip(f"{path} was not built (TOC without it)")


# --------------------------------------------------------------------- chapter 3


def test_chapter_3_hidden_unit_explorer(built_html, book_url, offline_page, artifacts_dir):
    path = "book/03_fully_connected.html"
    page_or_skip(built_html, path)
    page, _ = offline_page
    metrics = open_page(offline_page, book_url, path, ["hidden_unit_explorer"])
    assert metrics["widget_state_bytes"] <= STATE_LIMIT
    root = widget(page, "hidden_unit_explorer")
    unit, view = root.locator("input[type=range]"), root.locator("select")
    fresh = cnnlib.seed_network(rng=0)[6].params["weight"].astype(np.float64)  # chapter 3's

    def check(s):
        rows = {r["name"]: r for r in s["rows"]}
        step = {k: r["scale"] / 127 for k, r in rows.items()}
        if "fresh" in rows:  # the untrained weights are cnnlib's He init, seed 0
            np.testing.assert_allclose(rows["fresh"]["values"], fresh[s["unit"]],
                                       atol=step["fresh"] / 2 + 1e-7)
        if len(rows) == 3:  # the change row is the trained row minus the fresh one
            diff = np.subtract(rows["trained"]["values"], rows["fresh"]["values"])
            tol = (step["trained"] + step["fresh"] + step["change"]) / 2 + 1e-7
            np.testing.assert_allclose(rows["change"]["values"], diff, atol=tol)

    s = state(page, "hidden_unit_explorer")
    check(s)
    s = changed(page, "hidden_unit_explorer", s, lambda: press(page, unit, "ArrowRight"))
    check(s)
    s = changed(page, "hidden_unit_explorer", s, lambda: press(page, unit, "End"))
    assert s["unit"] == 127
    check(s)
    driven = 1
    for value in ["fresh", "trained", "change", "all"]:
        if s["view"] != value:
            s = changed(page, "hidden_unit_explorer", s, lambda v=value: view.select_option(v))
            assert s["view"] == value
            check(s)
    driven += 1
    record(artifacts_dir, "03_fully_connected", metrics, driven)
    assert driven == metrics["controls"]


# --------------------------------------------------------------------- chapter 4


def test_chapter_4_softmax_explorer(built_html, book_url, offline_page, artifacts_dir):
    path = "book/04_softmax.html"
    page_or_skip(built_html, path)
    page, _ = offline_page
    metrics = open_page(offline_page, book_url, path, ["softmax_explorer"])
    assert metrics["widget_state_bytes"] <= STATE_LIMIT
    root = widget(page, "softmax_explorer")
    sliders = root.locator("input[type=range]")
    truth = root.locator("select")

    def check(s):
        z = np.array(s["logits"], dtype=np.float64) / s["temperature"]
        np.testing.assert_allclose(s["probs"], cnnlib.softmax(z), rtol=1e-12, atol=1e-15)
        logp = cnnlib.log_softmax(z)
        np.testing.assert_allclose(s["log_probs"], logp, rtol=1e-12, atol=1e-12)
        assert s["loss"] == pytest.approx(-logp[s["true_class"]], rel=1e-12, abs=1e-12)

    s = state(page, "softmax_explorer")
    check(s)
    driven = 0
    for k in range(10):  # the ten logits, then the temperature
        key = "ArrowLeft" if s["logits"][k] > 0 else "ArrowRight"
        s = changed(page, "softmax_explorer", s, lambda k=k, key=key: press(
            page, sliders.nth(k), key))
        check(s)
        driven += 1
    temperature = sliders.nth(10)
    s = changed(page, "softmax_explorer", s, lambda: press(page, temperature, "End"))
    assert s["temperature"] == pytest.approx(10.0)
    check(s)
    s = changed(page, "softmax_explorer", s, lambda: press(page, temperature, "Home"))
    assert s["temperature"] == pytest.approx(0.1)
    check(s)
    driven += 1
    new_class = str((s["true_class"] + 1) % 10)
    s = changed(page, "softmax_explorer", s, lambda: truth.select_option(new_class))
    assert s["true_class"] == int(new_class)
    check(s)
    driven += 1
    record(artifacts_dir, "04_softmax", metrics, driven)
    assert driven == metrics["controls"]


# --------------------------------------------------------------------- chapter 5


def test_chapter_5_filter_evolution_and_digit_inspector(built_html, book_url, offline_page,
                                                         artifacts_dir):
    path = "book/05_training.html"
    page_or_skip(built_html, path)
    page, _ = offline_page
    metrics = open_page(offline_page, book_url, path, ["filter_evolution", "digit_inspector"])
    assert metrics["widget_state_bytes"] <= STATE_LIMIT
    driven = 0

    # filter evolution: epoch 0 is chapter 5's seed_network(rng=0) before training
    root = widget(page, "filter_evolution")
    epoch, layer = root.locator("input[type=range]"), root.locator("select")
    radios = root.locator("input[type=radio]")
    start = {k: np.asarray(v, dtype=np.float32)
             for k, v in cnnlib.seed_network(rng=0).state_dict().items()}
    seen = {}  # (layer, epoch) -> weights drawn

    def check(s):
        shown = np.array(s["shown"], dtype=np.float32).reshape(s["shape"])
        w0 = start[s["layer"]]
        if s["show"] == "weights":
            seen[s["layer"], s["epoch"]] = shown
            if s["epoch"] == 0:
                np.testing.assert_array_equal(shown, w0)
            w = shown.astype(np.float64)
            assert s["change"] == pytest.approx(
                np.linalg.norm(w - w0) / np.linalg.norm(w0), rel=1e-5, abs=1e-12)
        else:
            if (s["layer"], s["epoch"]) in seen:
                np.testing.assert_array_equal(shown, seen[s["layer"], s["epoch"]] - w0)
            assert s["change"] == pytest.approx(
                np.linalg.norm(shown.astype(np.float64)) / np.linalg.norm(w0), rel=1e-5)

    fe = "filter_evolution"
    s = state(page, fe)
    check(s)
    if s["show"] != "weights":  # the chapter starts on the change: look at the weights too
        s = changed(page, fe, s, lambda: radios.nth(0).check())
        check(s)
    s = changed(page, fe, s, lambda: press(page, epoch, "Home"))
    assert s["epoch"] == 0 and s["change"] == 0
    check(s)
    for _ in range(int(epoch.get_attribute("max"))):
        s = changed(page, fe, s, lambda: press(page, epoch, "ArrowRight"))
        check(s)
    driven += 1
    other = "2.weight" if s["layer"] == "0.weight" else "0.weight"
    s = changed(page, fe, s, lambda: layer.select_option(other))
    assert s["layer"] == other
    check(s)
    driven += 1
    s = changed(page, fe, s, lambda: radios.nth(1).check())
    assert s["show"] == "change since start"
    check(s)
    s = changed(page, fe, s, lambda: radios.nth(0).check())
    check(s)
    driven += radios.count()

    # digit inspector: the menu holds test digits; labels and pixels are cnnlib's MNIST
    data = cnnlib.prepare_mnist(progress=False)
    pick = widget(page, "digit_inspector").locator("select")
    di = "digit_inspector"
    s = state(page, di)
    options = pick.locator("option").all_inner_texts()
    for i in range(len(options)):
        if i != s["index"]:
            s = changed(page, di, s, lambda i=i: pick.select_option(str(i)))
        test_index = int(s["name"].rsplit("#", 1)[1])
        assert s["label"] == int(data.y_test[test_index])
        image = np.asarray(data.x_test[test_index], dtype=np.float64).reshape(-1)
        step = (image.max() - image.min()) / 255
        np.testing.assert_allclose(s["image"], image, atol=step / 2 + 1e-5)
        probs = np.array(s["probs"])
        assert probs.sum() == pytest.approx(1.0, abs=1e-5)
        assert s["prediction"] == int(np.argmax(probs))
        shapes = [tuple(layer["shape"]) for layer in s["layers"]]
        assert shapes == [(8, 24, 24), (8, 24, 24), (8, 20, 20), (8, 20, 20), (8, 10, 10)]
    driven += 1
    record(artifacts_dir, "05_training", metrics, driven)
    assert driven == metrics["controls"]
