"""POST /infill, llama-server's fill-in-the-middle route, over the real engine."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.server.conftest import sse_events


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
