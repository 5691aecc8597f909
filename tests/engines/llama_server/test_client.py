"""ExternalLlamaAPIClient through httpx.MockTransport: shapes, SSE parsing, error mapping, retries, cancel."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from pylot.engines.interface import CancelToken, Snippet
from pylot.engines.llama_server.client import ExternalLlamaAPIClient
from pylot.engines.llama_server.sse_decode import Event, SSEDecoder
from pylot.errors import (
    BackendAuthError,
    BackendResponseError,
    BackendTimeoutError,
    BackendUnavailableError,
    CapabilityError,
    ContextLengthError,
    RequestError,
)
from pylot.types import Chunk, GenerationParams

PARAMS = GenerationParams(max_tokens=16, temperature=0.0)
PROPS = {
    "default_generation_settings": {"n_ctx": 2048},
    "model_path": "/models/qwen2.5-coder-0.5b.gguf",
    "total_slots": 2,
    "chat_template": "{{ messages }}",
    "build_info": "b1-test",
}
SSE = {"content-type": "text/event-stream"}

Handler = Callable[[httpx.Request], httpx.Response]


class Drip(httpx.AsyncByteStream):
    """A response body delivered `step` bytes at a time; remembers whether it was closed."""

    def __init__(self, body: bytes, step: int = 1, *, fail_after: int | None = None, delay_s: float = 0.0) -> None:
        self.body, self.step, self.fail_after, self.delay_s = body, step, fail_after, delay_s
        self.closed = False
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.body), self.step):
            if self.fail_after is not None and i >= self.fail_after:
                raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            self.sent = i + self.step
            yield self.body[i : i + self.step]

    async def aclose(self) -> None:
        self.closed = True


class FakeServer:
    """Answers by path, like a llama-server or an OpenAI server would; records every request."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(request.url.path)
        if route is None:
            return httpx.Response(404, json={"error": {"message": "File Not Found", "type": "not_found_error"}})
        return route(request)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path == path]

    def client(self, **kwargs: Any) -> ExternalLlamaAPIClient:
        kwargs.setdefault("backoff_s", 0.001)
        return ExternalLlamaAPIClient("http://127.0.0.1:9", transport=httpx.MockTransport(self), **kwargs)


def sse(*payloads: Any, end: str = "\n\n") -> bytes:
    out = []
    for p in payloads:
        data = p if isinstance(p, str) else json.dumps(p, ensure_ascii=False)
        out.append(f"data: {data}{end}")
    return "".join(out).encode("utf-8")


def native_tokens(*pieces: str, stop_type: str = "eos") -> bytes:
    chunks: list[Any] = [{"content": p, "stop": False, "tokens_predicted": i + 1} for i, p in enumerate(pieces)]
    chunks.append(
        {"content": "", "stop": True, "stop_type": stop_type, "tokens_predicted": len(pieces), "tokens_evaluated": 7}
    )
    return sse(*chunks)


def streamed(body: bytes, step: int = 1, **kwargs: Any) -> Handler:
    return lambda _: httpx.Response(200, headers=SSE, stream=Drip(body, step, **kwargs))


def llama(**routes: Handler) -> FakeServer:
    base: dict[str, Handler] = {"/props": lambda _: httpx.Response(200, json=PROPS)}
    base.update({"/" + k.replace("__", "/"): v for k, v in routes.items()})
    return FakeServer(base)


def text_of(chunks: list[Chunk]) -> str:
    return "".join(c.text for c in chunks)


# ---- the SSE parser -------------------------------------------------------------------------------


def test_sse_events_comments_multiline_data_and_fields() -> None:
    d = SSEDecoder()
    events = d.feed(b": ping\n\ndata: one\n\nevent: error\nid: 7\ndata: a\ndata:b\n\n:\n\ndata: [DONE]\n\n")
    # the last event id stays until another is given, as the standard says
    assert events == [Event("one"), Event("a\nb", "error", "7"), Event("[DONE]", id="7")]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_sse_split_at_every_byte_gives_the_same_events_and_whole_characters(newline: str) -> None:
    text = 'data: {"content": "é😀中"}NLNL: keep-alive pingNLNLdata: x\\nNLdata: yNLNL'.replace("NL", newline)
    whole = SSEDecoder().feed(text.encode("utf-8"))
    d = SSEDecoder()
    pieces: list[Event] = []
    for byte in text.encode("utf-8"):
        pieces += d.feed(bytes([byte]))
    assert pieces == whole == [Event('{"content": "é😀中"}'), Event("x\\n\ny")]


