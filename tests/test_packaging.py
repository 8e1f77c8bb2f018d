"""cnnlib without the book: a fresh virtualenv with NumPy only, then cnnlib installed with
``pip install --no-deps -e``. The core must import, train, save, load, gradient-check and read
MNIST files there, and import none of the book's packages.

The virtualenv needs NumPy (at the version requirements.txt pins) and setuptools >= 77 for the
editable build, from PyPI or pip's cache; it takes some 20-60 s, so it is marked ``packaging``
(``pytest -m "not packaging"`` leaves it out; ``make test`` runs it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(300)]

# Runs inside the fresh virtualenv. argv[1]: a folder with the MNIST files, or "" for none.
SCRIPT = textwrap.dedent(
    """
    import sys, tempfile
    from pathlib import Path
    import numpy as np
    import cnnlib

    rng = np.random.default_rng(0)
    source = sys.argv[1]
    if source:  # the real files: reading MNIST needs no pooch when the files are there
        mnist = cnnlib.load_mnist(source, download=False, progress=False)
        x = cnnlib.standardize(cnnlib.as_nchw(mnist.train_images[:300]))[0]
        y = mnist.train_labels[:300].astype(np.int64)
    else:  # digits of a kind: class c has a bright square in a position of its own
        y = rng.integers(0, 10, size=300)
        x = rng.normal(0.0, 0.3, size=(300, 1, 28, 28)).astype(np.float32)
        for c in range(10):
            r, col = divmod(c, 5)
            x[y == c, 0, 4 + 10 * r : 12 + 10 * r, 1 + 5 * col : 6 + 5 * col] += 2.0

    model = cnnlib.seed_network(rng=0)
    loss_fn = cnnlib.SoftmaxCrossEntropy()
    history = cnnlib.fit(model, loss_fn, cnnlib.Adam(model.parameters()), x, y)  # defaults
    assert len(history.epoch) == 1 and np.isfinite(history.history["loss"][0])

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        model.save(path)
        again = cnnlib.seed_network(rng=1).load(path)
    for name, value in model.state_dict().items():
        assert np.array_equal(value, again.state_dict()[name]), name
    assert np.array_equal(model.predict(x[:20]), again.predict(x[:20]))

    layer = cnnlib.Conv2d(2, 3, 3, rng=0, dtype=np.float64)
    errors = cnnlib.check_layer_gradients(layer, rng.standard_normal((2, 2, 5, 5)))
    assert max(errors.values()) < 1e-6, errors

    with tempfile.TemporaryDirectory() as empty:  # downloading is what needs pooch
        try:
            cnnlib.load_mnist(empty, progress=False)
        except ModuleNotFoundError as exc:
            assert "pip install pooch" in str(exc), exc
        else:
            raise AssertionError("load_mnist downloaded without pooch")

    book = [m for m in ("matplotlib", "ipywidgets", "tqdm", "pooch") if m in sys.modules]
    assert not book, f"the core imported {book}"
    print("ok", len(x), history.history["loss"][0])
    """
)


def numpy_pin() -> str:
    text = (REPO / "requirements.txt").read_text()
    match = re.search(r"^numpy==(\S+)", text, flags=re.MULTILINE)
    assert match, "requirements.txt pins no numpy version"
    return match.group(1)


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.stdout}\n"
        f"{result.stderr}"
    )
    return result


def mnist_dir() -> str:
    folder = os.environ.get("CNNLIB_DATA", "")
    names = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    found = folder and all(
        (Path(folder) / n).exists() or (Path(folder) / f"{n}.gz").exists() for n in names)
    return folder if found else ""


def test_core_works_in_a_fresh_virtualenv_with_numpy_only(tmp_path):
    start = time.perf_counter()
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    run([*pip, "install", f"numpy=={numpy_pin()}"])
    # Editable build in pip's isolated build environment, which fetches setuptools >= 77.
    run([*pip, "install", "--no-deps", "-e", REPO])
    installed = run([*pip, "list", "--format=freeze"]).stdout.lower()
    assert not re.search(r"^(matplotlib|ipywidgets|tqdm|pooch)==", installed, re.MULTILINE)

    script = tmp_path / "core.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CNNLIB_DATA")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    out = run([python, script, mnist_dir()], env=env, cwd=tmp_path).stdout
    assert out.startswith("ok 300 ")
    print(f"fresh virtualenv + core run: {time.perf_counter() - start:.1f} s")
