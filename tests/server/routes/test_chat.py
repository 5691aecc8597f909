"""POST /v1/chat/completions over the real engine: an answer and its stream."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.server.conftest import sse_events


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
