"""Network faults on demand, all on 127.0.0.1: a TCP proxy that delays, cuts and resets connections, a
listener that never answers, and a tiny HTTP server that answers 500s and garbage."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN (SO_LINGER with a zero timeout)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """Forwards 127.0.0.1:<port> to a target; change `mode`, `delay_s` or `cut_after` at any time.

    mode: "pass" forwards; "reset" answers new connections with a RST; "blackhole" accepts and never
    answers. `delay_s` delays every piece sent back to the client. `cut_after` closes a connection
    after that many bytes went back to the client. `kill()` is the machine going away: the listener
    closes and every open connection is reset.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.mode = "pass"
        self.delay_s = 0.0
        self.cut_after: int | None = None
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            if self.mode == "reset":
                _reset(client)
                continue
            with self._lock:
                self._open.add(client)
            if self.mode == "blackhole":
                continue  # held open, never answered, until kill()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                self._drop(client, reset=True)
                continue
            upstream.settimeout(None)  # a server thinking for long is not a fault of the proxy
            with self._lock:
                self._open.add(upstream)
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, to_client: bool) -> None:
        sent = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if to_client:
                    if self.delay_s:
                        time.sleep(self.delay_s)
                    if self.cut_after is not None and sent + len(data) > self.cut_after:
                        sink.sendall(data[: max(0, self.cut_after - sent)])
                        break
                    sent += len(data)
                sink.sendall(data)
        except OSError:
            pass
        self._drop(source)
        self._drop(sink)

    def _drop(self, sock: socket.socket, *, reset: bool = False) -> None:
        with self._lock:
            self._open.discard(sock)
        if reset:
            _reset(sock)
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()

    def kill(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._thread.join(timeout=5)
        with self._lock:
            open_now = list(self._open)
        for sock in open_now:
            self._drop(sock, reset=True)


class SilentListener:
    """Accepts TCP connections and never answers a byte: a hung server."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.port = int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._sock.close()


Route = Callable[[], tuple[int, str, bytes]]


class CannedServer:
    """A tiny HTTP server answering fixed (status, content type, body) per path; everything else 404."""

    def __init__(self, routes: dict[str, Route], *, tls: tuple[Path, Path] | None = None) -> None:
        self.routes = routes
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                outer.hits.append(self.path)
                route = outer.routes.get(self.path)
                status, ctype, body = route() if route else (404, "application/json", b'{"error": "not found"}')
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def json_route(status: int, data: Any) -> Route:
    return lambda: (status, "application/json", json.dumps(data).encode())


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A private CA and a certificate it signed for 127.0.0.1: (ca.pem, server.pem, server.key), by trustme."""
    import trustme

    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    ca, cert, key = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    authority.cert_pem.write_to_path(str(ca))
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    return ca, cert, key
