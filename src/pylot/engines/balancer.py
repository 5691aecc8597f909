"""Balancer: several external servers behind one LLMInterface.

- Health: a thread per server asks GET /health every `health_interval_s`; a server still loading its
  model (503) is not ready and gets no requests.
- Routing: the ready server with the fewest requests in flight (ties go round-robin), unless the
  request belongs to a session: consecutive requests of one session go to the server that served the
  last one, so keystrokes from one editor reuse that server's KV cache.
- Failover: a connection error, timeout or error status before the first chunk sends the request to
  the next server; after the first chunk an error reaches the caller (the text cannot be taken back).
- Circuit breaker per server: `circuit_failures` consecutive failures open it (no requests); after
  `circuit_reset_s` it is half-open and one request probes it; success closes it, failure reopens it.
- When no server can take a request, BackendUnavailableError with `retry_after` comes at once.

Sessions: the server sets `engines.interface.current_session` per request (from the
`X-Pylot-Session` header or the OpenAI `user` field); `with session("editor-123"): ...` does the same in
code. The variable is read when a stream is created, in the thread that creates it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import httpx

from pylot.config.settings import BackendSettings, ExternalServer
from pylot.engines.interface import CancelToken, Capabilities, LLMInterface, Snippet, current_session
from pylot.engines.llama_server.client import ExternalLlamaAPIClient
from pylot.errors import BackendError, BackendUnavailableError, ConfigError
from pylot.types import Chunk, GenerationParams

log = logging.getLogger(__name__)

CircuitState = Literal["closed", "open", "half_open"]
T = TypeVar("T")

_EWMA = 0.3  # weight of the newest latency sample
_MAX_SESSIONS = 10_000


@dataclass
class _Backend:
    """One server and what the balancer knows of it; guarded by the balancer's lock."""

    index: int
    client: ExternalLlamaAPIClient
    healthy: bool | None = None  # None until the first health check
    detail: str = ""
    consecutive_failures: int = 0
    failures: int = 0
    requests: int = 0
    in_flight: int = 0
    opened_at: float | None = None
    probing: bool = False
    latency_ms: float | None = None  # EWMA of the time to the first chunk
    health_ms: float | None = None

    def state(self, now: float, reset_s: float) -> CircuitState:
        if self.opened_at is None:
            return "closed"
        return "half_open" if now - self.opened_at >= reset_s else "open"


@dataclass(frozen=True)
class _Lease:
    """One request's hold on a server; `probe` if it is the half-open circuit's one trial."""

    backend: _Backend
    probe: bool


