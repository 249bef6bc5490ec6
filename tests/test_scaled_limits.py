"""The request limits the scaled profile's nginx enforces (deploy/nginx/rakel.conf.template;
docs/security.md, "Limits at the proxy"): one test per limit, against the real nginx with
the real template, every upstream a recording stand-in, so each test can say that a
refused request never reached a backend."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from devtools.ports import free_port
from devtools.readiness import wait_port
from devtools.scaled.config import NGINX_TEMPLATE, load_config
from devtools.scaled.profile import ScaledProfile
from devtools.scaled.services import nginx_setup, render_template

pytestmark = pytest.mark.scaled  # runs the real nginx of the scaled profile

KB = 1024
CHAT_LIMIT = 128 * KB
WEB_LIMIT = 1024 * KB
ACTIONS_LIMIT = 8 * 1024 * KB
HEADER_TIMEOUT = 10
BODY_TIMEOUT = 10
KEEPALIVE_TIMEOUT = 15


class _Recorder(ThreadingHTTPServer):
    """Every replica at once: answers 200 and remembers what reached it."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int]] = []
        self.transfer_encodings: list[str | None] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.seen.append((self.command, self.path, len(body)))
                recorder.transfer_encodings.append(self.headers.get("Transfer-Encoding"))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args) -> None:  # quiet
                pass

        super().__init__(("127.0.0.1", 0), Handler)


class _Proxy:
    def __init__(self, root: Path) -> None:
        self.recorder = _Recorder()
        threading.Thread(target=self.recorder.serve_forever, daemon=True).start()
        servers = f"server 127.0.0.1:{self.recorder.server_address[1]};"
        self.ports = {"public": free_port(), "rasa": free_port(), "actions": free_port()}
        self.log = root / "access.log"
        profile = ScaledProfile.__new__(ScaledProfile)
        profile.root = root
        profile.config = load_config(root, env={})
        values = {
            **profile.nginx_values(),
            "RAKEL_NGINX_ACCESS_LOG": str(self.log),
            "RAKEL_NGINX_RASA_SERVERS": servers,
            "RAKEL_NGINX_ACTIONS_SERVERS": servers,
            "RAKEL_NGINX_WEB_SERVERS": servers,
            "RAKEL_NGINX_PUBLIC_LISTEN": f"127.0.0.1:{self.ports['public']}",
            "RAKEL_NGINX_RASA_LISTEN": f"127.0.0.1:{self.ports['rasa']}",
            "RAKEL_NGINX_ACTIONS_LISTEN": f"127.0.0.1:{self.ports['actions']}",
        }
        site = render_template(NGINX_TEMPLATE.read_text(), values)
        self.nginx = subprocess.Popen(nginx_setup(root / "nginx", site), start_new_session=True)
        for port in self.ports.values():
            wait_port(port, timeout=10, process=self.nginx)

    def url(self, listener: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[listener]}{path}"

    def logged_statuses(self) -> list[str]:
        # log_format rakel: '... "$request" $status upstream=...'
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [line.split('" ')[-1].split(" ")[0] for line in lines]

    def stop(self) -> None:
        self.nginx.terminate()
        self.nginx.wait(timeout=10)
        self.recorder.shutdown()
        self.recorder.server_close()


@pytest.fixture(scope="module")
def proxy():
    # nginx's workers run as `nobody` under a root master and buffer large bodies in
    # client_body_temp_path: that folder must be reachable for them, which pytest's
    # private (0700) temporary folders are not.
    root = Path(tempfile.mkdtemp(prefix="rakel-nginx-limits-"))
    root.chmod(0o755)
    running = _Proxy(root)
    yield running
    running.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def seen(proxy):
    proxy.recorder.seen.clear()
    proxy.recorder.transfer_encodings.clear()
    return proxy.recorder.seen


def _raw(proxy: _Proxy, listener: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.ports[listener]), timeout=30)


def _wait_closed(sock: socket.socket) -> tuple[float, bytes]:
    """Seconds until nginx closes the connection, and what it sent before."""
    start, received = time.monotonic(), b""
    while chunk := sock.recv(65536):
        received += chunk
    return time.monotonic() - start, received


@pytest.mark.parametrize(
    ("listener", "path", "limit"),
    [
        ("public", "/webhooks/teams/webhook", CHAT_LIMIT),
        ("public", "/socket.io/?EIO=4&transport=polling", CHAT_LIMIT),
        ("rasa", "/webhooks/rest/webhook", CHAT_LIMIT),
        ("public", "/login", WEB_LIMIT),
        ("rasa", "/model/parse", WEB_LIMIT),
        ("actions", "/webhook", ACTIONS_LIMIT),
    ],
)
def test_a_body_over_the_limit_is_413_and_never_reaches_a_backend(
    proxy, seen, listener, path, limit
):
    refused = requests.post(proxy.url(listener, path), data=b"x" * (limit + 1), timeout=30)
    assert refused.status_code == 413
    assert seen == []
    # Up to the limit it passes: for the chat entries that is a message far over
    # Rakel's 2,000 characters, which gets the polite "too long" answer from Rasa.
    passed = requests.post(proxy.url(listener, path), data=b"x" * limit, timeout=30)
    assert passed.status_code == 200
    assert seen == [("POST", path, limit)]


