"""ExternalLlamaAPIClient and Pylot's server against a real llama.cpp llama-server."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from pylot.config.config_manager import ConfigManager
from pylot.engines.balancer import Balancer
from pylot.engines.interface import CancelToken, Snippet
from pylot.engines.llama_server.client import ExternalLlamaAPIClient
from pylot.errors import BackendAuthError, CapabilityError, ContextLengthError
from pylot.server import PylotServer, create_app
from pylot.types import Chunk, GenerationParams
from tests.integration.faults import free_port
from tests.llama_servers import API_KEY, LlamaProcess

pytestmark = [pytest.mark.model, pytest.mark.slow]

GREEDY = GenerationParams(max_tokens=12, temperature=0.0)


@pytest.fixture
def smollm(smollm_server: LlamaProcess) -> Iterator[ExternalLlamaAPIClient]:
    client = ExternalLlamaAPIClient(smollm_server.url, api_key=API_KEY, read_timeout_s=30)
    yield client
    client.close()


@pytest.fixture
def qwen(qwen_server: LlamaProcess) -> Iterator[ExternalLlamaAPIClient]:
    client = ExternalLlamaAPIClient(qwen_server.url, read_timeout_s=30)
    yield client
    client.close()


# ---- the client ----------------------------------------------------------------------------------


def test_completion_and_capabilities(smollm: ExternalLlamaAPIClient) -> None:
    caps = smollm.capabilities()
    assert smollm.dialect == "llama"
    assert caps.model_id == "smollm2-135m" and caps.n_ctx > 0 and caps.chat
    assert caps.fim is False  # SmolLM2 has no FIM tokens
    r = smollm.generate("The capital of France is", GREEDY)
    assert r.text.strip()
    assert r.finish_reason in ("stop", "length") and 1 <= r.tokens_used <= 12
    assert r.prompt_tokens >= 5


def test_streaming_gives_many_chunks_then_one_final(smollm: ExternalLlamaAPIClient) -> None:
    chunks = list(smollm.stream("1, 2, 3, 4, 5,", GenerationParams(max_tokens=16, temperature=0.0)))
    assert len([c for c in chunks if c.text]) >= 4
    assert [c.finish_reason for c in chunks].count(None) == len(chunks) - 1
    assert chunks[-1].finish_reason == "length" and chunks[-1].completion_tokens == 16


def test_chat(smollm: ExternalLlamaAPIClient) -> None:
    r = smollm.chat([{"role": "user", "content": "Say hello."}], GREEDY)
    assert r.text.strip() and r.prompt_tokens > 0 and r.tokens_used > 0


def test_infill_with_extra_files_on_a_fim_model(qwen: ExternalLlamaAPIClient) -> None:
    assert qwen.capabilities().fim
    r = qwen.infill(
        "def add(a, b):\n    return ",
        "\n\nprint(add(1, 2))\n",
        GenerationParams(max_tokens=8, temperature=0.0, stop=["\n"]),
        [Snippet("notes.py", "# add returns the sum of a and b\n")],
    )
    assert "a + b" in r.text
    assert "<|fim" not in r.text


def test_infill_on_a_model_without_fim_names_the_missing_tokens(smollm: ExternalLlamaAPIClient) -> None:
    with pytest.raises(CapabilityError, match="Infill is not supported"):
        smollm.infill("a", "b", GREEDY)


def test_tokenize_and_context_overflow(smollm: ExternalLlamaAPIClient) -> None:
    assert len(smollm.tokenize("hello world")) == 2
    with pytest.raises(ContextLengthError, match="context"):
        smollm.generate("word " * 3000, GREEDY)


def test_cancel_closes_the_stream_and_the_server_frees_the_slot(smollm: ExternalLlamaAPIClient) -> None:
    cancel = CancelToken()
    chunks = []
    for chunk in smollm.stream("1, 2, 3, 4, 5,", GenerationParams(max_tokens=400, temperature=0.0), cancel):
        chunks.append(chunk)
        if len(chunks) == 3:
            cancel.cancel()
    assert chunks[-1].finish_reason == "cancelled" and len(chunks) == 4
    deadline = time.monotonic() + 5
    while any(slot.get("is_processing") for slot in smollm.slots()):  # llama-server stopped generating
        assert time.monotonic() < deadline, "the server kept generating after the connection closed"
        time.sleep(0.05)


def prompt_tokens_processed(server: LlamaProcess) -> int:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    return int(float(re.search(r"^llamacpp:prompt_tokens_total (\S+)$", text, re.M).group(1)))  # type: ignore[union-attr]


def test_a_warm_up_fills_the_slot_so_the_next_infill_evaluates_only_the_typed_text(
    qwen: ExternalLlamaAPIClient, qwen_server: LlamaProcess
) -> None:
    helpers = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(12))
    prefix, suffix = "import os\n\n" + helpers + "def main():\n", "\n\nmain()\n"
    qwen.generate("# another file\n", GenerationParams(max_tokens=1))  # the one slot holds something else
    warm = qwen.infill(prefix, suffix, GenerationParams(max_tokens=0), middle="    path = os.path.j")
    assert (warm.text, warm.tokens_used, warm.finish_reason) == ("", 0, "length")
    assert warm.prompt_tokens > 100
    evaluated = prompt_tokens_processed(qwen_server)
    r = qwen.infill(prefix, suffix, GenerationParams(max_tokens=4, temperature=0.0), middle="    path = os.path.jo")
    assert r.text and prompt_tokens_processed(qwen_server) - evaluated <= 8


def test_a_cancelled_request_waiting_for_a_busy_server_never_runs_there(
    qwen: ExternalLlamaAPIClient, qwen_server: LlamaProcess
) -> None:
    """One slot: while A generates, B waits in llama-server's queue. Cancelling B closes its connection
    before any answer came, and llama-server drops B without reading its prompt."""
    params = GenerationParams(max_tokens=400, temperature=0.0)
    prompt_a = "# numbers\n" + "".join(f"a{i} = {i}\n" for i in range(30))
    prompt_b = "# words\n" + "".join(f"b{i} = 'w{i}'\n" for i in range(60))
    before = prompt_tokens_processed(qwen_server)
    a_cancel = CancelToken()
    a_chunks: list[Chunk] = []
    a_running = threading.Event()

    def run_a() -> None:
        for chunk in qwen.stream(prompt_a, params, a_cancel):
            a_chunks.append(chunk)
            a_running.set()

    a = threading.Thread(target=run_a)
    a.start()
    try:
        assert a_running.wait(60)
        b_cancel = CancelToken()
        threading.Timer(0.2, b_cancel.cancel).start()
        started = time.monotonic()
        b = list(qwen.stream(prompt_b, params, b_cancel))
        assert [c.finish_reason for c in b] == ["cancelled"]
        assert time.monotonic() - started < 2
        time.sleep(0.5)  # A still holds the slot while llama-server notices B's closed connection
    finally:
        a_cancel.cancel()
        a.join(60)
    assert a_chunks[-1].finish_reason == "cancelled"
    time.sleep(0.5)
    processed = prompt_tokens_processed(qwen_server) - before
    assert processed <= len(qwen.tokenize(prompt_a)) + 2  # A's prompt, and nothing of B's


def test_api_key_right_wrong_and_missing(smollm_server: LlamaProcess) -> None:
    for key in ("wrong-key", None):
        client = ExternalLlamaAPIClient(smollm_server.url, api_key=key)
        with pytest.raises(BackendAuthError, match="Invalid API Key"):
            client.generate("x", GREEDY)
        assert client.health().ok  # /health needs no key
        client.close()


def test_the_key_never_reaches_the_logs(smollm_server: LlamaProcess, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log every request and header event at DEBUG
    client = ExternalLlamaAPIClient(smollm_server.url, api_key=API_KEY)
    client.generate("x", GREEDY)
    with pytest.raises(BackendAuthError):
        ExternalLlamaAPIClient(smollm_server.url, api_key=API_KEY + "-wrong").generate("x", GREEDY)
    client.close()
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    for record in caplog.records:
        assert API_KEY not in record.getMessage()


# ---- Pylot's server with an external backend -----------------------------------------------------


def pylot_app(tmp_path: Path, servers: list[tuple[str, str | None]]) -> TestClient:
    lines = ["backend:", "  kind: external", "  health_interval_s: 0.5", "  servers:"]
    for url, key in servers:
        lines.append(f"    - url: {url}")
        if key:
            lines.append(f"      api_key: {key}")
    # The editor pipeline keeps only finished lines past its time limit; on a busy 2-core machine the
    # first request alone can take longer than the default 3 s.
    lines += ["generation:", "  temperature: 0.0", "  max_tokens: 8", "completion:", "  time_limit_s: 60"]
    path = tmp_path / "pylot.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return TestClient(create_app(ConfigManager(path, environ={})), base_url="http://127.0.0.1:8080")


def test_pylot_serves_completions_chat_and_infill_from_external_servers(
    tmp_path: Path, smollm_server: LlamaProcess, qwen_server: LlamaProcess
) -> None:
    with pylot_app(tmp_path, [(qwen_server.url, None)]) as app:
        assert isinstance(app.app.state.pylot.engine, Balancer)  # type: ignore[attr-defined]
        r = app.post("/v1/completions", json={"prompt": "def add(a, b):\n    return ", "suffix": "\n", "stop": ["\n"]})
        assert r.status_code == 200, r.text
        assert "a + b" in r.json()["choices"][0]["text"]
        r = app.post("/infill", json={"input_prefix": "x = 1 +", "input_suffix": "\n", "n_predict": 4})
        assert r.status_code == 200 and r.json()["stop"] is True
        assert app.get("/health").json()["model"] == "qwen2.5-coder-0.5b"
    with pylot_app(tmp_path, [(smollm_server.url, API_KEY)]) as app:
        with app.stream(
            "POST", "/v1/chat/completions", json={"messages": [{"role": "user", "content": "Hi"}], "stream": True}
        ) as r:
            assert r.status_code == 200
            lines = [line for line in r.iter_lines() if line.startswith("data: ")]
        assert lines[-1] == "data: [DONE]" and len(lines) >= 3
        with app.stream("POST", "/v1/completions", json={"prompt": "1, 2, 3,", "stream": True}) as r:
            events = [line for line in r.iter_lines() if line.startswith("data: ")]
        assert events[-1] == "data: [DONE]" and len(events) >= 3
        status = app.get("/v1/status").json()
        assert status["model"]["id"] == "smollm2-135m"
        (backend,) = status["backends"]  # the balancer's view: health, latency, load
        assert backend["url"] == smollm_server.url and backend["healthy"] is True
        assert backend["requests"] >= 2 and backend["in_flight"] == 0 and backend["latency_ms"] is not None


def test_pylot_reports_a_wrong_backend_key_as_a_backend_auth_error(tmp_path: Path, smollm_server: LlamaProcess) -> None:
    with pylot_app(tmp_path, [(smollm_server.url, "wrong-key")]) as app:
        r = app.post("/v1/completions", json={"prompt": "x"})
        assert r.status_code == 502
        assert r.json()["error"]["type"] == "backend_auth_error"
        assert "Invalid API Key" in r.json()["error"]["message"]
        assert "wrong-key" not in r.text


def test_pylot_answers_503_with_retry_after_when_the_backend_is_down(tmp_path: Path) -> None:
    with pylot_app(tmp_path, [(f"http://127.0.0.1:{free_port()}", None)]) as app:
        started = time.monotonic()
        r = app.post("/v1/completions", json={"prompt": "x"})
        assert r.status_code == 503, r.text
        assert "Retry-After" in r.headers
        assert time.monotonic() - started < 2


def test_pylot_in_front_of_llama_server_is_itself_an_openai_compatible_backend(
    tmp_path: Path, qwen_server: LlamaProcess
) -> None:
    """Chained over real sockets: client -> PylotServer (external backend) -> llama-server."""
    port = free_port()
    path = tmp_path / "pylot.yaml"
    path.write_text(
        f"server:\n  port: {port}\nbackend:\n  kind: external\n  external_url: {qwen_server.url}\n"
        "completion:\n  time_limit_s: 60\n",
        encoding="utf-8",
    )
    server = PylotServer(ConfigManager(path, environ={}), watch_config=False)
    url = server.start(timeout_s=30)
    try:
        client = ExternalLlamaAPIClient(url, read_timeout_s=30)
        assert client.dialect == "openai"  # Pylot has no /props
        assert client.capabilities().model_id == "qwen2.5-coder-0.5b"
        r = client.infill(
            "def add(a, b):\n    return ", "\n", GenerationParams(max_tokens=8, temperature=0.0, stop=["\n"])
        )
        assert "a + b" in r.text
        client.close()
    finally:
        server.stop()


def test_an_editor_session_sticks_to_one_server_through_pylot(tmp_path: Path, qwen_server: LlamaProcess) -> None:
    """X-Pylot-Session reaches the balancer, so one editor's keystrokes reuse one server's KV cache."""
    twin = qwen_server.url.replace("127.0.0.1", "localhost")  # the same server under a second name
    with pylot_app(tmp_path, [(qwen_server.url, None), (twin, None)]) as app:

        def counts() -> list[int]:
            return sorted(b["requests"] for b in app.get("/v1/status").json()["backends"])

        def send(session: str) -> None:
            for i in range(3):
                r = app.post(
                    "/v1/completions",
                    headers={"X-Pylot-Session": session},
                    json={"prompt": f"{session[-1]}{i} = ", "suffix": "\n", "raw": True, "max_tokens": 2},
                )
                assert r.status_code == 200, r.text

        send("editor-a")
        assert counts() == [0, 3]  # without stickiness the idle servers would take turns: [1, 2]
        send("editor-b")
        assert counts() in ([0, 6], [3, 3])