class Balancer(LLMInterface):
    """Requests spread over `clients`; thread-safe. Call `close()` to stop the health checks."""

    def __init__(
        self,
        clients: Sequence[ExternalLlamaAPIClient],
        *,
        health_interval_s: float = 5.0,
        circuit_failures: int = 3,
        circuit_reset_s: float = 10.0,
        retries: int = 2,
        health_checks: bool = True,
    ) -> None:
        if not clients:
            raise ConfigError("the balancer needs at least one server", key="backend.servers")
        self._backends = [_Backend(i, c) for i, c in enumerate(clients)]
        self.health_interval_s = health_interval_s
        self.circuit_failures = circuit_failures
        self.circuit_reset_s = circuit_reset_s
        self.retries = retries
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._sessions: OrderedDict[str, int] = OrderedDict()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        if health_checks:
            for backend in self._backends:
                thread = threading.Thread(
                    target=self._health_loop, args=(backend,), name=f"pylot-health-{backend.index}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    @classmethod
    def from_settings(cls, settings: BackendSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> Balancer:
        """The configured servers (`servers`, plus `external_url` as one more), each checked by the policy."""
        servers = list(settings.servers)
        if settings.external_url and all(s.url.rstrip("/") != settings.external_url.rstrip("/") for s in servers):
            servers.insert(0, ExternalServer(url=settings.external_url))
        if not servers:
            raise ConfigError(
                "backend.kind is 'external' but no server is configured: set backend.external_url or backend.servers",
                key="backend.servers",
            )
        # With one server the client retries it; with several, trying the next server is the better retry.
        retries = settings.retries if len(servers) == 1 else 0
        clients = [
            ExternalLlamaAPIClient.from_settings(s, settings, retries=retries, transport=transport) for s in servers
        ]
        return cls(
            clients,
            health_interval_s=settings.health_interval_s,
            circuit_failures=settings.circuit_failures,
            circuit_reset_s=settings.circuit_reset_s,
            retries=settings.retries,
        )

    @property
    def clients(self) -> list[ExternalLlamaAPIClient]:
        return [b.client for b in self._backends]

    # ---- health ----------------------------------------------------------------------------------

    def _health_loop(self, backend: _Backend) -> None:
        while not self._stop.is_set():
            self.check(backend.index)
            self._stop.wait(self.health_interval_s)

    def check(self, index: int | None = None) -> None:
        """Run the health check now, for one server or for all of them."""
        for backend in self._backends if index is None else [self._backends[index]]:
            result = backend.client.health()
            with self._lock:
                came_back = result.ok and backend.healthy is False
                if result.ok != backend.healthy:
                    log.log(
                        logging.INFO if result.ok else logging.WARNING,
                        "%s is %s",
                        backend.client.name,
                        "ready" if result.ok else f"not ready: {result.detail}",
                    )
                backend.healthy, backend.detail = result.ok, result.detail
                backend.health_ms = result.latency_ms if result.ok else None
            if came_back:
                backend.client.refresh()  # it may have restarted with another model

    # ---- routing ---------------------------------------------------------------------------------

    def _eligible(self, backend: _Backend, now: float) -> bool:
        if backend.healthy is False:
            return False
        state = backend.state(now, self.circuit_reset_s)
        return state == "closed" or (state == "half_open" and not backend.probing)

    def _acquire(self, key: str | None, tried: set[int]) -> _Lease | None:
        with self._lock:
            now = time.monotonic()
            candidates = [b for b in self._backends if b.index not in tried and self._eligible(b, now)]
            if not candidates:
                return None
            chosen: _Backend | None = None
            if key is not None:
                index = self._sessions.get(key)
                chosen = next((b for b in candidates if b.index == index), None)
            if chosen is None:
                turn = next(self._turn)
                n = len(self._backends)
                chosen = min(candidates, key=lambda b: (b.in_flight, (b.index - turn) % n))
            if key is not None:
                self._sessions[key] = chosen.index
                self._sessions.move_to_end(key)
                while len(self._sessions) > _MAX_SESSIONS:
                    self._sessions.popitem(last=False)
            probe = chosen.state(now, self.circuit_reset_s) == "half_open"
            chosen.probing = chosen.probing or probe
            chosen.in_flight += 1
            chosen.requests += 1
            return _Lease(chosen, probe)

    def _release(self, lease: _Lease, error: BaseException | None, first_chunk_s: float | None) -> None:
        backend = lease.backend
        with self._lock:
            backend.in_flight -= 1
            if lease.probe:
                backend.probing = False
            if first_chunk_s is not None:
                ms = first_chunk_s * 1000
                old = backend.latency_ms
                backend.latency_ms = ms if old is None else (1 - _EWMA) * old + _EWMA * ms
            if not isinstance(error, BackendError):
                backend.consecutive_failures = 0
                backend.opened_at = None
                return
            backend.failures += 1
            backend.consecutive_failures += 1
            state = backend.state(time.monotonic(), self.circuit_reset_s)
            if state == "half_open" or backend.consecutive_failures >= self.circuit_failures:
                if state != "open":
                    log.warning(
                        "%s: circuit open after %d failures (%s)",
                        backend.client.name,
                        backend.consecutive_failures,
                        error,
                    )
                backend.opened_at = time.monotonic()

    def _unavailable(self) -> BackendUnavailableError:
        with self._lock:
            now = time.monotonic()
            waits = [
                b.opened_at + self.circuit_reset_s - now
                for b in self._backends
                if b.opened_at is not None and b.healthy is not False
            ]
            down = ", ".join(f"{b.client.name} ({self._why(b, now)})" for b in self._backends)
        retry = min(waits) if waits else self.health_interval_s
        return BackendUnavailableError(f"no external server can take the request: {down}", retry_after=max(0.5, retry))

    def _why(self, backend: _Backend, now: float) -> str:
        if backend.healthy is False:
            return f"not ready: {backend.detail}"
        state = backend.state(now, self.circuit_reset_s)
        return "circuit open" if state == "open" else "probe in flight" if backend.probing else "failed"

    def _attempts(self) -> int:
        return max(1, min(self.retries + 1, len(self._backends)))

    def _route(self, call: Callable[[ExternalLlamaAPIClient], Iterator[Chunk]], key: str | None) -> Iterator[Chunk]:
        tried: set[int] = set()
        last: BackendError | None = None
        for _ in range(self._attempts()):
            lease = self._acquire(key, tried)
            if lease is None:
                break
            backend = lease.backend
            tried.add(backend.index)
            started = time.monotonic()
            first: float | None = None
            error: BaseException | None = None
            try:
                for chunk in call(backend.client):
                    if first is None:
                        first = time.monotonic() - started
                    yield chunk
                return
            except BackendError as exc:
                error = exc
                if first is not None:
                    raise  # text already reached the caller: no failover
                log.warning("%s failed before the first token (%s); trying another server", backend.client.name, exc)
                last = _telling(last, exc)
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._release(lease, error, first)
        if last is not None and not isinstance(last, BackendUnavailableError):
            raise last
        raise self._unavailable() from last

    def _call(self, fn: Callable[[ExternalLlamaAPIClient], T]) -> T:
        """A non-streaming request, with the same routing and failover."""
        tried: set[int] = set()
        last: BackendError | None = None
        for _ in range(self._attempts()):
            lease = self._acquire(current_session.get(), tried)
            if lease is None:
                break
            backend = lease.backend
            tried.add(backend.index)
            error: BaseException | None = None
            try:
                return fn(backend.client)
            except BackendError as exc:
                error, last = exc, _telling(last, exc)
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._release(lease, error, None)
        if last is not None and not isinstance(last, BackendUnavailableError):
            raise last
        raise self._unavailable() from last

    # ---- LLMInterface ----------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """The first server's model that is known; asked of the servers in turn when none is."""
        for backend in self._backends:
            caps = backend.client.known_capabilities
            if caps is not None:
                return caps
        with self._lock:
            now = time.monotonic()
            order = sorted(self._backends, key=lambda b: not self._eligible(b, now))
        last: BackendError | None = None
        for backend in order:
            try:
                return backend.client.capabilities()
            except BackendError as exc:
                last = _telling(last, exc)
        if last is not None and not isinstance(last, BackendUnavailableError):
            raise last
        raise self._unavailable() from last

    def stream(self, prompt: str, params: GenerationParams, cancel: CancelToken | None = None) -> Iterator[Chunk]:
        return self._route(lambda c: c.stream(prompt, params, cancel), current_session.get())

    def stream_infill(
        self,
        prefix: str,
        suffix: str,
        params: GenerationParams,
        extra: Sequence[Snippet] = (),
        cancel: CancelToken | None = None,
        *,
        middle: str = "",
    ) -> Iterator[Chunk]:
        return self._route(
            lambda c: c.stream_infill(prefix, suffix, params, extra, cancel, middle=middle), current_session.get()
        )

    def stream_chat(
        self,
        messages: Sequence[dict[str, Any]],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        *,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> Iterator[Chunk]:
        return self._route(lambda c: c.stream_chat(messages, params, cancel, tools=tools), current_session.get())

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._call(lambda c: c.embed(texts))

    def tokenize(self, text: str) -> list[int]:
        return self._call(lambda c: c.tokenize(text))

    @property
    def queue_depth(self) -> int:
        with self._lock:
            return sum(b.in_flight for b in self._backends)

    def status(self) -> list[dict[str, Any]]:
        """One entry per server, for /v1/status and the console."""
        with self._lock:
            now = time.monotonic()
            return [
                {
                    "name": b.client.name,
                    "url": b.client.url,
                    "healthy": b.healthy is True,
                    "state": b.state(now, self.circuit_reset_s),
                    "latency_ms": round(b.latency_ms, 1) if b.latency_ms is not None else None,
                    "health_ms": round(b.health_ms, 1) if b.health_ms is not None else None,
                    "in_flight": b.in_flight,
                    "requests": b.requests,
                    "failures": b.failures,
                    "consecutive_failures": b.consecutive_failures,
                    "detail": b.detail,
                }
                for b in self._backends
            ]

    def close(self, drain_s: float = 30.0) -> None:
        """Stop the health checks; let requests in flight finish (up to `drain_s`), then close the clients.

        The server calls this on the old balancer after a live switch, while the new one already serves.
        """
        self._stop.set()
        deadline = time.monotonic() + drain_s
        while self.queue_depth and time.monotonic() < deadline:
            time.sleep(0.05)
        for thread in self._threads:
            thread.join(timeout=10)
        for backend in self._backends:
            backend.client.close()


def _telling(kept: BackendError | None, new: BackendError) -> BackendError:
    """Of two failures, the one that says more: anything beats 'unavailable' (which the caller reports itself)."""
    if kept is None or isinstance(kept, BackendUnavailableError):
        return new
    return kept
