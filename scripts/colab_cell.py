"""The first code cell of every chapter: install cnnlib in Colab, do nothing elsewhere.

Locally, on Binder and in the book build, ``cnnlib`` is already installed (``pip install -e .``),
so the cell only imports it. In Colab the import fails and the cell installs the library from the
repository named in ``_config.yml`` (``repository.url``), pinned to the release the book was built
from (``repository.install_ref``, a tag such as ``v0.1.0``; never a moving branch), so a reader's
Colab gets the same ``cnnlib`` as the page they are reading. The book hides the cell (tag
``remove-cell``); tests/test_book.py checks that every chapter starts with exactly this cell.

    python scripts/colab_cell.py                       # print the cell source
    python scripts/colab_cell.py --write book/0*.ipynb # insert it, or replace an older version
    python scripts/colab_cell.py --check book/0*.ipynb # exit 1 when a chapter lacks it
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
TAG = "remove-cell"
CELL_ID = "colab-install"

TEMPLATE = """\
# In Colab, install cnnlib (the library this book builds) when it is not importable.
try:
    import cnnlib
except ImportError:
    %pip install -q "cnnlib[book] @ git+{url}@{ref}\""""

MOVING_REFS = {"", "main", "master", "head"}


def repository_url(config: Path = ROOT / "_config.yml") -> str:
    """Return ``repository.url`` from the book's ``_config.yml``, without a trailing slash."""
    data = yaml.safe_load(config.read_text())
    return data["repository"]["url"].rstrip("/")


def install_ref(config: Path = ROOT / "_config.yml") -> str:
    """Return ``repository.install_ref`` from ``_config.yml``: the tag the Colab cell installs."""
    data = yaml.safe_load(config.read_text())
    ref = str(data["repository"].get("install_ref", "")).strip()
    if ref.lower() in MOVING_REFS:
        raise ValueError(
            f"repository.install_ref in {config.name} must name the tag or commit the book is "
            f"built from (e.g. v0.1.0), got {ref!r}: a branch moves, so readers in Colab would "
            "install a different cnnlib than the page they read."
        )
    return ref


def cell_source(url: str | None = None, ref: str | None = None) -> str:
    """Return the canonical source of the install cell (no trailing newline)."""
    return TEMPLATE.format(url=url or repository_url(), ref=ref or install_ref())


def first_code_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    return next((cell for cell in nb.cells if cell.cell_type == "code"), None)


def is_install_cell(cell: nbformat.NotebookNode) -> bool:
    """True for this cell or an older version of it (so --write replaces, not duplicates)."""
    return "import cnnlib" in cell.source and "pip install" in cell.source


def problems(nb: nbformat.NotebookNode, source: str) -> list[str]:
    """What is wrong with a notebook's install cell; empty when it is right."""
    cell = first_code_cell(nb)
    if cell is None:
        return ["the notebook has no code cell"]
    found = []
    if cell.source.rstrip("\n") != source:
        found.append("the first code cell is not the canonical Colab install cell")
    if TAG not in cell.get("metadata", {}).get("tags", []):
        found.append(f"the first code cell is not tagged {TAG!r}")
    return found


def write(path: Path, source: str) -> bool:
    """Insert or update the install cell; return True when the file changed."""
    nb = nbformat.read(path, as_version=4)
    if not problems(nb, source):
        return False
    cell = first_code_cell(nb)
    if cell is not None and is_install_cell(cell):
        cell.source = source
        tags = cell.metadata.setdefault("tags", [])
        if TAG not in tags:
            tags.append(TAG)
    else:
        new = nbformat.v4.new_code_cell(source, metadata={"tags": [TAG]})
        if nb.nbformat_minor >= 5:
            new.id = CELL_ID
        else:
            new.pop("id", None)
        # after the leading markdown cells (the chapter title), before the first code cell
        index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
        nb.cells.insert(index, new)
    nbformat.write(nb, path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print, insert or check the Colab install cell.")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", nargs="+", type=Path, metavar="NOTEBOOK")
    action.add_argument("--check", nargs="+", type=Path, metavar="NOTEBOOK")
    parser.add_argument("--url", help="repository URL (default: repository.url in _config.yml)")
    args = parser.parse_args(argv)
    source = cell_source(args.url)
    if args.write:
        for path in args.write:
            print(f"{path}: {'updated' if write(path, source) else 'already right'}")
        return 0
    if args.check:
        status = 0
        for path in args.check:
            for problem in problems(nbformat.read(path, as_version=4), source):
                print(f"{path}: {problem}")
                status = 1
        return status
    print(source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