def test_sse_crlf_split_between_reads_is_one_line_break() -> None:
    d = SSEDecoder()
    assert d.feed(b"data: a\r") == []
    assert d.feed(b"\n\r") == [Event("a")]
    assert d.feed(b"\ndata: b\r\n\r\n") == [Event("b")]


def test_sse_end_of_stream_keeps_a_complete_event_and_drops_a_cut_line() -> None:
    d = SSEDecoder()
    assert d.feed(b"data: last\n") == []
    assert d.flush() == [Event("last")]
    d = SSEDecoder()
    d.feed(b'data: {"cut')
    assert d.flush() == []


# ---- llama-server's native endpoints --------------------------------------------------------------


def test_completion_streams_byte_by_byte_with_pings_and_split_utf8() -> None:
    body = b": ping\n\n" + native_tokens("Hé", "llo 😀", " wörld")
    server = llama(completion=streamed(body, step=1))
    chunks = list(server.client().stream("Say hi", PARAMS))
    assert text_of(chunks) == "Héllo 😀 wörld"
    assert [c.finish_reason for c in chunks][-1] == "stop"
    assert all(c.finish_reason is None for c in chunks[:-1])
    assert (chunks[-1].prompt_tokens, chunks[-1].completion_tokens) == (7, 3)
    body_sent = server.bodies("/completion")[0]
    assert body_sent["prompt"] == "Say hi" and body_sent["stream"] is True and body_sent["n_predict"] == 16


def test_limit_stop_type_is_length_and_the_final_chunk_may_carry_text() -> None:
    body = sse(
        {"content": "a", "stop": False},
        {"content": "b", "stop": True, "stop_type": "limit", "tokens_predicted": 2, "tokens_evaluated": 3},
    )
    chunks = list(llama(completion=streamed(body, step=7)).client().stream("x", PARAMS))
    assert text_of(chunks) == "ab"
    assert chunks[-1].finish_reason == "length"


def test_infill_sends_prefix_suffix_and_extra_files() -> None:
    server = llama(infill=streamed(native_tokens("a + b"), step=64))
    extra = [Snippet("utils.py", "def helper(): ...\n")]
    r = server.client().infill("def add(a, b):\n    return ", "\n", PARAMS, extra)
    assert r.text == "a + b"
    sent = server.bodies("/infill")[0]
    assert sent["input_prefix"] == "def add(a, b):\n    return "
    assert sent["input_suffix"] == "\n"
    assert sent["input_extra"] == [{"filename": "utils.py", "text": "def helper(): ...\n"}]
    assert sent["prompt"] == ""


def test_infill_sends_the_typed_line_as_llama_servers_prompt() -> None:
    server = llama(infill=streamed(native_tokens(" + b"), step=64))
    r = server.client().infill("def add(a, b):\n", "\n", PARAMS, middle="    return a")
    sent = server.bodies("/infill")[0]
    assert (sent["input_prefix"], sent["prompt"], r.text) == ("def add(a, b):\n", "    return a", " + b")


def test_a_warm_up_sends_n_predict_0_and_gives_no_text() -> None:
    # Some llama-server builds sample one token for n_predict 0; a warm-up's caller asked for none.
    server = llama(infill=streamed(native_tokens("x", stop_type="limit"), step=64))
    chunks = list(server.client().stream_infill("def f():\n", "\n", GenerationParams(max_tokens=0), middle="    re"))
    sent = server.bodies("/infill")[0]
    assert (sent["n_predict"], sent["cache_prompt"], sent["prompt"]) == (0, True, "    re")
    assert text_of(chunks) == ""
    assert (chunks[-1].finish_reason, chunks[-1].prompt_tokens, chunks[-1].completion_tokens) == ("length", 7, 0)


def test_a_warm_up_sends_nothing_to_an_openai_server() -> None:
    server = openai_server(streamed(b""))
    client = ExternalLlamaAPIClient("http://127.0.0.1:9/v1/", transport=httpx.MockTransport(server), backoff_s=0.001)
    chunks = list(client.stream_infill("return ", "\n", GenerationParams(max_tokens=0)))
    assert [(c.text, c.finish_reason) for c in chunks] == [("", "length")]
    assert server.bodies("/v1/completions") == []


