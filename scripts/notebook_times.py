"""Print how long each notebook of the book took to execute, from the jupyter-cache database.

`make book` executes every notebook once and stores the executed copy with its run time in
_build/.jupyter_cache; this reads those records for the notebooks of _toc.yml (or those given).

    python scripts/notebook_times.py [--toc _toc.yml] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".jupyter_cache"


def toc_files(toc: Path = ROOT / "_toc.yml") -> list[str]:
    """Every `file:` entry of a Jupyter Book toc (root first), without suffix, in order."""
    data = yaml.safe_load(toc.read_text())
    files = [data["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []):
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data)
    return files


def toc_notebooks(toc: Path = ROOT / "_toc.yml") -> list[Path]:
    return [ROOT / f"{f}.ipynb" for f in toc_files(toc) if (ROOT / f"{f}.ipynb").exists()]


def cache_record(notebook: Path, cache_path: Path = CACHE):
    """The cache record of this notebook's current code, or None (not built, or it failed).

    The record has .data["execution_seconds"] and .created; ``executed_notebook`` gives the
    executed code cells.
    """
    if not (cache_path / "global.db").exists():
        return None
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_path))
    try:
        return cache.match_cache_notebook(nbformat.read(notebook, as_version=4))
    except KeyError:
        return None


def latest_record_of_file(notebook: Path, cache_path: Path = CACHE):
    """The newest cache record of this file, whatever its code was then, or None."""
    if not (cache_path / "global.db").exists():
        return None
    from jupyter_cache import get_cache

    records = [r for r in get_cache(str(cache_path)).list_cache_records()
               if r.uri == str(notebook)]
    return max(records, key=lambda r: r.created, default=None)


def executed_notebook(notebook: Path, cache_path: Path = CACHE):
    """The executed notebook (code cells with outputs, and metadata) from the cache, or None.

    Read from the cache rather than _build/jupyter_execute: when myst-nb takes a notebook from
    the cache it writes the *unexecuted* copy to _build/jupyter_execute (myst-nb 1.4.0).
    """
    record = cache_record(notebook, cache_path)
    if record is None:
        return None
    from jupyter_cache import get_cache

    return get_cache(str(cache_path)).get_cache_bundle(record.pk).nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--toc", type=Path, default=ROOT / "_toc.yml")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or toc_notebooks(args.toc)
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    total, missing = 0.0, 0
    width = max(len(str(p.relative_to(ROOT))) for p in notebooks)
    print(f"{'notebook':<{width}}  {'seconds':>8}  executed at")
    for path in notebooks:
        record = cache_record(path, args.cache)
        name = str(path.relative_to(ROOT))
        if record is None:
            missing += 1
            old = latest_record_of_file(path, args.cache)
            note = (
                f"changed since its last run ({old.data.get('execution_seconds', 0):.1f} s "
                f"on {old.created:%Y-%m-%d %H:%M})" if old else "not built yet, or it failed"
            )
            print(f"{name:<{width}}  {'-':>8}  {note}")
            continue
        seconds = record.data.get("execution_seconds") or 0.0
        total += seconds
        print(f"{name:<{width}}  {seconds:8.1f}  {record.created:%Y-%m-%d %H:%M}")
    print(f"{'total':<{width}}  {total:8.1f}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
