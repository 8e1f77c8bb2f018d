"""Networks the chapters share: a cached briefly-trained seed network, and the article's setting.

``trained_seed_network`` trains the seed network once and caches its weights, so that chapters
3 and 4 look at the same model without training it twice. ``article_network``,
``article_data`` and ``ArticleAdam`` rebuild the seed article's own setting (its
initialisation, its data preparation and its optimiser, bug included) for chapter 5's
like-for-like reproduction.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

import cnnlib
from cnnlib.book import article
from cnnlib.optim import Optimizer

__all__ = ["TrainedModel", "ArticleData", "ArticleAdam", "article_network", "article_data",
           "trained_seed_network", "default_cache_dir"]

_CORE_MODULES = ("layers.py", "losses.py", "model.py", "optim.py", "train.py")


class TrainedModel(NamedTuple):
    """A trained network, how long its training took, and whether it came from the cache."""

    model: cnnlib.Sequential
    seconds: float
    from_cache: bool


class ArticleData(NamedTuple):
    """The article's data: its training images and the test set, prepared its way.

    Shape
    -----
    x_train: (TRAIN_IMAGES, 1, 28, 28) float32; y_train: (TRAIN_IMAGES,) int64;
    x_test: (10000, 1, 28, 28) float32; y_test: (10000,) int64
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_stats: tuple[int, int]
    test_stats: tuple[int, int]


def default_cache_dir() -> Path:
    """Where trained weights are cached: ``$CNNLIB_CACHE`` if set, else ``~/.cache/cnnlib/models``.

    ``XDG_CACHE_HOME`` replaces ``~/.cache`` when it is set.
    """
    if os.environ.get("CNNLIB_CACHE"):
        return Path(os.environ["CNNLIB_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "cnnlib" / "models"


def article_network(rng=0, dtype=np.float32) -> cnnlib.Sequential:
    """The seed network initialised as the article's code does it.

    Filters are normal with standard deviation ``1 / sqrt(prod(weight.shape))`` (all four
    dimensions, the number of filters included), dense weights are standard normal times 0.01,
    and every bias is zero.

    Shape
    -----
    input (N, 1, 28, 28) -> logits (N, 10)
    """
    g = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    net = cnnlib.seed_network(rng=g, dtype=dtype)
    for layer in net:
        if isinstance(layer, cnnlib.Conv2d):
            w = layer.params["weight"]
            w[...] = g.normal(0.0, 1.0 / np.sqrt(w.size), size=w.shape)
        elif isinstance(layer, cnnlib.Linear):
            w = layer.params["weight"]
            w[...] = 0.01 * g.standard_normal(w.shape)
        if "bias" in layer.params:
            layer.params["bias"][...] = 0.0
    return net


def _standardise_truncated(images: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    px = images.astype(np.float64)
    stats = (int(px.mean()), int(px.std()))
    return ((px - stats[0]) / stats[1]).astype(np.float32)[:, None], stats


def article_data(raw: cnnlib.MNIST) -> ArticleData:
    """Prepare MNIST as the article did: the first ``TRAIN_IMAGES`` training images.

    Each split is shifted and scaled by its *own* mean and standard deviation, both truncated
    to integers in pixel units (0 to 255), as in the article's code.

    Parameters
    ----------
    raw : MNIST
        What :func:`cnnlib.load_mnist` returns (uint8 images, shape (N, 28, 28)).
    """
    if not hasattr(raw, "train_images") or not hasattr(raw, "test_images"):
        raise TypeError(f"expected what cnnlib.load_mnist() returns, got {type(raw).__name__}; "
                        "call article_data(cnnlib.load_mnist()).")
    n = article.TRAIN_IMAGES
    if len(raw.train_images) < n:
        raise ValueError(f"expected at least {n:,} training images, got "
                         f"{len(raw.train_images):,}.")
    x_train, train_stats = _standardise_truncated(raw.train_images[:n])
    x_test, test_stats = _standardise_truncated(raw.test_images)
    return ArticleData(x_train, raw.train_labels[:n].astype(np.int64), x_test,
                       raw.test_labels.astype(np.int64), train_stats, test_stats)


class ArticleAdam(Optimizer):
    """The article's "Adam": both moments restart from zero at every step.

    With ``m = v = 0`` before each step, and no bias correction, each parameter moves by::

        param -= lr * (1 - beta1) * grad / sqrt((1 - beta2) * grad**2 + eps)

    (``eps`` inside the square root, as in the article's code): about
    ``lr * (1 - beta1) / sqrt(1 - beta2)`` times the sign of the gradient. A teaching
    artefact for reproducing the article, not an optimiser to use.
    """

    def __init__(self, params, lr: float = article.LEARNING_RATE,
                 betas: tuple[float, float] = article.BETAS, eps: float = 1e-7) -> None:
        super().__init__(params, lr)
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"expected betas = (beta1, beta2) in [0, 1), got {betas!r}.")
        if not eps > 0:
            raise ValueError(f"expected a positive eps, got {eps!r}.")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)

    def __repr__(self) -> str:
        return f"ArticleAdam(lr={self.lr}, betas={self.betas}, eps={self.eps})"

    def step(self) -> None:
        beta1, beta2 = self.betas
        for p, g in self.params:
            m = (1 - beta1) * g                 # beta1 * 0 + (1 - beta1) * g
            v = (1 - beta2) * g * g             # beta2 * 0 + (1 - beta2) * g**2
            p -= (self.lr * m / np.sqrt(v + self.eps)).astype(p.dtype, copy=False)


def _digest(h, a: np.ndarray) -> None:
    a = np.ascontiguousarray(a)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())


