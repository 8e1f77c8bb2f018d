"""Open every page of the built book in Chromium, offline, and check what a reader sees.

Each page is served from _build/html on 127.0.0.1 with every other host blocked, so a script or
font still fetched from a CDN shows up as a failure. Checks per page: no console errors, no
failed or outside requests, every <img> decoded, maths typeset by MathJax, widgets rendered.
Screenshots go to tests/artifacts/ (ignored by git); one chapter page and one widget also go to
docs/screenshots/ for the README.

The widgets (anywidget, drawn by the page) are driven like a reader drives them: every control of
every widget is moved (the table CASES), and what the page then draws (its data-state) must equal
what cnnlib computes in Python for that setting, from the same arrays the page received. Each
chapter page's widget state must stay small and its first widget must be drawn soon after load.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import ARTIFACTS, BUILD_HTML, ROOT, SCREENSHOTS

sys.path.insert(0, str(ROOT / "scripts"))
from notebook_times import toc_files  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MATHJAX_SCRIPT = "_static/mathjax/tex-mml-chtml.js"
# the README's chapter screenshot: this page when it exists, else the first page with widgets
README_CHAPTER = "book/01_convolution.html"
# the table of contents that was built (`make book TOC=...` passes it on as BOOK_TOC)
TOC = Path(os.environ.get("BOOK_TOC", ROOT / "_toc.yml"))


def book_pages() -> list[str]:
    """The page of every toc entry (so a stale page left in _build/html is not tested)."""
    if not (BUILD_HTML / "index.html").exists():
        return []
    return [f"{entry}.html" for entry in toc_files(TOC)]


PAGES = book_pages()


def has_widgets(page: str) -> bool:
    path = BUILD_HTML / page
    return path.exists() and WIDGET_VIEW in path.read_text(encoding="utf-8")


def readme_widget_page() -> str | None:
    if README_CHAPTER in PAGES and has_widgets(README_CHAPTER):
        return README_CHAPTER
    return next((p for p in PAGES if has_widgets(p)), None)


WIDGET_PAGES = [p for p in PAGES if has_widgets(p)]


def save_small_png(png: bytes, path: Path) -> None:
    """Write a screenshot as a 256-colour PNG: a fraction of the size, same look for a README."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def wait_for_mathjax(page) -> None:
    page.wait_for_function(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000
    )
    page.evaluate("() => MathJax.startup.promise")


def broken_images(page) -> list[str]:
    """Return the src of every <img> that did not decode (after waiting for all of them)."""
    return page.evaluate(
        """async () => {
            const imgs = Array.from(document.images);
            await Promise.all(imgs.map(img => img.decode().catch(() => null)));
            return imgs.filter(img => !(img.complete && img.naturalWidth > 0))
                       .map(img => (img.currentSrc || img.src || '(no src)').slice(0, 120));
        }"""
    )


@pytest.mark.skipif(not PAGES, reason="_build/html is missing: run `make book` first")
def test_book_has_pages():
    notebooks = [p for p in PAGES if p.startswith("book/0")]
    assert notebooks, f"no chapter pages among {PAGES}"


@pytest.mark.parametrize("page_path", PAGES or [pytest.param(None, marks=pytest.mark.skip(
    reason="_build/html is missing: run `make book` first"))])
def test_page_renders_offline(page_path, book_url, offline_page, artifacts_dir):
    page, log = offline_page
    assert (BUILD_HTML / page_path).exists(), f"{page_path} was not built"
    page.goto(book_url + page_path, wait_until="load")
    html = (BUILD_HTML / page_path).read_text(encoding="utf-8")

    # maths: every Sphinx math node ends up as a MathJax container
    math_nodes = page.locator(".math").count()
    if MATHJAX_SCRIPT in html:
        wait_for_mathjax(page)
    if math_nodes:
        assert MATHJAX_SCRIPT in html, "a page with maths does not load the local MathJax"
        typeset = page.locator("mjx-container").count()
        assert typeset >= math_nodes, f"{typeset} MathJax outputs for {math_nodes} math nodes"
        assert page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"

    # widgets: every saved widget view is replaced by a rendered widget
    views = html.count(WIDGET_VIEW)
    if views:
        page.wait_for_selector(".widget-subarea > *", state="visible", timeout=30_000)
        body = page.inner_text("body")
        assert "Loading widget" not in body
        assert "Error displaying widget" not in body
        rendered = page.evaluate(
            """() => Array.from(document.querySelectorAll('.widget-subarea'))
                       .filter(el => el.children.length > 0).length"""
        )
        assert rendered >= views, f"{rendered} widgets rendered for {views} saved views"

    broken = broken_images(page)
    assert not broken, f"images that did not load: {broken}"

    page.wait_for_timeout(300)  # let late font and script requests settle
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", page_path.removesuffix(".html"))
    page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
    assert not log.problems(), "\n".join(log.problems())


