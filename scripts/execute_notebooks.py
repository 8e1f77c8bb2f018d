"""Execute the book's notebooks in parallel, one per core, into the jupyter-cache that
`jupyter-book build` reads.

The book build (myst-nb, `execute_notebooks: cache`) runs notebooks one after another. Each
notebook's NumPy runs on one thread (OPENBLAS_NUM_THREADS=1, see the Makefile), so on a 2-core
machine half the machine idles. This script runs them on a pool of workers, longest first (the
last recorded run time, else the file size), and stores every executed notebook in
_build/.jupyter_cache exactly as myst-nb would; the build that follows then finds every
notebook cached and only renders. Notebooks whose code is already cached are skipped.
Sphinx re-renders only pages whose source file changed, not those whose outputs did, so when
any notebook runs here its environment is deleted and the build renders every page again.

jupyter-cache knows a notebook only by its code cells, so a change to cnnlib (a layer, a
widget's JavaScript, which the executed notebook embeds in its widget state) would leave stale
outputs in the cache. The cache therefore carries a fingerprint of every file of the cnnlib
package; when it differs, the cache is emptied first and every notebook runs again.

    python scripts/execute_notebooks.py [--toc _toc.yml] [--jobs N] [NOTEBOOK ...]

Exits non-zero, printing the traceback, if any notebook fails.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebook_times import CACHE, ROOT, latest_record_of_file, toc_notebooks  # noqa: E402

TIMEOUT = 1200  # seconds per cell, as _config.yml's execute.timeout
SPHINX_ENV = ROOT / "_build" / ".doctrees" / "environment.pickle"


def _execute(path: Path):
    """Run one notebook in its own folder; return (path, notebook, seconds, error text)."""
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = nbformat.read(path, as_version=4)
    result = single_nb_execution(
        notebook, cwd=str(path.parent), timeout=TIMEOUT, allow_errors=False, meta_override=True
    )
    error = None if result.err is None else (result.exc_string or repr(result.err))
    return path, notebook, result.time, error


def cnnlib_fingerprint(package: Path = ROOT / "cnnlib") -> str:
    """SHA-256 over the path and bytes of every .py and .js file of the package."""
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.suffix in {".py", ".js"}):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _drop_stale_cache() -> None:
    stamp = CACHE / "cnnlib.sha256"
    now = cnnlib_fingerprint()
    if CACHE.exists() and (not stamp.exists() or stamp.read_text().strip() != now):
        print("cnnlib changed since the cached notebooks ran: emptying the cache", flush=True)
        shutil.rmtree(CACHE)
    CACHE.mkdir(parents=True, exist_ok=True)
    stamp.write_text(now + "\n")


def _expected_seconds(path: Path) -> float:
    record = latest_record_of_file(path)
    if record is not None and record.data.get("execution_seconds"):
        return float(record.data["execution_seconds"])
    return path.stat().st_size / 1e4  # no record yet: bigger notebooks tend to run longer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--toc", type=Path, default=ROOT / "_toc.yml")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    durations = {p: _expected_seconds(p) for p in toc_notebooks(args.toc)}  # before any reset
    _drop_stale_cache()
    cache = get_cache(str(CACHE))
    notebooks = [p.resolve() for p in args.notebooks] or toc_notebooks(args.toc)
    todo = []
    for path in notebooks:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
            print(f"cached   {path.relative_to(ROOT)}", flush=True)
        except KeyError:
            todo.append(path)
    # longest first, so the workers finish together
    todo.sort(key=lambda p: durations.get(p, p.stat().st_size / 1e4), reverse=True)
    start, failed = time.perf_counter(), []
    with Pool(max(1, min(args.jobs, len(todo) or 1))) as pool:
        # The workers only execute; this process alone writes the cache (one sqlite writer).
        for path, notebook, seconds, error in pool.imap_unordered(_execute, todo, chunksize=1):
            name = path.relative_to(ROOT)
            if error:
                failed.append(name)
                print(f"FAILED   {name} after {seconds:.1f} s\n{error}", flush=True)
                continue
            record = cache.add_nb_to_project(str(path))
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, record.uri, data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            print(f"executed {name} in {seconds:.1f} s", flush=True)
    if todo:  # their pages must be rendered from the new outputs
        SPHINX_ENV.unlink(missing_ok=True)
    print(f"{len(todo)} notebook(s) executed with {args.jobs} worker(s) in "
          f"{time.perf_counter() - start:.0f} s of wall time", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