def test_chat_goes_to_the_openai_chat_endpoint_with_llama_extras() -> None:
    body = sse(
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {"choices": [{"index": 0, "delta": {"content": "Hi"}}]},
        {"choices": [{"index": 0, "delta": {"content": " there"}, "finish_reason": None}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 2}},
        "[DONE]",
    )
    server = llama(v1__chat__completions=streamed(body, step=5))
    r = server.client().chat([{"role": "user", "content": "hello"}], PARAMS)
    assert (r.text, r.finish_reason, r.prompt_tokens, r.tokens_used) == ("Hi there", "stop", 11, 2)
    sent = server.bodies("/v1/chat/completions")[0]
    assert sent["messages"] == [{"role": "user", "content": "hello"}]
    assert sent["top_k"] == PARAMS.top_k and "model" not in sent


def test_capabilities_from_props_and_the_fim_probe() -> None:
    server = llama(infill=lambda _: httpx.Response(400, json={"error": {"message": '"prompt" must be a string'}}))
    caps = server.client().capabilities()
    assert (caps.model_id, caps.n_ctx, caps.fim, caps.chat) == ("qwen2.5-coder-0.5b", 2048, True, True)
    assert caps.extra["backend"] == "llama-server"
    no_fim = llama(
        infill=lambda _: httpx.Response(
            501,
            json={"error": {"code": 501, "message": "Infill is not supported by this model: prefix token is missing."}},
        )
    )
    assert no_fim.client().capabilities().fim is False


def test_infill_on_a_model_without_fim_is_a_capability_error_with_the_servers_message() -> None:
    message = "Infill is not supported by this model: prefix token is missing. "
    server = llama(infill=lambda _: httpx.Response(501, json={"error": {"code": 501, "message": message}}))
    with pytest.raises(CapabilityError, match="prefix token is missing"):
        server.client().infill("a", "b", PARAMS)


def test_tokenize_and_embeddings() -> None:
    server = llama(
        tokenize=lambda _: httpx.Response(200, json={"tokens": [9707, 1879]}),
        v1__embeddings=lambda _: httpx.Response(
            200, json={"data": [{"index": 1, "embedding": [0.0, 1.0]}, {"index": 0, "embedding": [1.0, 0.0]}]}
        ),
    )
    client = server.client()
    assert client.tokenize("hello world") == [9707, 1879]
    assert server.bodies("/tokenize")[0] == {"content": "hello world", "add_special": False, "parse_special": False}
    assert client.embed(["a", "b"]) == [[1.0, 0.0], [0.0, 1.0]]


def test_a_server_that_ignores_stream_true_answers_one_json() -> None:
    answer = {"content": "whole", "stop": True, "stop_type": "eos", "tokens_predicted": 1, "tokens_evaluated": 2}
    server = llama(completion=lambda _: httpx.Response(200, json=answer))
    assert server.client().generate("x", PARAMS).text == "whole"


# ---- OpenAI-compatible servers -------------------------------------------------------------------


def openai_server(completions: Handler) -> FakeServer:
    return FakeServer(
        {
            "/v1/models": lambda _: httpx.Response(
                200, json={"object": "list", "data": [{"id": "coder-7b", "object": "model", "max_model_len": 8192}]}
            ),
            "/v1/completions": completions,
        }
    )


def test_without_props_the_openai_endpoints_are_used_fim_through_suffix() -> None:
    body = sse(
        {"choices": [{"index": 0, "text": "a +", "finish_reason": None}]},
        {"choices": [{"index": 0, "text": " b", "finish_reason": "length"}]},
        "[DONE]",
    )
    server = openai_server(streamed(body, step=3))
    client = ExternalLlamaAPIClient("http://127.0.0.1:9/v1/", transport=httpx.MockTransport(server), backoff_s=0.001)
    chunks = list(client.stream_infill("return ", "\n", PARAMS))
    assert client.dialect == "openai"
    assert text_of(chunks) == "a + b"
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].completion_tokens == 2  # counted, as the server sent no usage
    sent = server.bodies("/v1/completions")[0]
    assert (sent["prompt"], sent["suffix"], sent["model"], sent["max_tokens"]) == ("return ", "\n", "coder-7b", 16)
    assert "top_k" not in sent  # only standard OpenAI fields go to a non-llama server
    caps = client.capabilities()
    assert (caps.model_id, caps.n_ctx, caps.extra["backend"]) == ("coder-7b", 8192, "openai")


def test_openai_stream_without_done_ends_at_eof_after_a_finish_reason() -> None:
    body = sse({"choices": [{"index": 0, "text": "ok", "finish_reason": "stop"}]})
    assert openai_server(streamed(body)).client().generate("x", PARAMS).text == "ok"