def test_a_header_over_8_kb_is_400_and_a_request_line_over_8_kb_is_414(proxy, seen):
    url = proxy.url("public", "/webhooks/teams/webhook")
    too_big = requests.post(url, headers={"X-Filler": "a" * 9000}, data=b"{}", timeout=10)
    assert too_big.status_code == 400
    long_line = requests.get(proxy.url("public", "/?q=" + "a" * 9000), timeout=10)
    assert long_line.status_code == 414
    assert seen == []
    # A Teams bearer token (a JWT of a few KB) passes.
    token = requests.post(
        url, headers={"Authorization": "Bearer " + "a" * 4000}, data=b"{}", timeout=10
    )
    assert token.status_code == 200 and len(seen) == 1


def test_a_request_with_two_host_headers_is_400_and_never_reaches_a_backend(proxy, seen):
    sock = _raw(proxy, "public")
    with sock:
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: rakel\r\nHost: other\r\nContent-Length: 2\r\n\r\n{}"
        )
        _waited, received = _wait_closed(sock)
    assert received.startswith(b"HTTP/1.1 400")
    assert seen == []


def test_a_chunked_body_with_trailers_reaches_a_backend_as_one_sized_body(proxy, seen):
    """The backends never parse chunked framing or trailers from outside: nginx reads
    the whole body (within its limits) and passes it on with a Content-Length."""
    chunks = b"".join(b"1\r\nx\r\n" for _ in range(5000))
    sock = _raw(proxy, "public")
    with sock:
        sock.sendall(
            b"POST /webhooks/teams/webhook HTTP/1.1\r\nHost: rakel\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\nX-Trailer: 1\r\n\r\n"
        )
        _waited, received = _wait_closed(sock)
    assert received.startswith(b"HTTP/1.1 200")
    assert seen == [("POST", "/webhooks/teams/webhook", 5000)]
    assert proxy.recorder.transfer_encodings == [None]


@pytest.mark.parametrize(
    ("listener", "path"),
    [
        ("public", "/webhooks/teams/webhook"),
        ("public", "/login"),
        ("rasa", "/webhooks/rest/webhook"),
        ("actions", "/webhook"),
    ],
)
def test_a_compressed_request_body_is_415_and_never_reaches_a_backend(proxy, seen, listener, path):
    for encoding in ("gzip", "deflate", "br", "GZIP"):
        refused = requests.post(
            proxy.url(listener, path),
            data=b"\x1f\x8b\x08\x00",
            headers={"Content-Encoding": encoding},
            timeout=10,
        )
        assert refused.status_code == 415, encoding
    assert seen == []
    plain = requests.post(
        proxy.url(listener, path), data=b"{}", headers={"Content-Encoding": "identity"}, timeout=10
    )
    assert plain.status_code == 200 and len(seen) == 1


def test_a_header_not_sent_within_10_s_ends_the_request_with_408(proxy, seen):
    sock = _raw(proxy, "public")
    with sock:
        sock.sendall(b"POST /webhooks/teams/webhook HTTP/1.1\r\nHost: rakel\r\n")  # no end
        waited, received = _wait_closed(sock)
    assert HEADER_TIMEOUT - 1 <= waited <= HEADER_TIMEOUT + 5
    assert received == b""  # nginx drops such a client without an answer...
    assert seen == []
    time.sleep(0.2)  # the access log line is written as the request ends
    assert proxy.logged_statuses()[-1] == "408"  # ...and logs it as 408


def test_a_body_stalled_for_10_s_is_408_and_never_reaches_a_backend(proxy, seen):
    sock = _raw(proxy, "public")
    with sock:
        sock.sendall(
            b"POST /webhooks/teams/webhook HTTP/1.1\r\nHost: rakel\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            b'{"type": "message", '
        )
        waited, received = _wait_closed(sock)
    assert BODY_TIMEOUT - 1 <= waited <= BODY_TIMEOUT + 5
    assert received == b""  # dropped without an answer, as for a stalled header
    assert seen == []
    time.sleep(0.2)
    assert proxy.logged_statuses()[-1] == "408"


def test_an_idle_keep_alive_connection_is_closed_after_15_s(proxy, seen):
    sock = _raw(proxy, "public")
    with sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: rakel\r\n\r\n")
        answer = b""
        while not answer.endswith(b"ok"):
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        waited, received = _wait_closed(sock)
    assert KEEPALIVE_TIMEOUT - 1 <= waited <= KEEPALIVE_TIMEOUT + 5
    assert received == b""
    assert seen == [("GET", "/health", 0)]
