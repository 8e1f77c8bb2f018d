"""Open every page of the built book in Chromium, offline, and check what a reader sees.

Each page is served from _build/html on 127.0.0.1 with every other host blocked, so a script or
font still fetched from a CDN shows up as a failure. Checks per page: no console errors, no
failed or outside requests, every <img> decoded, maths typeset by MathJax, widgets rendered.
Screenshots go to tests/artifacts/ (ignored by git); one chapter page and one widget also go to
docs/screenshots/ for the README.
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

import pytest
from conftest import BUILD_HTML, ROOT, SCREENSHOTS

sys.path.insert(0, str(ROOT / "scripts"))
from notebook_times import toc_files  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
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
        page.wait_for_selector(".jupyter-widgets", state="visible", timeout=30_000)
        page.wait_for_function(
            f"""() => document.querySelectorAll('script[type="{WIDGET_VIEW}"]').length === 0
                  || document.querySelectorAll('.jupyter-widgets').length > 0""",
            timeout=30_000,
        )
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


@pytest.mark.skipif(readme_widget_page() is None, reason="no built page with widgets")
def test_readme_screenshots(book_url, offline_page):
    """docs/screenshots/chapter.png (top of a chapter) and widget.png (its first widget)."""
    page, log = offline_page
    page_path = readme_widget_page()
    page.set_viewport_size({"width": 1200, "height": 760})
    page.goto(book_url + page_path, wait_until="load")
    wait_for_mathjax(page)
    save_small_png(page.screenshot(), SCREENSHOTS / "chapter.png")

    page.locator(".widget-subarea > .jupyter-widgets").first.wait_for(state="visible")
    # the kernel explorer (a box with a drop-down, a slider and an image), else the first widget
    explorer = page.locator(".widget-subarea > .jupyter-widgets"
                            ":has(.widget-dropdown):has(.widget-slider):has(img)")
    widgets = explorer if explorer.count() else page.locator(".widget-subarea > .jupyter-widgets")
    widget = widgets.first
    widget.wait_for(state="visible", timeout=30_000)
    widget.scroll_into_view_if_needed()
    page.wait_for_function(
        "el => Array.from(el.querySelectorAll('img')).every(i => i.complete)",
        arg=widget.element_handle(),
    )
    save_small_png(widget.screenshot(), SCREENSHOTS / "widget.png")
    for name in ("chapter.png", "widget.png"):
        size = (SCREENSHOTS / name).stat().st_size
        assert 0 < size < 400_000, f"{name} is {size} bytes"
    assert not log.problems(), "\n".join(log.problems())
