"""The reader's path: open the convolution chapter in JupyterLab, run it, play with the widget.

JupyterLab runs on 127.0.0.1 with a token, on a temporary copy of the notebook (outputs never
reach the committed file). Chromium opens the notebook, runs every cell from the Run menu, moves
the first slider of the first cnnlib widget (an anywidget; the kernel explorer in chapter 1) with
the mouse and checks that the picture of the widget changes; in chapter 1 it then sets a trait
from Python and checks that the page follows.
LIVE_NOTEBOOK=book/other.ipynb tests another notebook.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, PageLog, free_port, offline_context, stop, wait_for_http

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

NOTEBOOK = ROOT / os.environ.get("LIVE_NOTEBOOK", "book/01_convolution.ipynb")
# the first cnnlib widget (anywidget) with a slider: the kernel explorer in chapter 1
WIDGET_SELECTOR = ".jp-OutputArea .cnnlib-widget:has(input[type=range])"
RUN_TIMEOUT_MS = 600_000  # running every cell of the chapter
CHANGE_TIMEOUT_MS = 60_000  # one widget update
# JupyterLab settings for a quiet first start: no news prompt, no update check.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

# A hash of what the widget's canvases show: changes when the picture does.
CANVAS_DIGEST_JS = """(root) => {
    const canvases = Array.from(root.querySelectorAll('canvas'));
    if (!canvases.length) return null;
    let h = 2166136261;
    for (const canvas of canvases) {
        for (const ch of canvas.toDataURL()) {
            h ^= ch.charCodeAt(0);
            h = Math.imul(h, 16777619) >>> 0;
        }
    }
    return `${canvases.length}:${h}`;
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a temporary folder that holds a copy of the notebook."""
    if not NOTEBOOK.exists():
        pytest.skip(f"{NOTEBOOK.relative_to(ROOT)} does not exist yet")
    base = tmp_path_factory.mktemp("lab")
    root = base / "work"
    root.mkdir()
    shutil.copy2(NOTEBOOK, root / NOTEBOOK.name)
    settings = base / "settings"
    for name, value in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        IPYTHONDIR=str(base / "ipython"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    log = open(base / "lab.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={base / 'workspaces'}",
            "--LabApp.news_url=None",
            "--LabApp.extension_manager=readonly",
            "--ServerApp.terminals_enabled=False",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/api/status?token={token}", timeout=90, proc=proc)
        yield {"url": url, "token": token, "root": root, "log": base / "lab.log"}
    finally:
        stop(proc)
        log.close()


def wait_for_kernel(page, lab, timeout: float = 120) -> None:
    """Wait until the notebook's kernel is idle with the browser connected to it.

    Waits with page.wait_for_timeout, not time.sleep: the route handler that blocks outside
    requests runs in this thread, so the page's requests stall while Python sleeps.
    """
    url = f"{lab['url']}/api/kernels?token={lab['token']}"
    deadline = time.monotonic() + timeout
    kernels: list = []
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                kernels = json.load(response)
        except urllib.error.HTTPError as error:
            # Jupyter Server answers 500 while a kernel is half-started (its
            # last_activity is still None); that is a moment, not a failure.
            if error.code != 500:
                raise
            page.wait_for_timeout(500)
            continue
        if any(k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels):
            return
        page.wait_for_timeout(500)
    raise TimeoutError(f"no idle, connected kernel after {timeout} s: {kernels}")


def digest(page, root) -> str | None:
    return page.evaluate(CANVAS_DIGEST_JS, root.element_handle())


def wait_for_new_digest(page, root, before: str, timeout_ms: int) -> str | None:
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        now = digest(page, root)
        if now is not None and now != before:
            return now
        page.wait_for_timeout(250)
    return None


def move_slider(slider, fraction: float = 0.7) -> None:
    """Move a native range input the way a reader does: click on its track, at ``fraction``.

    (Focusing it from a script does not work in JupyterLab: the notebook moves the focus to
    its active cell; a click selects the widget's cell first.)
    """
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    slider.click(position={"x": box["width"] * fraction, "y": box["height"] / 2})


def check_python_side(page, box) -> None:
    """The kernel saw the slider move, and a trait set in Python redraws the page.

    Adds a cell at the end of the (temporary) notebook that sets ``explorer.stride = 2`` and
    prints the digit index the kernel holds.
    """
    index = json.loads(box.get_attribute("data-state"))["index"]
    page.locator(".jp-NotebookPanel .jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new code cell below (command mode) ...
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")  # ... to edit
    page.wait_for_timeout(300)
    page.keyboard.type('explorer.stride = 2; print("kernel index", explorer.data["index"])')
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("el => JSON.parse(el.dataset.state).stride === 2",
                           arg=box.element_handle(), timeout=CHANGE_TIMEOUT_MS)
    page.locator(".jp-OutputArea-output", has_text=f"kernel index {index}").first.wait_for(
        timeout=CHANGE_TIMEOUT_MS)


def test_kernel_explorer_updates_its_picture(browser, lab, artifacts_dir):
    committed = NOTEBOOK.read_bytes()
    log = PageLog()
    context = offline_context(browser, log)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{lab['url']}/lab/tree/{NOTEBOOK.name}?token={lab['token']}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
        wait_for_kernel(page, lab)

        # Run > Run All Cells
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

        # wait until no cell is queued or running ("[*]") and the kernel is idle again
        page.wait_for_function(
            """() => {
                const prompts = Array.from(document.querySelectorAll(
                    '.jp-NotebookPanel .jp-Cell.jp-CodeCell .jp-InputPrompt'));
                const busy = prompts.some(p => p.textContent.includes('*'));
                const ran = prompts.some(p => /\\[\\d+\\]/.test(p.textContent));
                return ran && !busy;
            }""",
            timeout=RUN_TIMEOUT_MS,
            polling=1000,
        )
        errors = page.locator(".jp-OutputArea-output", has_text="Traceback")
        assert errors.count() == 0, errors.first.inner_text()[:2000]

        # the first cnnlib widget with a slider (the kernel explorer in chapter 1)
        box = page.locator(WIDGET_SELECTOR).first
        box.wait_for(state="visible", timeout=60_000)
        slider = box.locator("input[type=range]").first
        page.wait_for_function("el => el.dataset.state !== undefined", arg=box.element_handle())
        before = digest(page, box)
        assert before is not None, "the widget drew no picture"
        box.screenshot(path=str(artifacts_dir / "live_widget_before.png"))

        move_slider(slider)
        after = wait_for_new_digest(page, box, before, CHANGE_TIMEOUT_MS)
        box.screenshot(path=str(artifacts_dir / "live_widget_after.png"))
        assert after is not None, "moving the slider did not change the widget's picture"
        assert after != before
        if NOTEBOOK.name == "01_convolution.ipynb":
            check_python_side(page, box)
    except Exception:
        page.screenshot(path=str(artifacts_dir / "live_notebook_failure.png"), full_page=True)
        print(Path(lab["log"]).read_text()[-5000:])
        raise
    finally:
        context.close()
    assert NOTEBOOK.read_bytes() == committed, "the run wrote into the committed notebook"
