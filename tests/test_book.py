"""Static checks on the chapter notebooks and, after `make book`, on what the build produced.

The source checks need no build. The build checks read the executed notebooks from the
jupyter-cache of `make book` (nothing is executed here) and the HTML in _build/html; they skip
when the book has not been built.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import colab_cell  # noqa: E402
from notebook_times import cache_record, executed_notebook, toc_files  # noqa: E402

BUILD_HTML = ROOT / "_build" / "html"
JUPYTER_EXECUTE = ROOT / "_build" / "jupyter_execute"
# the table of contents that was built (`make book TOC=...` passes it on as BOOK_TOC)
TOC = Path(os.environ.get("BOOK_TOC", ROOT / "_toc.yml"))
CHAPTERS = [
    "book/01_convolution",
    "book/02_pooling",
    "book/03_fully_connected",
    "book/04_softmax",
    "book/05_training",
    "book/06_making_it_fast",
    "book/07_fighting_overfitting",
]
# Seconds one notebook may take in `make book` (chapter 5, with its 3-seed reproduction, takes
# about 8 minutes on the 2-core CI machine); the whole `make test` must fit in ~30 min.
NOTEBOOK_TIME_LIMIT = float(os.environ.get("NOTEBOOK_TIME_LIMIT", "600"))
CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com")
GLUE_ROLE = re.compile(r"\{glue(?::(?:any|text|md|figure|math))?\}`([^`]+)`")
GLUE_DIRECTIVE = re.compile(r"^(?:```|:::)\{glue(?::(?:any|figure|math|md))?\}\s+(\S+)", re.M)

built = pytest.mark.skipif(
    not (BUILD_HTML / "index.html").exists(),
    reason="_build/html is missing: run `make book` first (these checks read its output)",
)


def notebooks_in_toc() -> list[Path]:
    return [ROOT / f"{f}.ipynb" for f in toc_files(TOC) if (ROOT / f"{f}.ipynb").exists()]


NOTEBOOKS = notebooks_in_toc()
NB_IDS = [p.stem for p in NOTEBOOKS]
needs_notebooks = pytest.mark.skipif(not NOTEBOOKS, reason="no chapter notebook exists yet")


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def executed(path: Path) -> nbformat.NotebookNode:
    nb = executed_notebook(path)
    if nb is None:
        pytest.fail(
            f"{path.name}: no executed copy of its current code in _build/.jupyter_cache "
            "(its execution failed, or it changed since `make book`)"
        )
    return nb


def html_page(path: Path) -> str:
    page = BUILD_HTML / path.relative_to(ROOT).with_suffix(".html")
    if not page.exists():
        pytest.fail(f"{page.relative_to(ROOT)} is missing: `make book` did not build this chapter")
    return page.read_text("utf-8")


# --- sources: no build needed ------------------------------------------------------------


def test_toc_lists_the_chapters_in_order():
    files = toc_files(ROOT / "_toc.yml")
    assert files[0] == "book/intro"
    assert [f for f in files if re.match(r"book/0\d_", f)] == CHAPTERS
    assert "book/references" in files


@pytest.mark.parametrize("entry", toc_files(TOC))
def test_toc_entry_exists(entry):
    candidates = [ROOT / f"{entry}{suffix}" for suffix in (".ipynb", ".md")]
    assert any(p.exists() for p in candidates), f"{entry}: neither .ipynb nor .md exists"


@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_notebook_has_no_committed_outputs(path):
    dirty = [
        i for i, cell in enumerate(read(path).cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs or execution counts; clear them "
        "(`jupyter nbconvert --clear-output --inplace`): the book executes notebooks itself"
    )


EXERCISE = re.compile(r"^\*\*(\d+)\.", re.M)  # an exercise opens with "**1. Title.**"
CHECKER_CALL = re.compile(r"^(check_\w+)\(", re.M)


@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_every_exercise_has_a_worked_solution(path):
    """Each numbered exercise is followed, before the next one, by a collapsed Solution; a
    code exercise that calls a checker also gets a hidden cell asserting that the solution
    passes that checker (the build then fails if it does not)."""
    cells = read(path).cells
    starts = [(i, m.group(1)) for i, c in enumerate(cells) if c.cell_type == "markdown"
              for m in [EXERCISE.search(c.source)] if m]
    problems = []
    for k, (start, number) in enumerate(starts):
        block = cells[start + 1 : starts[k + 1][0] if k + 1 < len(starts) else len(cells)]
        code = [c for c in block if c.cell_type == "code"]
        if not any(c.cell_type == "markdown" and "Solution" in c.source
                   and ":class: dropdown" in c.source for c in block):
            problems.append(f"exercise {number}: no collapsed Solution")
        for checker in {m.group(1) for c in code for m in CHECKER_CALL.finditer(c.source)}:
            if not any(f"assert {checker}(" in c.source
                       and "hide-input" in c.metadata.get("tags", []) for c in code):
                problems.append(f"exercise {number}: no hidden solution cell asserting {checker}")
    assert not problems, f"{path.name}: {problems}"
    if path.stem != "05a_draw_a_digit":
        assert starts, f"{path.name} has no numbered exercises"


@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_first_code_cell_is_the_hidden_colab_install_cell(path):
    found = colab_cell.problems(read(path), colab_cell.cell_source())
    assert not found, (
        f"{path.name}: {'; '.join(found)}. Fix with "
        f"`python scripts/colab_cell.py --write {path.relative_to(ROOT)}`"
    )


@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_notebook_has_a_python_kernelspec(path):
    kernelspec = read(path).metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3", f"{path.name}: kernelspec {kernelspec}"


# --- the build -------------------------------------------------------------------------


@built
@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_executed_notebook_has_no_errors_or_warnings(path):
    problems = []
    for i, cell in enumerate(executed(path).cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(f"cell {i}: {out.ename}: {out.evalue}")
            elif out.output_type == "stream" and out.name == "stderr":
                if re.search(r"\w+Warning\b|Traceback", out.text):
                    problems.append(f"cell {i} printed a warning: {out.text.strip()[:200]}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@built
@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_executed_notebook_stores_widget_state(path):
    nb = executed(path)
    shown = {
        out.data["application/vnd.jupyter.widget-view+json"]["model_id"]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in out.get("data", {})
    }
    if not shown:
        pytest.skip(f"{path.name} shows no widget")
    state = nb.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}
    ).get("state", {})
    assert shown <= set(state), f"{path.name}: no saved state for {sorted(shown - set(state))}"
    assert "application/vnd.jupyter.widget-state+json" in html_page(path)


def page_glue(path: Path) -> dict:
    """The glued values myst-nb rendered the page with (its .glue.json), by name."""
    glue_file = JUPYTER_EXECUTE / path.relative_to(ROOT).with_suffix(".glue.json")
    return json.loads(glue_file.read_text()) if glue_file.exists() else {}


@built
@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_glue_keys_exist(path):
    sources = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    used = {k.split(":")[0] for k in GLUE_ROLE.findall(sources) + GLUE_DIRECTIVE.findall(sources)}
    used = {k for k in used if "/" not in k and not k.endswith(".ipynb")}  # other notebooks
    if not used:
        pytest.skip(f"{path.name} uses no glue")
    glued = set(page_glue(path))
    assert used <= glued, f"{path.name}: glue keys used but never glued: {sorted(used - glued)}"


@built
@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_pages_show_the_last_execution(path):
    """A page rendered before its notebook last ran would show the numbers of an older run."""
    nb = executed_notebook(path)
    if nb is None:
        pytest.fail(f"{path.name}: not in _build/.jupyter_cache")
    ran = {}
    for out in (out for cell in nb.cells for out in cell.get("outputs", [])):
        if "scrapbook" in out.get("metadata", {}):
            record = out.metadata["scrapbook"]
            ran[record["name"]] = out.data.get(record["mime_prefix"] + "text/plain")
    if not ran:
        pytest.skip(f"{path.name} glues nothing")
    shown = page_glue(path)
    stale = sorted(
        k for k, v in ran.items() if shown.get(k, {}).get("data", {}).get("text/plain") != v
    )
    assert not stale, (
        f"{path.name}: the page shows other values than the last execution for {stale[:5]}: "
        "it was rendered before the notebook last ran"
    )


@built
@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_colab_cell_is_hidden_in_the_book(path):
    assert "] @ git+" not in html_page(path) and "cnnlib @ git+" not in html_page(path)


@built
@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_notebook_execution_time(path):
    record = cache_record(path)
    if record is None:
        pytest.fail(f"{path.name}: not in _build/.jupyter_cache")
    seconds = record.data.get("execution_seconds") or 0.0
    print(f"{path.name}: {seconds:.1f} s")
    assert seconds <= NOTEBOOK_TIME_LIMIT, (
        f"{path.name} took {seconds:.0f} s to execute (limit {NOTEBOOK_TIME_LIMIT:.0f} s)"
    )


@built
def test_pages_load_no_scripts_from_a_cdn():
    offenders = {}
    for page in BUILD_HTML.rglob("*.html"):
        text = page.read_text("utf-8")
        hits = [
            m.group(0) for m in re.finditer(r'<(?:script|link)\b[^>]*>', text)
            if any(host in m.group(0) for host in CDN_HOSTS)
        ]
        if hits:
            offenders[str(page.relative_to(BUILD_HTML))] = hits
    assert not offenders, offenders


@built
def test_markdown_tables_in_cell_outputs_render_as_tables():
    """A Markdown table a cell displays must become <table>, not a paragraph of pipes."""
    raw = {}
    for page in BUILD_HTML.glob("book/*.html"):
        text = page.read_text("utf-8")
        outputs = re.findall(r'<div class="cell_output docutils container">(.*?)</div>', text,
                             re.S)
        hits = [o.strip()[:60] for o in outputs if re.search(r"<p>\|[^<]*\|\s*\n\|", o)]
        if hits:
            raw[page.name] = hits
    assert not raw, f"pipe tables shown as text: {raw}"


@built
def test_local_web_assets_were_copied():
    for asset in ("_static/widgets/embed.js", "_static/mathjax/tex-mml-chtml.js",
                  "_static/ipywidgets-mathjax3.js"):
        assert (BUILD_HTML / asset).stat().st_size > 0, asset


@built
def test_every_toc_page_was_built():
    missing = [f for f in toc_files(TOC) if not (BUILD_HTML / f"{f}.html").exists()]
    assert not missing, f"toc entries without a page in _build/html: {missing}"


# --- the Colab install cell and the publishing workflow ------------------------------------
def test_colab_cell_installs_the_release_tag_of_this_version():
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert colab_cell.install_ref() == f"v{version}"
    assert f'git+{colab_cell.repository_url()}@v{version}"' in colab_cell.cell_source()


def test_colab_cell_refuses_a_moving_branch(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://example.org/r\n  install_ref: main\n")
    with pytest.raises(ValueError, match="must name the tag or commit"):
        colab_cell.install_ref(config)


WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
USES = re.compile(r"^\s*-?\s*uses:\s*(\S+?)@(\S+)(.*)$", re.M)


def test_workflow_pins_every_action_by_commit_sha_with_its_tag():
    uses = USES.findall(WORKFLOW.read_text())
    assert uses, "no `uses:` lines found"
    for action, ref, comment in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action}@{ref}: pin a full commit SHA"
        assert re.search(r"#\s*v\d", comment), f"{action}: name the release tag in a comment"


def test_workflow_never_cancels_a_pages_deployment():
    import yaml

    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert "concurrency" not in workflow, "a workflow-level group would cancel deployments"
    deploy = workflow["jobs"]["deploy"]["concurrency"]
    assert deploy["cancel-in-progress"] is False
    assert workflow["jobs"]["build"]["concurrency"]["cancel-in-progress"] is True
