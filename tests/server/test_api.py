"""The REST API over the real engine: shapes a client relies on, and errors a client can act on."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

FIM = {"prompt": "def add(a, b):\n    ", "suffix": "\n\nprint(add(1, 2))\n", "stop": ["\n"]}


def sse_events(text: str) -> list[str]:
    return [line[6:] for line in text.splitlines() if line.startswith("data: ")]


def test_health_and_models(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "model": "qwen2.5-coder-0.5b"}
    models = client.get("/v1/models").json()
    assert models["object"] == "list"
    assert models["data"][0]["id"] == "qwen2.5-coder-0.5b"
    assert models["data"][0]["meta"]["fim"] is True


def test_completion_with_suffix_fills_in_the_middle(client: TestClient) -> None:
    body = client.post("/v1/completions", json=FIM).json()
    choice = body["choices"][0]
    assert "a + b" in choice["text"]
    assert choice["finish_reason"] == "stop"
    assert body["object"] == "text_completion"
    assert body["usage"]["completion_tokens"] >= 1
    assert body["pylot"]["fim"] is True


def test_a_repeated_deterministic_request_is_served_from_the_cache(client: TestClient) -> None:
    raw = {**FIM, "raw": True}
    first = client.post("/v1/completions", json=raw).json()
    second = client.post("/v1/completions", json=raw).json()
    assert second["choices"][0]["text"] == first["choices"][0]["text"]
    assert second["pylot"]["cached"] is True
    cache = client.get("/v1/status").json()["cache"]
    assert cache["hits"] >= 1 and cache["misses"] >= 1


def test_typing_into_a_suggestion_is_answered_from_the_typeahead_cache(client: TestClient) -> None:
    first = client.post("/v1/completions", json={**FIM, "suffix": "\n"}).json()
    text = first["choices"][0]["text"]
    assert first["pylot"]["source"] == "model" and len(text) > 3
    typed = client.post("/v1/completions", json={**FIM, "suffix": "\n", "prompt": FIM["prompt"] + text[:3]}).json()
    assert typed["pylot"]["source"] == "typeahead"
    assert typed["choices"][0]["text"] == text[3:]
    assert typed["id"] == first["id"]  # feedback for the rest refers to the same suggestion
    assert client.get("/v1/status").json()["cache"]["typeahead_hits"] == 1


def test_streaming_completion_is_server_sent_events_ending_in_done(client: TestClient) -> None:
    with client.stream(
        "POST", "/v1/completions", json={"prompt": "def main():\n", "max_tokens": 8, "stream": True}
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r.read().decode())
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    assert "".join(c["choices"][0]["text"] for c in chunks).strip()


def test_chat_completion_and_its_stream(client: TestClient) -> None:
    messages = [{"role": "user", "content": "Reply with the single word: pong"}]
    body = client.post("/v1/chat/completions", json={"messages": messages}).json()
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert "pong" in body["choices"][0]["message"]["content"].lower()
    with client.stream("POST", "/v1/chat/completions", json={"messages": messages, "stream": True, "seed": 1}) as r:
        events = sse_events(r.read().decode())
    assert events[-1] == "[DONE]"
    deltas = [json.loads(e)["choices"][0]["delta"] for e in events[:-1]]
    assert deltas[0]["role"] == "assistant"
    assert "pong" in "".join(d.get("content", "") for d in deltas).lower()


def test_infill_accepts_llama_servers_request_shape(client: TestClient) -> None:
    body = client.post(
        "/infill",
        json={
            "input_prefix": "def add(a, b):\n    ",
            "input_suffix": "\n",
            "input_extra": [{"filename": "util.py", "text": "X = 1\n"}],
            "n_predict": 12,
            "stop": ["\n"],
        },
    ).json()
    assert "a + b" in body["content"]
    assert body["stop"] is True
    assert body["tokens_predicted"] >= 1 and body["timings"]["predicted_n"] == body["tokens_predicted"]
    with client.stream(
        "POST", "/infill", json={"input_prefix": "x = ", "input_suffix": "\n", "n_predict": 4, "stream": True}
    ) as r:
        events = [json.loads(e) for e in sse_events(r.read().decode())]
    assert events[-1]["stop"] is True and all(e["stop"] is False for e in events[:-1])


def test_embeddings(client: TestClient) -> None:
    body = client.post("/v1/embeddings", json={"input": ["def f(): pass", "hello"]}).json()
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert len(body["data"][0]["embedding"]) > 100


def test_status_reports_what_the_console_shows(client: TestClient) -> None:
    client.post("/v1/completions", json={"prompt": "x = ", "max_tokens": 2})
    s = client.get("/v1/status").json()
    assert s["model"]["id"] == "qwen2.5-coder-0.5b" and s["model"]["n_ctx"] == 2048
    assert s["uptime_s"] >= 0 and s["memory"]["rss_bytes"] > 0
    assert s["requests_total"] >= 1 and s["latency_ms"]["p50"] is not None
    assert s["queue_depth"] == 0
    assert set(s["cache"]) >= {"hits", "misses", "hit_rate"}


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    client.post("/v1/completions", json={"prompt": "y = ", "max_tokens": 2})
    text = client.get("/metrics").text
    assert "pylot_requests_total" in text and "pylot_request_seconds_bucket" in text


def test_feedback_events_feed_the_acceptance_rate(client: TestClient) -> None:
    for event in ("view", "view", "accept"):
        assert client.post("/v1/events", json={"completion_id": "cmpl-1", "event": event}).status_code == 204
    fb = client.get("/v1/status").json()["feedback"]
    assert fb["views"] == 2 and fb["accepts"] == 1 and fb["acceptance_rate"] == 0.5
    bad = client.post("/v1/events", json={"completion_id": "c", "event": "love"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "event"


# ---- bad input: a 4xx that names the problem ---------------------------------------------------


def error_of(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body["error"]) == {"message", "type", "code", "param"}
    return body["error"]


def test_malformed_json_is_a_400(client: TestClient) -> None:
    r = client.post("/v1/completions", content=b"{bad", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "not valid JSON" in error_of(r)["message"]


def test_wrong_types_name_the_field(client: TestClient) -> None:
    r = client.post("/v1/completions", json={"prompt": "x", "temperature": "hot"})
    assert r.status_code == 400
    assert error_of(r)["param"] == "temperature"
    r = client.post("/v1/completions", json={"prompt": "x", "max_tokens": -5})
    assert r.status_code == 400 and error_of(r)["param"] == "max_tokens"
    r = client.post("/v1/chat/completions", json={"messages": []})
    assert r.status_code == 400 and error_of(r)["param"] == "messages"


def test_a_prompt_longer_than_the_context_is_a_400_that_says_so(client: TestClient) -> None:
    r = client.post("/v1/completions", json={"prompt": "token " * 5000})
    assert r.status_code == 400
    err = error_of(r)
    assert "context window holds 2048" in err["message"] and err["param"] == "prompt"
    r = client.post("/v1/completions", json={"prompt": "token " * 5000, "stream": True})
    assert r.status_code == 400


def test_an_unknown_model_is_a_404(client: TestClient) -> None:
    r = client.post("/v1/completions", json={"prompt": "x", "model": "gpt-4"})
    assert r.status_code == 404
    assert "qwen2.5-coder-0.5b" in error_of(r)["message"]
    assert (
        client.post("/v1/completions", json={"prompt": "x", "model": "qwen2.5-coder-0.5b", "max_tokens": 1}).status_code
        == 200
    )


def test_a_body_over_the_limit_is_a_413(client: TestClient) -> None:
    r = client.post("/v1/completions", json={"prompt": "x" * 3_000_000})
    assert r.status_code == 413
    assert "max_request_bytes" in error_of(r)["message"]


def test_unknown_route_is_an_openai_shaped_404(client: TestClient) -> None:
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and error_of(r)["type"] == "not_found_error"


# ---- API keys ------------------------------------------------------------------------------------


def test_api_key_missing_wrong_and_right(keyed_client: TestClient) -> None:
    c = keyed_client
    assert c.get("/health").status_code == 200  # the probe stays open
    missing = c.get("/v1/models")
    assert missing.status_code == 401 and error_of(missing)["type"] == "authentication_error"
    assert c.get("/v1/models", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert c.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/v1/models", headers={"X-Api-Key": "s3cret"}).status_code == 200


def test_websocket_needs_the_key_too(keyed_client: TestClient) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as info, keyed_client.websocket_connect("/ws/completions") as ws:
        ws.receive_json()
    assert info.value.code == 4401
    with keyed_client.websocket_connect("/ws/completions?api_key=s3cret") as ws:
        ws.send_json({"type": "completion", "id": "1", "prompt": "x = ", "max_tokens": 2})
        while (msg := ws.receive_json())["type"] != "done":
            assert msg["type"] == "token"


def test_config_hides_secrets(keyed_client: TestClient) -> None:
    cfg = keyed_client.get("/v1/config", headers={"X-Api-Key": "s3cret"}).json()
    assert cfg["server"]["api_keys"] == ["**********"]
    assert "s3cret" not in json.dumps(cfg)


def test_code_tools_are_served_under_v1_tools(qwen: object, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.server.conftest import make_client

    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "calc.py").write_text('def add(a, b):\n    """Add."""\n    return a + b\n')
    with make_client(qwen, tmp_path, f"tools:\n  workspace: {tmp_path / 'ws'}\n") as c:
        names = [t["name"] for t in c.get("/v1/tools").json()["data"]]
        assert {"parse_file", "rename_symbol", "search_code", "generate_tests", "add_docstrings"} <= set(names)
        r = c.post("/v1/tools/parse_file", json={"path": "calc.py"})
        assert r.status_code == 200, r.text
        assert "add" in json.dumps(r.json())
        escape = c.post("/v1/tools/parse_file", json={"path": "../../etc/passwd"})
        assert escape.status_code == 400 and escape.json()["error"]["type"] == "tool_error"