# ---- errors --------------------------------------------------------------------------------------


def fails_with(status: int, body: Any, **headers: str) -> FakeServer:
    def answer(_: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return llama(completion=answer)


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (
            401,
            {"error": {"message": "Invalid API Key", "type": "authentication_error"}},
            BackendAuthError,
            "Invalid API",
        ),
        (403, {"detail": "forbidden"}, BackendAuthError, "forbidden"),
        (
            400,
            {"error": {"message": "request (5000 tokens) exceeds the available context size (2048 tokens)"}},
            ContextLengthError,
            "5000 tokens",
        ),
        (400, {"error": {"message": "x", "type": "exceed_context_size_error"}}, ContextLengthError, "x"),
        (400, {"error": {"message": '"n_predict" must be a number'}}, RequestError, "n_predict"),
        (501, {"error": {"message": "not supported"}}, CapabilityError, "not supported"),
        (500, {"error": {"message": "boom"}}, BackendResponseError, "500: boom"),
        (500, b"<html>Internal Server Error</html>", BackendResponseError, "Internal Server Error"),
        (503, {"error": {"message": "Loading model"}}, BackendUnavailableError, "Loading model"),
    ],
)
def test_error_statuses_map_to_the_exception_tree_keeping_the_servers_message(
    status: int, body: Any, error: type[Exception], message: str
) -> None:
    server = fails_with(status, body)
    with pytest.raises(error, match=message) as info:
        list(server.client(retries=0).stream("x", PARAMS))
    if status == 400:
        assert not isinstance(info.value, BackendResponseError)


def test_garbage_bodies_are_backend_response_errors() -> None:
    text_plain = llama(completion=lambda _: httpx.Response(200, content=b"\x00\xffnot json"))
    with pytest.raises(BackendResponseError, match="neither an event stream nor JSON"):
        list(text_plain.client().stream("x", PARAMS))
    bad_event = llama(completion=streamed(b"data: {not json}\n\n"))
    with pytest.raises(BackendResponseError, match="not JSON"):
        list(bad_event.client().stream("x", PARAMS))


def test_an_error_event_in_the_stream_is_raised_with_its_message() -> None:
    body = sse(
        {"content": "a", "stop": False}, {"error": {"code": 500, "message": "slot crashed", "type": "server_error"}}
    )
    chunks: list[Chunk] = []
    with pytest.raises(BackendResponseError, match="slot crashed"):
        for chunk in llama(completion=streamed(body, step=4)).client().stream("x", PARAMS):
            chunks.append(chunk)
    assert text_of(chunks) == "a"


def raising(exc: Exception) -> Handler:
    def answer(_: httpx.Request) -> httpx.Response:
        raise exc

    return answer


def test_connection_refused_is_unavailable_and_timeouts_are_timeouts() -> None:
    refused = llama(completion=raising(httpx.ConnectError("[Errno 111] Connection refused")))
    with pytest.raises(BackendUnavailableError, match="cannot connect"):
        list(refused.client(retries=0).stream("x", PARAMS))
    slow = llama(completion=raising(httpx.ReadTimeout("timed out")))
    with pytest.raises(BackendTimeoutError, match="timed out"):
        list(slow.client(retries=0).stream("x", PARAMS))
    no_route = FakeServer({"/props": raising(httpx.ConnectError("[Errno -2] Name or service not known"))})
    with pytest.raises(BackendUnavailableError, match="Name or service"):
        no_route.client(retries=0).capabilities()


def test_total_timeout_bounds_a_stream_that_drips() -> None:
    body = sse(*({"content": "x", "stop": False} for _ in range(200)))
    server = llama(completion=streamed(body, step=8, delay_s=0.01))
    started = time.monotonic()
    with pytest.raises(BackendTimeoutError, match="total_timeout_s"):
        list(server.client(total_timeout_s=0.3).stream("x", PARAMS))
    assert time.monotonic() - started < 2


# ---- retries -------------------------------------------------------------------------------------


def flaky(failures: list[Handler], then: Handler) -> Handler:
    queue = list(failures)

    def answer(request: httpx.Request) -> httpx.Response:
        return queue.pop(0)(request) if queue else then(request)

    return answer


def test_retries_503_502_and_refused_connections_before_anything_was_streamed() -> None:
    server = llama(
        completion=flaky(
            [
                lambda _: httpx.Response(503, json={"error": {"message": "Loading model"}}),
                raising(httpx.ConnectError("refused")),
                lambda _: httpx.Response(502, text="bad gateway"),
            ],
            streamed(native_tokens("ok"), step=16),
        )
    )
    assert server.client(retries=3).generate("x", PARAMS).text == "ok"
    assert len(server.bodies("/completion")) == 4