def _cache_key(model, x, y, settings: dict) -> str:
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for name, value in model.state_dict().items():
        h.update(name.encode())
        _digest(h, value)
    _digest(h, x)
    _digest(h, y)
    core = Path(cnnlib.__file__).parent
    for module in _CORE_MODULES:   # a change in the training code invalidates the cache
        h.update((core / module).read_bytes())
    h.update(np.__version__.encode())
    return h.hexdigest()[:24]


def _save_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp.npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def trained_seed_network(x: np.ndarray, y: np.ndarray, *, epochs: int = 1, lr: float = 1e-3,
                         batch_size: int = 32, rng=0, seed: int = 0,
                         cache_dir: os.PathLike | str | None = None) -> TrainedModel:
    """``seed_network(rng)`` trained with Adam(lr) by ``cnnlib.fit``, cached on disk.

    The first call trains and writes the weights to ``cache_dir`` (atomically); later calls
    with the same arguments, the same initial weights, the same data and the same training
    code load them instead (``allow_pickle=False``). Training is deterministic, so both give
    identical weights.

    Parameters
    ----------
    x, y : ndarray
        Training images (N, 1, 28, 28) and integer labels (N,).
    epochs, lr, batch_size : training settings passed to ``Adam`` and ``fit``.
    rng : int
        Seed of the initial weights.
    seed : int
        Seed of ``fit``'s shuffling.
    cache_dir : path, optional
        Default :func:`default_cache_dir`.

    Returns
    -------
    TrainedModel
        ``(model, seconds, from_cache)``; ``seconds`` is how long the training took when it
        ran, also when the weights come from the cache. The model is in eval mode.

    Shape
    -----
    x: (N, 1, 28, 28); y: (N,)
    """
    if not isinstance(rng, (int, np.integer)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"expected integer seeds rng and seed (they key the cache), got "
                        f"rng={rng!r}, seed={seed!r}.")
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 4 or len(x) != len(y):
        raise ValueError(f"expected images (N, 1, 28, 28) and labels (N,), got {x.shape} and "
                         f"{y.shape}.")
    model = cnnlib.seed_network(rng=int(rng))
    settings = {"epochs": int(epochs), "lr": float(lr), "batch_size": int(batch_size),
                "seed": int(seed)}
    key = _cache_key(model, x, y, settings)
    path = Path(cache_dir if cache_dir is not None else default_cache_dir())
    path = path / f"seed_network-{key}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as saved:
                state = {k: saved[k] for k in saved.files if k != "_seconds"}
                seconds = float(saved["_seconds"])
            model.load_state_dict(state)
            return TrainedModel(model.eval(), seconds, True)
        except (OSError, ValueError, KeyError):
            pass   # unreadable or stale: train again and overwrite
    optimizer = cnnlib.Adam(model.parameters(), lr=lr)
    start = time.perf_counter()
    cnnlib.fit(model, cnnlib.SoftmaxCrossEntropy(), optimizer, x, y, epochs=epochs,
               batch_size=batch_size, seed=seed, progress=False)
    seconds = time.perf_counter() - start
    _save_atomically(path, {**model.state_dict(), "_seconds": np.array(seconds)})
    return TrainedModel(model.eval(), seconds, False)