# ----------------------------------------------------------------------------- the widgets
# A widget's page code marks its root element class="cnnlib-widget" data-widget="<name>", each
# control data-control="<name>", and writes what it drew as JSON into data-state.

WIDGET = ".cnnlib-widget[data-state]"
STATE_BUDGET = 2_500_000  # bytes of widget state per chapter page
FIRST_DRAW_BOUND_MS = 3_000  # the aim is 1 s after the load event; shared CI machines are slow
RTOL = 1e-5  # float32 inputs, float64 arithmetic on both sides


def page_widget_models(page_path: str) -> list[tuple[str, dict]]:
    """(widget name, model state) of every cnnlib widget view on a built page, in page order.

    The name is the widget's js file, read from its ES module (base.esm writes
    ``// ---- <name>.js`` before the widget's own code).
    """
    html = (BUILD_HTML / page_path).read_text(encoding="utf-8")
    state = re.search(rf'<script type="{re.escape(WIDGET_STATE)}">(.*?)</script>', html, re.S)
    models = json.loads(state.group(1))["state"] if state else {}
    found = []
    for view in re.findall(rf'<script type="{re.escape(WIDGET_VIEW)}">(.*?)</script>', html, re.S):
        model = models.get(json.loads(view)["model_id"], {}).get("state", {})
        name = re.search(r"^// ---- (\w+)\.js$", model.get("_esm", ""), re.M)
        if name:
            found.append((name.group(1), model))
    return found


def widget_state_bytes(page_path: str) -> int:
    html = (BUILD_HTML / page_path).read_text(encoding="utf-8")
    return sum(len(m.encode("utf-8")) for m in re.findall(
        rf'<script type="{re.escape(WIDGET_STATE)}">(.*?)</script>', html, re.S))


# ---- what cnnlib computes for what the page drew: (model state, drawn state) -> {key: value}

def _conv_feature_map(model: dict, drawn: dict) -> dict:
    from cnnlib.book.widgets.base import feature_map, unpack

    image = unpack(model["images"])[drawn["index"]]
    fmap = feature_map(image, np.array(drawn["kernel"]), drawn["stride"], drawn["padding"])
    return {"feature_map": fmap, "output_shape": list(fmap.shape)}


def _window_sum(model: dict, drawn: dict) -> dict:
    from cnnlib.book.widgets.base import feature_map, unpack

    image, kernel = unpack(model["image"]), np.array(model["kernel"])
    k, s, p = kernel.shape[0], model["stride"], model["padding"]
    fmap = feature_map(image, kernel, s, p)
    top, left = drawn["row"] * s, drawn["col"] * s
    patch = np.pad(image, p)[top : top + k, left : left + k]
    return {"value": fmap[drawn["row"], drawn["col"]], "patch": patch,
            "product": patch * kernel, "output_shape": list(fmap.shape)}


def _pooled(model: dict, drawn: dict) -> dict:
    from cnnlib.book.widgets.base import PRESET_KERNELS, feature_map, unpack
    from cnnlib.book.widgets.pooling import _pool2d

    image = unpack(model["images"])[drawn["index"]]
    fmap = np.maximum(feature_map(image, PRESET_KERNELS[drawn["kernel"]]), 0.0)
    pooled = _pool2d(fmap, drawn["size"], drawn["stride"], drawn["mode"])
    return {"pooled": pooled, "output_shape": list(pooled.shape), "elements": pooled.size}


def _im2col_row(model: dict, drawn: dict) -> dict:
    from cnnlib import im2col
    from cnnlib.book.widgets.base import unpack

    image = unpack(model["image"]).astype(np.float64)
    cols = im2col(image[None, None], drawn["kernel_size"], stride=drawn["stride"])
    return {"im2col_row": cols[drawn["window"]], "matrix_shape": list(cols.shape)}


def _draw_digit(model: dict, drawn: dict) -> dict:
    import cnnlib
    from cnnlib.book.widgets.base import unpack
    from cnnlib.book.widgets.draw import preprocess_drawing

    net = cnnlib.seed_network(dtype=np.float64)  # the page computes in float64 too
    net.load_state_dict({k: unpack(v) for k, v in model["weights"].items()})
    image = preprocess_drawing(drawn["strokes"], pen_radius=model["pen_radius"])
    x = ((image - model["mean"]) / model["std"]).astype(np.float32)[None, None]
    logits = net.eval().forward(x.astype(np.float64))
    probs = cnnlib.softmax(logits, axis=1)[0]
    return {"logits": logits[0], "probabilities": probs, "prediction": int(probs.argmax())}


