"""Network faults against real llama-servers: each ends in a clear error or a failover, never a hang."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pylot.engines.balancer import Balancer
from pylot.engines.llama_server.client import ExternalLlamaAPIClient
from pylot.errors import (
    BackendError,
    BackendResponseError,
    BackendTimeoutError,
    BackendUnavailableError,
)
from pylot.types import Chunk, GenerationParams
from tests.integration.faults import (
    CannedServer,
    FaultProxy,
    SilentListener,
    free_port,
    json_route,
    make_certificates,
)
from tests.llama_servers import API_KEY, LlamaProcess

pytestmark = [pytest.mark.model, pytest.mark.slow]

SHORT = GenerationParams(max_tokens=6, temperature=0.0)
LONG = GenerationParams(max_tokens=300, temperature=0.0)
COUNTING = "1, 2, 3, 4, 5, 6,"


def client(url: str, **kwargs: object) -> ExternalLlamaAPIClient:
    kwargs.setdefault("connect_timeout_s", 1.0)
    kwargs.setdefault("read_timeout_s", 10.0)
    kwargs.setdefault("retries", 0)
    return ExternalLlamaAPIClient(url, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def proxy(smollm_server: LlamaProcess) -> Iterator[FaultProxy]:
    p = FaultProxy(smollm_server.port)
    yield p
    p.kill()


def test_server_killed_in_the_middle_of_a_stream(doomed_server: LlamaProcess) -> None:
    c = client(doomed_server.url)
    got: list[Chunk] = []
    killed_at = 0.0
    with pytest.raises(BackendUnavailableError, match=r"connection lost|ended before"):
        for chunk in c.stream(COUNTING, LONG):
            got.append(chunk)
            if len(got) == 3:
                killed_at = time.monotonic()
                doomed_server.kill()
    assert time.monotonic() - killed_at < 2  # the kernel resets the connection: no timeout involved
    assert 3 <= len(got) < 300
    with pytest.raises(BackendUnavailableError, match="cannot connect"):
        c.generate("x", SHORT)  # and afterwards: refused at once


def test_a_server_that_accepts_and_never_answers_times_out() -> None:
    silent = SilentListener()
    try:
        started = time.monotonic()
        with pytest.raises(BackendTimeoutError, match="timed out"):
            client(silent.url, read_timeout_s=0.5).generate("x", SHORT)
        assert time.monotonic() - started < 3
    finally:
        silent.close()


def test_connection_refused_is_quick() -> None:
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError, match="cannot connect"):
        client(f"http://127.0.0.1:{free_port()}", retries=2, backoff_s=0.05).generate("x", SHORT)
    assert time.monotonic() - started < 2


def test_500_and_garbage_bodies_from_a_real_http_server() -> None:
    canned = CannedServer(
        {
            "/v1/models": json_route(200, {"data": [{"id": "canned"}]}),
            "/v1/completions": json_route(500, {"error": {"message": "CUDA error: out of memory"}}),
            "/v1/chat/completions": lambda: (200, "text/html", b"<html>\xff\xfe not json</html>"),
        }
    )
    try:
        c = client(canned.url)
        with pytest.raises(BackendResponseError, match="500: CUDA error") as info:
            c.generate("x", SHORT)
        assert info.value.status_code == 500
        with pytest.raises(BackendResponseError, match="neither an event stream nor JSON"):
            c.chat([{"role": "user", "content": "hi"}], SHORT)
        canned.routes["/v1/chat/completions"] = lambda: (200, "text/event-stream", b"data: {oops\n\n")
        with pytest.raises(BackendResponseError, match="not JSON"):
            c.chat([{"role": "user", "content": "hi"}], SHORT)
    finally:
        canned.close()


def test_slow_answers_through_a_delaying_proxy(proxy: FaultProxy) -> None:
    proxy.delay_s = 0.05
    r = client(proxy.url, api_key=API_KEY, read_timeout_s=15).generate(COUNTING, SHORT)
    assert r.text and r.finish_reason == "length"
    proxy.delay_s = 1.5
    started = time.monotonic()
    with pytest.raises(BackendTimeoutError):
        client(proxy.url, api_key=API_KEY, read_timeout_s=0.5).generate(COUNTING, SHORT)
    assert time.monotonic() - started < 5


def test_a_connection_cut_mid_stream(proxy: FaultProxy) -> None:
    proxy.cut_after = 600  # the headers and a few events of the first answer on the connection
    got: list[Chunk] = []
    with pytest.raises(BackendUnavailableError, match=r"connection lost|ended before"):
        for chunk in client(proxy.url, api_key=API_KEY, dialect="llama").stream(COUNTING, LONG):
            got.append(chunk)
    assert got, "some text arrived before the cut"


def test_resets_are_retried_until_the_server_is_back(proxy: FaultProxy) -> None:
    proxy.mode = "reset"
    with pytest.raises(BackendUnavailableError):
        client(proxy.url, api_key=API_KEY).generate("x", SHORT)
    threading.Timer(0.15, lambda: setattr(proxy, "mode", "pass")).start()
    r = client(proxy.url, api_key=API_KEY, retries=4, backoff_s=0.05).generate(COUNTING, SHORT)
    assert r.text


def test_balancer_fails_over_from_a_hung_server(smollm_server: LlamaProcess) -> None:
    silent = SilentListener()
    hung = client(silent.url, read_timeout_s=0.5, dialect="llama")
    good = client(smollm_server.url, api_key=API_KEY)
    bal = Balancer([hung, good], health_checks=False, circuit_failures=1, circuit_reset_s=600)
    expected = good.generate(COUNTING, SHORT).text
    try:
        # Round-robin sends one of the two requests to the hung server first: it times out after 0.5 s,
        # its circuit opens, and the request is answered by the good one.
        for _ in range(2):
            started = time.monotonic()
            assert bal.generate(COUNTING, SHORT).text == expected
            assert time.monotonic() - started < 60  # a server that never answers is given up after 0.5 s
        hung_status, good_status = bal.status()
        assert (hung_status["requests"], hung_status["failures"], hung_status["state"]) == (1, 1, "open")
        assert (good_status["requests"], good_status["failures"], good_status["state"]) == (2, 0, "closed")
        # With its circuit open the hung server gets nothing: the next request goes straight to the good one.
        assert bal.generate(COUNTING, SHORT).text == expected
        assert [s["requests"] for s in bal.status()] == [1, 3]
    finally:
        bal.close()
        silent.close()


def test_one_of_two_servers_goes_down_while_requests_keep_flowing(smollm_server: LlamaProcess) -> None:
    """One real server behind two proxies; one proxy dies mid-run (its machine gone).

    Requests that start after the death never fail; a request streaming through the dying proxy at
    that moment may end with a clear BackendError (its text cannot be replayed), but never hangs.
    """
    a, b = FaultProxy(smollm_server.port), FaultProxy(smollm_server.port)
    bal = Balancer(
        [client(a.url, api_key=API_KEY, name="a"), client(b.url, api_key=API_KEY, name="b")],
        health_interval_s=0.2,
        circuit_failures=2,
        circuit_reset_s=5,
    )
    outcomes: list[tuple[float, float, str]] = []  # (start, end, "ok" or the error)
    lock = threading.Lock()
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            start = time.monotonic()
            try:
                text = bal.generate(COUNTING, GenerationParams(max_tokens=4, temperature=0.0)).text
                result = "ok" if text else "empty"
            except BackendError as exc:
                result = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes.append((start, time.monotonic(), result))

    def wait_for(condition: Callable[[], bool], timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            assert time.monotonic() < deadline, "the requests stopped flowing"
            time.sleep(0.05)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        wait_for(lambda: all(s["requests"] >= 2 for s in bal.status()))  # both proxies carry traffic
        killed_at = time.monotonic()
        a.kill()
        wait_for(lambda: len([o for o in outcomes if o[0] > killed_at]) >= 8)
        stop.set()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)
        after = [o for o in outcomes if o[0] > killed_at]
        assert [o for o in after if o[2] != "ok"] == []
        around = [o for o in outcomes if o[0] <= killed_at < o[1]]
        assert all(o[2] == "ok" or "Backend" in o[2] for o in around)
        wait_for(lambda: not {s["name"]: s for s in bal.status()}["a"]["healthy"], 5)
        assert {s["name"]: s for s in bal.status()}["b"]["healthy"]
    finally:
        stop.set()
        bal.close()
        a.kill()
        b.kill()


def test_all_servers_down_is_a_quick_503_shaped_error() -> None:
    ports = [free_port(), free_port()]
    bal = Balancer([client(f"http://127.0.0.1:{p}") for p in ports], health_checks=False, circuit_failures=1)
    try:
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(BackendUnavailableError) as info:
                bal.generate("x", SHORT)
            assert time.monotonic() - started < 1
            assert info.value.retry_after is not None
    finally:
        bal.close()


def test_tls_is_verified_and_a_private_ca_can_be_trusted(tmp_path: Path) -> None:
    ca, cert, key = make_certificates(tmp_path)
    models = json_route(200, {"data": [{"id": "tls-model"}]})
    server = CannedServer({"/v1/models": models, "/health": json_route(200, {"status": "ok"})}, tls=(cert, key))
    try:
        with pytest.raises(BackendUnavailableError, match=r"CERTIFICATE_VERIFY_FAILED.*ca_bundle"):
            client(server.url).capabilities()
        assert client(server.url, ca_bundle=ca).capabilities().model_id == "tls-model"
        assert client(server.url, verify_tls=False).health().ok
    finally:
        server.close()