def test_gives_up_after_the_configured_retries() -> None:
    server = llama(completion=raising(httpx.ConnectError("refused")))
    with pytest.raises(BackendUnavailableError):
        list(server.client(retries=2).stream("x", PARAMS))
    assert len([r for r in server.requests if r.url.path == "/completion"]) == 3


@pytest.mark.parametrize(
    "answer",
    [
        lambda _: httpx.Response(500, json={"error": {"message": "boom"}}),
        lambda _: httpx.Response(400, json={"error": {"message": "bad"}}),
        lambda _: httpx.Response(401, json={"error": {"message": "Invalid API Key"}}),
    ],
)
def test_no_retry_for_errors_that_would_repeat(answer: Handler) -> None:
    server = llama(completion=answer)
    with pytest.raises((BackendResponseError, RequestError, BackendAuthError)):
        list(server.client(retries=3).stream("x", PARAMS))
    assert len(server.bodies("/completion")) == 1


def test_no_retry_once_a_chunk_was_streamed() -> None:
    body = native_tokens("first", "second", "third")
    server = llama(completion=streamed(body, step=8, fail_after=96))  # the cut comes inside the 2nd event
    received: list[Chunk] = []
    with pytest.raises(BackendUnavailableError, match="connection lost"):
        for chunk in server.client(retries=3).stream("x", PARAMS):
            received.append(chunk)
    assert text_of(received) == "first"
    assert len(server.bodies("/completion")) == 1


# ---- cancellation and limits ---------------------------------------------------------------------