@dataclass(frozen=True)
class Case:
    """Move one control of one widget on one page, then compare the drawing with cnnlib.

    ``setting`` goes into the control (a slider or number box is filled, a <select> picks the
    option, a checkbox is set); the drawn state must then hold it under ``key`` (default: the
    control's name; a kernel cell "kIJ" is ``kernel[I][J]``) and equal ``expected``.
    """

    page: str
    widget: str
    control: str
    setting: object
    expected: Callable[[dict, dict], dict]
    nth: int = 0  # the nth widget of that name on the page
    redraws: bool = True  # False for a control that only enables another (the drawing stays)

    def setting_drawn(self, drawn: dict):
        cell = re.fullmatch(r"k(\d)(\d)", self.control)
        if cell:
            return drawn["kernel"][int(cell.group(1))][int(cell.group(2))]
        return drawn[self.control]


CH1, CH2, CH6 = "book/01_convolution.html", "book/02_pooling.html", "book/06_making_it_fast.html"
CH5A = "book/05a_draw_a_digit.html"
# In order: the cases of one page run one after the other on one page load.
CASES = [
    Case(CH1, "kernel_explorer", "index", 7, _conv_feature_map),
    Case(CH1, "kernel_explorer", "preset", "Sobel y", _conv_feature_map),
    Case(CH1, "kernel_explorer", "stride", 2, _conv_feature_map),
    Case(CH1, "kernel_explorer", "padding", 1, _conv_feature_map),
    Case(CH1, "kernel_explorer", "preset", "blur", _conv_feature_map),
    *[Case(CH1, "kernel_explorer", f"k{i}{j}", v, _conv_feature_map)
      for (i, j), v in zip([(i, j) for i in range(3) for j in range(3)],
                           [-1, 2, 0.5, -2, 3, 1.5, 0, -0.5, 1], strict=True)],
    Case(CH1, "kernel_explorer", "stride", 3, _conv_feature_map),
    Case(CH1, "window_explainer", "row", 3, _window_sum),
    Case(CH1, "window_explainer", "col", 20, _window_sum),
    Case(CH2, "pooling_explorer", "index", 11, _pooled),
    Case(CH2, "pooling_explorer", "kernel", "Sobel x", _pooled),
    Case(CH2, "pooling_explorer", "size", 3, _pooled),
    Case(CH2, "pooling_explorer", "mode", "average", _pooled),
    Case(CH2, "pooling_explorer", "tied", False, _pooled, redraws=False),  # frees the stride
    Case(CH2, "pooling_explorer", "stride", 1, _pooled),
    Case(CH2, "pooling_explorer", "size", 4, _pooled),
    Case(CH2, "pooling_explorer", "tied", True, _pooled),
    Case(CH5A, "draw_digit", "example", "0", _draw_digit),
    Case(CH5A, "draw_digit", "example", "1", _draw_digit),
    Case(CH6, "im2col_explorer", "window", 3, _im2col_row),
    Case(CH6, "im2col_explorer", "kernel_size", 2, _im2col_row),
    Case(CH6, "im2col_explorer", "window", 7, _im2col_row),
    Case(CH6, "im2col_explorer", "stride", 2, _im2col_row),
    Case(CH6, "im2col_explorer", "kernel_size", 1, _im2col_row),
]
CASE_PAGES = sorted({c.page for c in CASES} & set(WIDGET_PAGES))
# Chapters 3-5: every control of their widgets is driven, and compared with cnnlib, by
# tests/test_browser_chapters_3_5.py (widgets whose states were precomputed by the notebook).
DRIVEN_ELSEWHERE = {"book/03_fully_connected.html", "book/04_softmax.html",
                    "book/05_training.html"}

# JavaScript: a hash of every canvas of a widget (changes when the drawing does)
CANVAS_DIGEST_JS = """(root) => {
    let h = 2166136261;
    for (const canvas of root.querySelectorAll('canvas')) {
        for (const ch of canvas.toDataURL()) {
            h ^= ch.charCodeAt(0);
            h = Math.imul(h, 16777619) >>> 0;
        }
    }
    return h;
}"""


def widget_root(page, name: str, nth: int = 0):
    return page.locator(f'.cnnlib-widget[data-widget="{name}"]').nth(nth)


