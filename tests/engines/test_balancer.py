"""The Balancer over fake servers (httpx.MockTransport): routing, sessions, failover, circuit breaker, health."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from pylot.config.settings import BackendSettings
from pylot.engines.balancer import Balancer
from pylot.engines.interface import current_session, session
from pylot.engines.llama_server.client import ExternalLlamaAPIClient
from pylot.errors import BackendAuthError, BackendUnavailableError, ConfigError, RequestError
from pylot.types import GenerationParams

PARAMS = GenerationParams(max_tokens=4, temperature=0.0)
PROPS = {"default_generation_settings": {"n_ctx": 1024}, "model_path": "/m/smollm2-135m.gguf", "total_slots": 1}


class Gate(httpx.AsyncByteStream):
    """A stream that sends one token, then waits until released: a request held in flight."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'data: {"content": "held", "stop": false}\n\n'
        deadline = time.monotonic() + 5
        while not self.release.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        yield b'data: {"content": "", "stop": true, "stop_type": "eos"}\n\n'


class Fake:
    """One fake llama-server whose behaviour a test flips through `mode`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.mode = "ok"  # ok | refuse | error500 | loading | midstream | auth | bad_request | hold
        self.generations = 0
        self.release = threading.Event()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if self.mode == "refuse":
            raise httpx.ConnectError("[Errno 111] Connection refused")
        if path == "/health":
            if self.mode == "loading":
                return httpx.Response(503, json={"error": {"code": 503, "message": "Loading model"}})
            return httpx.Response(200, json={"status": "ok"})
        if path == "/props":
            return httpx.Response(200, json={**PROPS, "model_alias": self.name})
        self.generations += 1
        if self.mode == "error500":
            return httpx.Response(500, json={"error": {"message": "boom"}})
        if self.mode == "loading":
            return httpx.Response(503, json={"error": {"message": "Loading model"}})
        if self.mode == "auth":
            return httpx.Response(401, json={"error": {"message": "Invalid API Key"}})
        if self.mode == "bad_request":
            return httpx.Response(400, json={"error": {"message": "bad n_predict"}})
        headers = {"content-type": "text/event-stream"}
        if self.mode == "hold":
            return httpx.Response(200, headers=headers, stream=Gate(self.release))
        first = json.dumps({"content": self.name, "stop": False})
        if self.mode == "midstream":
            return httpx.Response(200, headers=headers, stream=Cut(f"data: {first}\n\n".encode()))
        last = json.dumps({"content": "", "stop": True, "stop_type": "eos", "tokens_predicted": 1})
        return httpx.Response(200, headers=headers, content=f"data: {first}\n\ndata: {last}\n\n".encode())


class Cut(httpx.AsyncByteStream):
    def __init__(self, first: bytes) -> None:
        self.first = first

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise httpx.ReadError("connection reset by peer")


def balancer(*fakes: Fake, **kwargs: Any) -> Balancer:
    clients = [
        ExternalLlamaAPIClient(f"http://127.0.0.1:{9000 + i}", name=f.name, retries=0, transport=httpx.MockTransport(f))
        for i, f in enumerate(fakes)
    ]
    kwargs.setdefault("health_checks", False)
    return Balancer(clients, **kwargs)


def served_by(b: Balancer) -> str:
    return b.generate("x", PARAMS).text


@pytest.fixture
def two() -> Iterator[tuple[Balancer, Fake, Fake]]:
    a, b = Fake("a"), Fake("b")
    bal = balancer(a, b, circuit_failures=2, circuit_reset_s=0.2)
    yield bal, a, b
    a.release.set()
    b.release.set()
    bal.close()


# ---- routing -------------------------------------------------------------------------------------


def test_idle_servers_take_turns(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, _, _ = two
    assert sorted(served_by(bal) for _ in range(4)) == ["a", "a", "b", "b"]


def test_the_server_with_fewer_requests_in_flight_gets_the_next_one(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, a, b = two
    a.mode = b.mode = "hold"
    first = bal.stream("x", PARAMS)
    busy = next(first).text  # held open on one server
    assert busy == "held"
    held = [s for s in bal.status() if s["in_flight"] == 1]
    assert len(held) == 1
    a.mode = b.mode = "ok"
    for _ in range(3):
        assert served_by(bal) != held[0]["name"]
    a.release.set()
    b.release.set()
    assert [c.finish_reason for c in first][-1] == "stop"
    assert all(s["in_flight"] == 0 for s in bal.status())


def test_a_session_sticks_to_one_server_and_moves_when_it_fails(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, a, b = two
    with session("editor-1"):
        home = served_by(bal)
        assert {served_by(bal) for _ in range(5)} == {home}
        (a if home == "a" else b).mode = "refuse"
        moved = served_by(bal)
        assert moved != home
        (a if home == "a" else b).mode = "ok"
        assert {served_by(bal) for _ in range(3)} == {moved}  # it stays where it moved
    assert current_session.get() is None


def test_sessions_spread_over_the_servers(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, _, _ = two
    homes = set()
    for n in range(6):
        with session(f"editor-{n}"):
            homes.add(served_by(bal))
    assert homes == {"a", "b"}


# ---- failover ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["refuse", "error500", "loading", "auth"])
def test_failover_before_the_first_token(two: tuple[Balancer, Fake, Fake], mode: str) -> None:
    bal, a, _ = two
    a.mode = mode
    assert {served_by(bal) for _ in range(4)} == {"b"}
    status = {s["name"]: s for s in bal.status()}
    assert status["a"]["failures"] >= 1 and status["b"]["failures"] == 0


def test_no_failover_once_text_reached_the_caller(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, a, b = two
    a.mode = b.mode = "midstream"
    got: list[str] = []
    with pytest.raises(BackendUnavailableError, match="connection lost"):
        for chunk in bal.stream("x", PARAMS):
            got.append(chunk.text)
    assert len(got) == 1
    assert a.generations + b.generations == 1


def test_a_bad_request_is_not_retried_elsewhere_nor_held_against_the_server(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, a, b = two
    a.mode = b.mode = "bad_request"
    with pytest.raises(RequestError, match="bad n_predict"):
        served_by(bal)
    assert a.generations + b.generations == 1
    assert all(s["failures"] == 0 for s in bal.status())


def test_when_every_server_is_down_the_error_is_quick_and_says_when_to_retry() -> None:
    a, b = Fake("a"), Fake("b")
    a.mode = b.mode = "refuse"
    bal = balancer(a, b, circuit_failures=1, circuit_reset_s=30)
    try:
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError) as info:
            served_by(bal)
        assert time.monotonic() - started < 1
        assert info.value.retry_after is not None and info.value.retry_after > 0
        # Both circuits are open now: the next request fails at once, without touching the servers.
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError, match="circuit open") as info:
            served_by(bal)
        assert time.monotonic() - started < 0.1
        assert info.value.retry_after is not None and 20 < info.value.retry_after <= 30
    finally:
        bal.close()


def test_the_last_error_is_kept_when_it_says_more_than_unavailable() -> None:
    a = Fake("a")
    a.mode = "auth"
    bal = balancer(a)
    with pytest.raises(BackendAuthError, match="Invalid API Key"):
        served_by(bal)
    bal.close()


# ---- circuit breaker and health ------------------------------------------------------------------


def test_circuit_opens_after_consecutive_failures_then_a_probe_closes_it(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, a, _ = two
    a.mode = "error500"
    for _ in range(4):
        assert served_by(bal) == "b"
    assert {s["name"]: s["state"] for s in bal.status()}["a"] == "open"
    tried = a.generations
    for _ in range(4):
        assert served_by(bal) == "b"
    assert a.generations == tried  # an open circuit gets no requests
    time.sleep(0.25)
    assert {s["name"]: s["state"] for s in bal.status()}["a"] == "half_open"
    for _ in range(4):  # the idle servers take turns, so the probe comes within two requests
        assert served_by(bal) == "b"
        if a.generations > tried:
            break
    assert a.generations == tried + 1  # one probe, which failed: open again
    assert {s["name"]: s["state"] for s in bal.status()}["a"] == "open"
    a.mode = "ok"
    time.sleep(0.25)
    assert {served_by(bal) for _ in range(4)} == {"a", "b"}
    assert {s["name"]: s["state"] for s in bal.status()}["a"] == "closed"


def test_a_server_loading_its_model_gets_no_requests_until_ready(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, a, _ = two
    a.mode = "loading"
    bal.check()
    status = {s["name"]: s for s in bal.status()}
    assert status["a"]["healthy"] is False and "Loading model" in status["a"]["detail"]
    assert {served_by(bal) for _ in range(4)} == {"b"}
    assert a.generations == 0
    a.mode = "ok"
    bal.check()
    assert {served_by(bal) for _ in range(4)} == {"a", "b"}


def test_health_thread_checks_in_the_background_and_close_stops_it() -> None:
    a, b = Fake("a"), Fake("b")
    b.mode = "refuse"
    bal = balancer(a, b, health_checks=True, health_interval_s=0.05)
    deadline = time.monotonic() + 5
    while {s["name"]: s["healthy"] for s in bal.status()} != {"a": True, "b": False}:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    b.mode = "ok"
    while not all(s["healthy"] for s in bal.status()):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    bal.close()
    assert not any(t.is_alive() for t in threading.enumerate() if t.name.startswith("pylot-health"))


def test_status_lists_every_server() -> None:
    bal = balancer(Fake("a"))
    served_by(bal)
    (entry,) = bal.status()
    assert entry["name"] == "a" and entry["url"] == "http://127.0.0.1:9000"
    assert entry["state"] == "closed" and entry["requests"] == 1 and entry["in_flight"] == 0
    assert isinstance(entry["latency_ms"], float)
    assert set(entry) >= {"name", "url", "healthy", "state", "latency_ms", "in_flight", "requests", "failures"}
    bal.close()


def test_capabilities_come_from_a_server_and_are_remembered(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, a, b = two
    a.mode = "refuse"
    assert bal.capabilities().model_id == "b"
    b.mode = "refuse"
    assert bal.capabilities().model_id == "b"
    down = balancer(Fake("c"))
    down.clients[0].transport.http._transport = httpx.MockTransport(lambda _: httpx.Response(503))
    with pytest.raises(BackendUnavailableError):
        down.capabilities()
    down.close()


def test_many_threads_at_once_leave_nothing_in_flight(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, _, _ = two
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(20):
                served_by(bal)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    status = bal.status()
    assert sum(s["requests"] for s in status) == 160
    assert all(s["in_flight"] == 0 for s in status)
    assert min(s["requests"] for s in status) > 40


# ---- configuration -------------------------------------------------------------------------------


def test_from_settings_takes_external_url_and_servers() -> None:
    settings = BackendSettings(
        kind="external",
        external_url="http://127.0.0.1:8081",
        servers=[{"url": "http://127.0.0.1:8082", "name": "second"}],  # type: ignore[list-item]
        retries=3,
    )
    bal = Balancer.from_settings(settings, transport=httpx.MockTransport(Fake("x")))
    try:
        assert [c.name for c in bal.clients] == ["http://127.0.0.1:8081", "second"]
        assert all(c.retries == 0 for c in bal.clients)  # several servers: failover instead of retries
    finally:
        bal.close()
    one = Balancer.from_settings(BackendSettings(external_url="http://localhost:8081", retries=3), transport=None)
    try:
        assert one.clients[0].retries == 3
    finally:
        one.close()
    with pytest.raises(ConfigError):
        Balancer([])


def test_close_lets_requests_in_flight_finish(two: tuple[Balancer, Fake, Fake]) -> None:
    """A live switch closes the old balancer while it may still be streaming."""
    bal, a, b = two
    a.mode = b.mode = "hold"
    stream = bal.stream("x", PARAMS)
    assert next(stream).text == "held"
    closer = threading.Thread(target=bal.close)
    closer.start()
    time.sleep(0.2)
    assert closer.is_alive()  # waiting for the request
    a.release.set()
    b.release.set()
    assert [c.finish_reason for c in stream][-1] == "stop"
    closer.join(5)
    assert not closer.is_alive()


def test_a_client_closed_under_a_stream_is_an_error_not_a_short_answer(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, a, b = two
    a.mode = b.mode = "hold"
    stream = bal.stream("x", PARAMS)
    assert next(stream).text == "held"
    for client in bal.clients:
        client.close()
    with pytest.raises(BackendUnavailableError, match="closed"):
        list(stream)


def test_of_several_failures_the_one_that_says_most_is_raised(two: tuple[Balancer, Fake, Fake]) -> None:
    bal, a, b = two
    a.mode, b.mode = "auth", "refuse"
    for _ in range(2):  # whichever server is tried first
        with pytest.raises(BackendAuthError, match="Invalid API Key"):
            served_by(bal)