def eventually(condition: Callable[[], bool], timeout_s: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_cancel_token_ends_the_stream_and_closes_the_response() -> None:
    drip = Drip(native_tokens(*["tok"] * 50), step=16, delay_s=0.005)
    server = llama(completion=lambda _: httpx.Response(200, headers=SSE, stream=drip))
    cancel = CancelToken()
    chunks: list[Chunk] = []
    for chunk in server.client().stream("x", PARAMS, cancel):
        chunks.append(chunk)
        if len(chunks) == 2:
            cancel.cancel()
    assert chunks[-1].finish_reason == "cancelled"
    assert len(chunks) == 3
    assert eventually(lambda: drip.closed) and drip.sent < len(drip.body)


def test_closing_the_iterator_closes_the_response() -> None:
    drip = Drip(native_tokens(*["tok"] * 50), step=16, delay_s=0.005)
    server = llama(completion=lambda _: httpx.Response(200, headers=SSE, stream=drip))
    stream = server.client().stream("x", PARAMS)
    assert next(stream).text == "tok"
    stream.close()  # type: ignore[attr-defined]
    assert eventually(lambda: drip.closed) and drip.sent < len(drip.body)


def test_cancel_works_while_the_server_has_not_answered_yet() -> None:
    """llama-server sends its headers only with the first token: a cancel must not wait for them."""

    async def slow(_: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        return httpx.Response(200, headers=SSE, content=native_tokens("late"))

    server = llama(completion=slow)  # type: ignore[arg-type]
    cancel = CancelToken()
    threading.Timer(0.2, cancel.cancel).start()
    started = time.monotonic()
    chunks = list(server.client().stream("x", PARAMS, cancel))
    assert [c.finish_reason for c in chunks] == ["cancelled"]
    assert time.monotonic() - started < 1


def test_a_cancelled_token_sends_nothing() -> None:
    server = llama(completion=streamed(native_tokens("x")))
    cancel = CancelToken()
    cancel.cancel()
    assert [c.finish_reason for c in server.client().stream("x", PARAMS, cancel)] == ["cancelled"]
    assert server.bodies("/completion") == []


def test_time_limit_keeps_the_text_so_far() -> None:
    server = llama(completion=streamed(native_tokens(*["t"] * 100), step=20, delay_s=0.01))
    params = GenerationParams(max_tokens=100, time_limit_s=0.05)
    r = server.client().generate("x", params)
    assert r.finish_reason == "time_limit"
    assert 0 < len(r.text) < 100


# ---- auth, health, construction ------------------------------------------------------------------


def test_api_key_is_sent_as_bearer_and_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = "sk-test-7f3a9c-secret"
    server = llama(completion=streamed(native_tokens("ok")))
    client = server.client(api_key=key)
    client.generate("x", PARAMS)
    client.capabilities()
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {key}"}
    unauthorized = fails_with(401, {"error": {"message": "Invalid API Key"}})
    with pytest.raises(BackendAuthError):
        unauthorized.client(api_key=key).generate("x", PARAMS)
    assert caplog.records
    for record in caplog.records:
        assert key not in record.getMessage()
    assert key not in repr(client) and key not in repr(client.transport.http.headers)


def test_health_ready_loading_and_openai_fallback() -> None:
    ready = FakeServer({"/health": lambda _: httpx.Response(200, json={"status": "ok"})})
    assert ready.client().health().ok
    loading = FakeServer(
        {"/health": lambda _: httpx.Response(503, json={"error": {"code": 503, "message": "Loading model"}})}
    )
    h = loading.client().health()
    assert not h.ok and "Loading model" in h.detail
    assert openai_server(streamed(b"")).client().health().ok
    down = FakeServer({"/health": raising(httpx.ConnectError("refused"))})
    assert not down.client().health().ok


def test_base_url_from_host_and_port() -> None:
    assert ExternalLlamaAPIClient(host="127.0.0.1", port=8081).url == "http://127.0.0.1:8081"
    assert ExternalLlamaAPIClient(host="::1", port=8081).url == "http://[::1]:8081"
    assert ExternalLlamaAPIClient("http://u:pw@127.0.0.1:1/").name == "http://127.0.0.1:1"


def test_a_closed_client_says_so() -> None:
    client = llama(completion=streamed(native_tokens("x"))).client()
    client.close()
    with pytest.raises(BackendUnavailableError, match="closed"):
        client.generate("x", PARAMS)
    client.close()  # twice is fine


# ---- the specification's forms -------------------------------------------------------------------


def test_the_specifications_constructor_url_key_and_timeout() -> None:
    server = openai_server(streamed(sse({"choices": [{"index": 0, "text": "ok", "finish_reason": "stop"}]})))
    client = ExternalLlamaAPIClient("http://127.0.0.1:9/v1", "sk-spec-key", 5, transport=httpx.MockTransport(server))
    assert client.url == "http://127.0.0.1:9"
    assert client.transport.http.timeout.read == 5
    assert client.generate("x", max_tokens=3).text == "ok"
    assert {r.headers["authorization"] for r in server.requests} == {"Bearer sk-spec-key"}
    assert ExternalLlamaAPIClient("http://127.0.0.1:9").transport.http.timeout.read == 30  # the default
    finer = ExternalLlamaAPIClient("http://127.0.0.1:9", timeout=5, read_timeout_s=60, connect_timeout_s=1)
    assert (finer.transport.http.timeout.read, finer.transport.http.timeout.connect) == (60, 1)


def test_generate_is_awaitable_in_a_coroutine_over_v1_completions_with_bearer_auth() -> None:
    body = sse(
        {"choices": [{"index": 0, "text": "return", "finish_reason": None}]},
        {"choices": [{"index": 0, "text": " a + b", "finish_reason": "length"}]},
        "[DONE]",
    )
    server = openai_server(streamed(body, step=4))
    client = ExternalLlamaAPIClient("http://127.0.0.1:9", api_key="sk-async", transport=httpx.MockTransport(server))

    async def main() -> Any:
        return await client.generate("def add(a, b):\n    ", max_tokens=4, top_p=0.9)

    r = asyncio.run(main())
    assert (r.text, r.finish_reason) == ("return a + b", "length")
    (sent,) = server.bodies("/v1/completions")
    assert (sent["prompt"], sent["max_tokens"], sent["temperature"], sent["top_p"]) == (
        "def add(a, b):\n    ",
        4,
        0.7,
        0.9,
    )
    assert {r.headers["authorization"] for r in server.requests} == {"Bearer sk-async"}


def test_an_unknown_keyword_fails_at_the_call_in_a_coroutine_too() -> None:
    client = ExternalLlamaAPIClient("http://127.0.0.1:9", transport=httpx.MockTransport(FakeServer({})))

    async def main() -> None:
        with pytest.raises(TypeError, match="'max_length'"):
            client.generate("x", max_length=4)

    asyncio.run(main())


def test_cancelling_the_awaiting_task_cancels_the_generation() -> None:
    server = llama(completion=streamed(native_tokens(*["t"] * 200), step=8, delay_s=0.02))
    client = server.client()
    token = CancelToken()

    async def main() -> None:
        task = asyncio.ensure_future(client.generate("x", cancel=token, max_tokens=200))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert token.cancelled