def drawn_state(root) -> dict:
    return json.loads(root.get_attribute("data-state"))


def set_control(control, setting) -> None:
    """Change a control as a reader would (fill, pick, tick with the space bar): the input and
    change events fire."""
    tag = control.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
    if tag.startswith("select"):
        control.select_option(str(setting))
    elif tag == "input:checkbox":
        if control.is_checked() != bool(setting):
            control.focus()
            control.press("Space")
    else:
        control.fill(str(setting))


def compare(expected: dict, drawn: dict) -> list[str]:
    problems = []
    for key, want in expected.items():
        got = drawn.get(key)
        if got is None:
            problems.append(f"{key}: not in the drawn state")
        elif np.shape(got) != np.shape(want):
            problems.append(f"{key}: drawn shape {np.shape(got)}, cnnlib {np.shape(want)}")
        elif not np.allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                             rtol=RTOL, atol=1e-9):
            err = np.max(np.abs(np.asarray(got, dtype=float) - np.asarray(want, dtype=float)))
            problems.append(f"{key}: drawn values differ from cnnlib's (max |diff| {err:.3g})")
    return problems


def report_line(**fields) -> None:
    """Print a measurement and add it to tests/artifacts/widgets.json (for the report)."""
    print(" ".join(f"{k}={v}" for k, v in fields.items()))
    path = ARTIFACTS / "widgets.json"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    rows = json.loads(path.read_text()) if path.exists() else {}
    rows.setdefault(fields["page"], {}).update(fields)
    path.write_text(json.dumps(rows, indent=2) + "\n")


@pytest.mark.parametrize("page_path", CASE_PAGES or [pytest.param(None, marks=pytest.mark.skip(
    reason="no built page with cnnlib widgets"))])
def test_every_widget_control_draws_what_cnnlib_computes(page_path, book_url, offline_page,
                                                         artifacts_dir):
    page, log = offline_page
    page.goto(book_url + page_path, wait_until="load")
    models = page_widget_models(page_path)
    page.wait_for_selector(WIDGET, timeout=30_000)
    page.wait_for_function(f"n => document.querySelectorAll('{WIDGET}').length >= n",
                           arg=len(models), timeout=30_000)
    problems, driven = [], set()
    for case in [c for c in CASES if c.page == page_path]:
        name = f"{case.widget}[{case.nth}].{case.control}={case.setting!r}"
        model = [m for w, m in models if w == case.widget][case.nth]
        root = widget_root(page, case.widget, case.nth)
        control = root.locator(f'[data-control="{case.control}"]')
        before_state, before_digest = root.get_attribute("data-state"), \
            page.evaluate(CANVAS_DIGEST_JS, root.element_handle())
        control.scroll_into_view_if_needed()
        set_control(control, case.setting)
        page.wait_for_function("([el, s]) => el.dataset.state !== s",
                               arg=[root.element_handle(), before_state], timeout=10_000)
        drawn = drawn_state(root)
        driven.add((case.widget, case.nth, case.control))
        if case.setting_drawn(drawn) != case.setting:
            problems.append(f"{name}: the page drew setting {case.setting_drawn(drawn)!r}")
        if case.redraws and page.evaluate(CANVAS_DIGEST_JS,
                                          root.element_handle()) == before_digest:
            problems.append(f"{name}: the drawing did not change")
        problems += [f"{name}: {p}" for p in compare(case.expected(model, drawn), drawn)]

    # every control of every cnnlib widget on the page was driven
    controls = page.evaluate("""() => Array.from(document.querySelectorAll('.cnnlib-widget'))
        .map(root => [root.dataset.widget, Array.from(root.querySelectorAll('[data-control]'))
                       .map(c => c.dataset.control)])""")
    seen: dict[str, int] = {}
    all_controls = set()
    for widget, names in controls:
        nth = seen.get(widget, 0)
        seen[widget] = nth + 1
        all_controls |= {(widget, nth, c) for c in names}
    missing = sorted(all_controls - driven)
    report_line(page=page_path, widgets=len(controls), controls=len(all_controls),
                driven=len(all_controls & driven))
    page.screenshot(path=str(artifacts_dir / f"{Path(page_path).stem}-widgets-moved.png"),
                    full_page=True)
    assert not missing, f"controls no case moves (add rows to CASES): {missing}"
    assert not problems, "\n".join(problems)
    assert not log.problems(), "\n".join(log.problems())


