"""The HTTP side of a remote server: one connection pool on a private event loop, plain requests with
retries and backoff, health checks, and Pylot's exceptions for whatever goes wrong (the table in
client.py). Streamed generations over it are in streaming.py."""

from __future__ import annotations

import logging
import ssl
import time
import weakref
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from pylot import __version__
from pylot.config.backend_policy import redact_url
from pylot.engines.interface import CancelToken
from pylot.engines.llama_server.loop_thread import LoopThread, release_on_drop
from pylot.engines.llama_server.streaming import stream
from pylot.engines.llama_server.wire import (
    Reader,
    retriable,
    retry_after,
    server_message,
    status_error,
    transport_error,
)
from pylot.errors import BackendResponseError, ConfigError, PylotError
from pylot.types import Chunk, GenerationParams

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Health:
    """One health check: ok means ready to generate (a server still loading its model is not)."""

    ok: bool
    detail: str
    latency_ms: float


class Transport:
    """Requests to one server. `base_url` or `host` and `port`; the rest has safe defaults."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        api_key: str | SecretStr | None = None,
        name: str = "",
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 60.0,
        total_timeout_s: float = 300.0,
        retries: int = 2,
        backoff_s: float = 0.1,
        verify_tls: bool = True,
        ca_bundle: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if base_url is None:
            if host is None or port is None:
                raise ConfigError("an external server needs a base URL, or a host and a port", key="backend.servers")
            base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        # OpenAI base URLs conventionally end in /v1; the paths below add it themselves.
        url = base_url.rstrip("/").removesuffix("/v1")
        parts = httpx.URL(url)
        # user:password in the URL becomes basic auth, and leaves the URL that logs show.
        auth = httpx.BasicAuth(parts.username, parts.password) if parts.username else None
        self.url = redact_url(url)
        self.name = name or self.url
        self.retries = retries
        self.backoff_s = backoff_s
        self.total_timeout_s = total_timeout_s
        self.connect_timeout_s = connect_timeout_s
        read = min(read_timeout_s, total_timeout_s)
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        headers = {"User-Agent": f"gc-forged-pylot/{__version__}"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.http = httpx.AsyncClient(
            base_url=self.url,
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(connect=connect_timeout_s, read=read, write=read, pool=connect_timeout_s),
            verify=_tls_context(verify_tls, ca_bundle),
            transport=transport,
            # Proxies from the environment would be one more machine that sees the code.
            trust_env=False,
            follow_redirects=False,
        )
        self.loop = LoopThread(self.name)
        self._finalizer = weakref.finalize(self, release_on_drop, self.loop, self.http)

    def wait(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.submit(coro).result(timeout=self.total_timeout_s + 10)

    def stream(
        self, path: str, body: dict[str, Any], reader: Reader, params: GenerationParams, cancel: CancelToken | None
    ) -> Iterator[Chunk]:
        """Chunks of one streamed generation (streaming.py), retried while nothing has been yielded."""
        return stream(self, path, body, reader, params, cancel)

    async def request(self, method: str, path: str, body: Any = None, timeout: float | None = None) -> httpx.Response:
        try:
            response = await self.http.request(
                method, path, json=body, timeout=httpx.Timeout(timeout) if timeout else httpx.USE_CLIENT_DEFAULT
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.name) from exc
        if response.status_code >= 400:
            message, type_ = server_message(response.content)
            raise status_error(
                response.status_code, message, self.name, error_type=type_, retry_after=retry_after(response)
            )
        return response

    def send(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """One request, retried while that is safe; error statuses are raised as Pylot errors."""
        attempt = 0
        deadline = time.monotonic() + self.total_timeout_s
        while True:
            try:
                return self.wait(self.request(method, path, body))
            except PylotError as exc:
                if not self.backoff(exc, attempt, deadline, None):
                    raise
                attempt += 1

    def json(self, method: str, path: str, body: Any = None) -> Any:
        response = self.send(method, path, body)
        try:
            return response.json()
        except ValueError:
            raise BackendResponseError(
                f"{self.name}{path} answered {response.status_code} with a body that is not JSON",
                status_code=response.status_code,
            ) from None

    def backoff(self, exc: Exception, attempt: int, deadline: float, cancel: CancelToken | None) -> bool:
        """Sleep before another try if one is allowed; False if the error should be raised."""
        if attempt >= self.retries or not retriable(exc) or (cancel is not None and cancel.cancelled):
            return False
        delay = min(self.backoff_s * 2**attempt, 2.0)
        hinted = getattr(exc, "retry_after", None)
        if isinstance(hinted, (int, float)):
            delay = max(delay, min(float(hinted), 2.0))
        if time.monotonic() + delay >= deadline:
            return False
        log.warning("%s: %s; trying again in %.2f s (%d/%d)", self.name, exc, delay, attempt + 1, self.retries)
        time.sleep(delay)
        return True

    def health(self, timeout_s: float | None = None) -> Health:
        """GET /health (llama-server), or /v1/models for servers without it. Never raises."""
        return self.wait(self._health(timeout_s or max(self.connect_timeout_s, 2.0)))

    async def _health(self, timeout_s: float) -> Health:
        started = time.monotonic()
        try:
            response = await self.http.get("/health", timeout=timeout_s)
            if response.status_code == 404:
                response = await self.http.get("/v1/models", timeout=timeout_s)
        except httpx.HTTPError as exc:
            return Health(False, str(transport_error(exc, self.name)), (time.monotonic() - started) * 1000)
        elapsed = (time.monotonic() - started) * 1000
        if response.status_code < 300:
            return Health(True, "ok", elapsed)
        message, _ = server_message(response.content)
        return Health(False, f"{response.status_code}: {message}", elapsed)

    def close(self) -> None:
        self._finalizer.detach()
        self.loop.close(self.http.aclose())


def _tls_context(verify: bool, ca_bundle: Path | None) -> ssl.SSLContext | bool:
    if not verify:
        return False
    if ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot read the CA bundle {ca_bundle}: {exc}", key="backend.ca_bundle") from exc
