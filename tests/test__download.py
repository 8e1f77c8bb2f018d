"""Tests for cnnlib._download: the pooch downloaders' hard limits and the folder clean-up.

Every server is local (127.0.0.1), answers a bounded response and shuts itself down.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
import time

import pytest

from cnnlib._download import HTTPDownloader, locked


# --------------------------------------------------------------------------- a local server
# A route answers one GET: it gets the request handler and writes the whole response.
def body(payload: bytes, length: int | None = None):
    def route(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(payload) if length is None else length))
        handler.end_headers()
        handler.wfile.write(payload)

    return route


def redirect(location: str):
    def route(handler):
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return route


def stream(chunk: bytes, times: int, pause: float = 0.0):
    """Send ``chunk`` ``times`` times without a Content-Length, pausing between them."""

    def route(handler):
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        for _ in range(times):
            handler.wfile.write(chunk)
            handler.wfile.flush()
            time.sleep(pause)

    return route


class Server:
    """An HTTP(S) server on 127.0.0.1 in a thread; it shuts itself down after ``lifetime`` s.

    ``routes`` maps a path to a route; other paths get 404. ``requests`` lists the paths asked.
    """

    def __init__(self, context=None, lifetime: float = 60.0):
        self.routes, self.requests = {}, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                route = server.routes.get(self.path)
                try:
                    route(self) if route else self.send_error(404)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if context is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        self.watchdog = threading.Timer(lifetime, self.httpd.shutdown)
        self.watchdog.daemon = True
        self.watchdog.start()

    def close(self) -> None:
        self.watchdog.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    server = Server()
    yield server
    server.close()


def downloader(max_bytes: int = 1000, **kwargs) -> HTTPDownloader:
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("deadline", 10.0)
    return HTTPDownloader(max_bytes, **kwargs)


# --------------------------------------------------------------------------- HTTPDownloader
def test_downloads_the_body_into_the_file(server, tmp_path):
    server.routes["/a.gz"] = body(b"payload")
    downloader()(f"{server.url}/a.gz", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"payload"


def test_a_response_longer_than_max_bytes_is_cut_off(server, tmp_path):
    server.routes["/big.gz"] = stream(b"x" * 100, times=50)  # 5000 bytes, no Content-Length
    with pytest.raises(ValueError, match="sent more than 1000 bytes, expected at most that"):
        downloader(1000)(f"{server.url}/big.gz", tmp_path / "out")
    assert (tmp_path / "out").stat().st_size <= 1000


def test_an_announced_oversized_response_is_refused_before_reading(server, tmp_path):
    server.routes["/huge.gz"] = body(b"", length=10**9)
    http = downloader()
    with pytest.raises(ValueError, match="announces 1000000000 bytes, expected at most 1000"):
        http(f"{server.url}/huge.gz", tmp_path / "out")


def test_a_download_has_an_overall_deadline(server, tmp_path):
    server.routes["/slow.gz"] = stream(b"x", times=200, pause=0.02)  # never silent for long
    http = downloader(1000, timeout=1.0, deadline=0.5)
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"took more than 0\.5 s in all"):
        http(f"{server.url}/slow.gz", tmp_path / "out")
    assert time.monotonic() - start < 1.5


def test_a_redirect_within_http_is_followed(server, tmp_path):
    server.routes["/moved.gz"] = redirect(f"{server.url}/here.gz")
    server.routes["/here.gz"] = body(b"payload")
    downloader()(f"{server.url}/moved.gz", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"payload"


@pytest.fixture
def tls(tmp_path):
    """A self-signed certificate for 127.0.0.1: (server context, client context)."""
    ssl = pytest.importorskip("ssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            env={"PATH": "/usr/bin:/bin"}, capture_output=True, check=True, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot make a certificate with openssl: {exc}")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    return server_context, ssl.create_default_context(cafile=str(cert))


def test_an_https_mirror_redirecting_to_http_is_refused(server, tls, tmp_path):
    server_context, client_context = tls
    secure = Server(server_context)
    try:
        secure.routes["/a.gz"] = redirect(f"{server.url}/a.gz")
        server.routes["/a.gz"] = body(b"payload")
        http = downloader(1000, context=client_context)
        with pytest.raises(OSError, match=r"refused a redirect from https to http://127\.0\.0\.1"):
            http(f"{secure.url}/a.gz", tmp_path / "out")
    finally:
        secure.close()
    assert secure.requests == ["/a.gz"] and server.requests == []


def test_a_body_shorter_than_announced_is_refused(server, tmp_path):
    server.routes["/short.gz"] = body(b"abc", length=10)
    with pytest.raises(ValueError, match="closed after 3 of 10 bytes"):
        downloader()(f"{server.url}/short.gz", tmp_path / "out")


# --------------------------------------------------------------------------- leftovers
@pytest.mark.skipif(os.name == "nt", reason="no folder lock on Windows")
def test_the_lock_deletes_leftover_temporary_files_only(tmp_path):
    names = ["tmpab_3xy9z", ".t10k-labels-idx1-ubyte.gz.k2j4h5.part", "tmp-notes.txt", ".my.part"]
    for name in names:
        (tmp_path / name).write_bytes(b"partial")
    with locked(tmp_path) as removed:
        pass
    assert sorted(p.name for p in removed) == sorted(names[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])
