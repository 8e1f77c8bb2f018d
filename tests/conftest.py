"""Fixtures for the book tests: the built HTML, a local web server, and Debian's Chromium.

The browser tests never download a browser: they drive /usr/bin/chromium (override with the
CHROMIUM environment variable), installed by scripts/install_chromium.sh when missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_HTML = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def fake_digits(n: int = 5, seed: int = 0):
    """Small stand-ins for MNIST test digits: uint8 strokes on a 28x28 canvas, (n, 28, 28)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    for i in range(n):
        r, c = rng.integers(4, 20, size=2)
        images[i, r : r + 6, c : c + 2] = 255
        images[i, r + 2, c - 3 : c + 5] = 200
    return images


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def built_html() -> Path:
    """_build/html, or skip: these tests check the output of `make book`."""
    if not (BUILD_HTML / "index.html").exists():
        pytest.skip(f"{BUILD_HTML.relative_to(ROOT)} is missing: run `make book` first")
    return BUILD_HTML


@pytest.fixture(scope="session")
def book_url(built_html: Path):
    """Base URL of the built book, served by `python -m http.server` on 127.0.0.1."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(built_html)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, timeout=30, proc=proc)
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's Chromium; installed with apt when missing and root, else the test skips."""
    if not CHROMIUM.exists() and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["bash", str(ROOT / "scripts" / "install_chromium.sh")], check=False)
    if not CHROMIUM.exists():
        if os.geteuid() == 0:  # CI runs as root: a browser that failed to install is an error
            pytest.fail(f"{CHROMIUM} is missing and scripts/install_chromium.sh did not install it")
        pytest.skip(
            f"{CHROMIUM} not found and not root to install it: run "
            "`sudo apt-get install -y chromium` (or set CHROMIUM=/path/to/chromium)"
        )
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser(chromium_executable: str):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class PageLog:
    """What went wrong while a page loaded: console errors, failed and blocked requests."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.failed_requests: list[str] = []
        self.blocked_requests: list[str] = []

    def problems(self) -> list[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"failed request: {m}" for m in self.failed_requests]
            + [f"request outside 127.0.0.1 (blocked): {m}" for m in self.blocked_requests]
        )


def offline_context(browser, log: PageLog, **kwargs):
    """A browser context in which every request to a host other than 127.0.0.1 is aborted."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **kwargs)

    def route(route):
        url = route.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in LOCAL_HOSTS:
            log.blocked_requests.append(url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    context.route("**/*", route)
    return context


def watch(page, log: PageLog) -> None:
    """Record console errors, uncaught exceptions and failed requests of a page in log."""

    def on_console(message):
        if message.type == "error":
            log.console_errors.append(f"{message.text} @ {message.location.get('url', '')}")

    def on_response(response):
        if response.status >= 400:
            log.failed_requests.append(f"{response.status} {response.url}")

    def on_failed(request):
        if request.url not in log.blocked_requests:
            log.failed_requests.append(f"{request.failure} {request.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: log.console_errors.append(f"uncaught: {error}"))
    page.on("response", on_response)
    page.on("requestfailed", on_failed)


@pytest.fixture
def offline_page(browser):
    """A fresh page with the network blocked; yields (page, log)."""
    log = PageLog()
    context = offline_context(browser, log)
    page = context.new_page()
    watch(page, log)
    try:
        yield page, log
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