def test_every_widget_page_is_in_the_case_table():
    """A built page with cnnlib widgets but no row in CASES means untested controls."""
    untested = [p for p in WIDGET_PAGES if page_widget_models(p)
                and p not in CASE_PAGES and p not in DRIVEN_ELSEWHERE]
    assert not untested, f"pages with cnnlib widgets and no CASES: {untested}"


FIRST_DRAW_JS = """() => {
    window.__cnnlibFirstDrawn = undefined;
    new MutationObserver((records, observer) => {
        if (document.querySelector('.cnnlib-widget[data-state]')) {
            window.__cnnlibFirstDrawn = performance.now();
            observer.disconnect();
        }
    }).observe(document, {subtree: true, childList: true, attributes: true,
                          attributeFilter: ['data-state']});
}"""


@pytest.mark.parametrize("page_path", [p for p in WIDGET_PAGES if p.startswith("book/0")] or [
    pytest.param(None, marks=pytest.mark.skip(reason="no built chapter page with widgets"))])
def test_widget_state_is_small_and_first_widget_draws_soon(page_path, book_url, offline_page):
    page, log = offline_page
    state_bytes = widget_state_bytes(page_path)
    page.add_init_script(f"({FIRST_DRAW_JS})()")
    page.goto(book_url + page_path, wait_until="load")
    page.wait_for_function("() => window.__cnnlibFirstDrawn !== undefined", timeout=30_000)
    timing = page.evaluate("""() => ({
        load: performance.getEntriesByType('navigation')[0].loadEventStart,
        first: window.__cnnlibFirstDrawn})""")
    after_load = timing["first"] - timing["load"]
    report_line(page=page_path, state_mb=round(state_bytes / 1e6, 3),
                load_ms=round(timing["load"]), first_widget_ms=round(timing["first"]),
                first_widget_after_load_ms=round(after_load))
    assert state_bytes <= STATE_BUDGET, f"{page_path}: widget state {state_bytes / 1e6:.2f} MB"
    assert after_load <= FIRST_DRAW_BOUND_MS, f"first widget {after_load:.0f} ms after load"
    assert not log.problems(), "\n".join(log.problems())


@pytest.mark.skipif(CH1 not in WIDGET_PAGES, reason="chapter 1 was not built")
def test_kernel_explorer_slider_moves_with_the_keyboard(book_url, offline_page):
    page, log = offline_page
    page.goto(book_url + CH1, wait_until="load")
    page.wait_for_selector('.cnnlib-widget[data-widget="kernel_explorer"][data-state]')
    root = widget_root(page, "kernel_explorer")
    before = drawn_state(root)["index"]
    slider = root.locator('[data-control="index"]')
    slider.focus()
    slider.press("ArrowRight")
    page.wait_for_function("([el, i]) => JSON.parse(el.dataset.state).index !== i",
                           arg=[root.element_handle(), before])
    assert drawn_state(root)["index"] == before + 1
    label = page.evaluate("el => document.querySelector(`label[for='${el.id}']`)?.textContent",
                          slider.element_handle())
    assert label == "digit"
    assert not log.problems(), "\n".join(log.problems())


@pytest.mark.skipif(readme_widget_page() is None, reason="no built page with widgets")
def test_readme_screenshots(book_url, offline_page):
    """docs/screenshots/chapter.png (top of a chapter) and widget.png (a widget mid-use)."""
    page, log = offline_page
    page_path = readme_widget_page()
    page.set_viewport_size({"width": 1200, "height": 760})
    page.goto(book_url + page_path, wait_until="load")
    wait_for_mathjax(page)
    save_small_png(page.screenshot(), SCREENSHOTS / "chapter.png")

    page.wait_for_selector(WIDGET, timeout=30_000)
    explorer = page.locator('.cnnlib-widget[data-widget="kernel_explorer"]')
    root = explorer.first if explorer.count() else page.locator(WIDGET).first
    root.scroll_into_view_if_needed()
    if explorer.count():  # mid-interaction: another digit, Sobel y, stride 2
        for control, setting in (("index", 4), ("preset", "Sobel y"), ("stride", 2)):
            before = root.get_attribute("data-state")
            set_control(root.locator(f'[data-control="{control}"]'), setting)
            page.wait_for_function("([el, s]) => el.dataset.state !== s",
                                   arg=[root.element_handle(), before])
        root.locator('[data-control="stride"]').focus()
    save_small_png(root.screenshot(), SCREENSHOTS / "widget.png")
    for name in ("chapter.png", "widget.png"):
        size = (SCREENSHOTS / name).stat().st_size
        assert 0 < size < 400_000, f"{name} is {size} bytes"
    assert not log.problems(), "\n".join(log.problems())
