"""POST /v1/completions over the real engine: the OpenAI shape, its stream, and a prompt too long to answer."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.server.conftest import error_of, sse_events

FIM = {"prompt": "def add(a, b):\n    ", "suffix": "\n\nprint(add(1, 2))\n", "stop": ["\n"]}


def test_completion_with_suffix_fills_in_the_middle(client: TestClient) -> None:
    body = client.post("/v1/completions", json=FIM).json()
    choice = body["choices"][0]
    assert "a + b" in choice["text"]
    assert choice["finish_reason"] == "stop"
    assert body["object"] == "text_completion"
    assert body["usage"]["completion_tokens"] >= 1
    assert body["pylot"]["fim"] is True


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


def test_a_prompt_longer_than_the_context_is_a_400_that_says_so(client: TestClient) -> None:
    r = client.post("/v1/completions", json={"prompt": "token " * 5000})
    assert r.status_code == 400
    err = error_of(r)
    assert "context window holds 2048" in err["message"] and err["param"] == "prompt"
    r = client.post("/v1/completions", json={"prompt": "token " * 5000, "stream": True})
    assert r.status_code == 400
