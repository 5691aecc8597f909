"""/ws/completions: streaming tokens and cancelling by message, on the real engine."""

from __future__ import annotations

from fastapi.testclient import TestClient


def collect(ws, rid: str) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    text = ""
    while True:
        msg = ws.receive_json()
        assert msg["id"] == rid, msg
        if msg["type"] == "token":
            text += msg["text"]
        elif msg["type"] in ("done", "error"):
            return text, msg


def test_tokens_stream_then_done(client: TestClient) -> None:
    with client.websocket_connect("/ws/completions") as ws:
        ws.send_json(
            {
                "type": "completion",
                "id": "a",
                "prompt": "def add(a, b):\n    ",
                "suffix": "\n",
                "max_tokens": 12,
                "stop": ["\n"],
            }
        )
        text, done = collect(ws, "a")
    assert "a + b" in text
    assert done["type"] == "done" and done["finish_reason"] == "stop"
    assert done["usage"]["completion_tokens"] >= 1


def test_cancel_message_stops_the_generation(client: TestClient) -> None:
    with client.websocket_connect("/ws/completions") as ws:
        ws.send_json(
            {
                "type": "completion",
                "id": "b",
                "prompt": "def long():\n",
                "max_tokens": 400,
                "temperature": 0.0,
            }
        )
        first = ws.receive_json()
        assert first["type"] == "token"
        ws.send_json({"type": "cancel", "id": "b"})
        _, done = collect(ws, "b")
    assert done["finish_reason"] == "cancelled"
    assert done["usage"]["completion_tokens"] < 400


def test_bad_messages_get_an_error_not_a_disconnect(client: TestClient) -> None:
    with client.websocket_connect("/ws/completions") as ws:
        ws.send_json({"type": "dance", "id": "c"})
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "completion", "id": "d", "prompt": "x", "max_tokens": "many"})
        err = ws.receive_json()
        assert err["type"] == "error" and "invalid request" in err["message"]
        ws.send_json({"type": "completion", "id": "e", "prompt": "x = ", "max_tokens": 2})
        _, done = collect(ws, "e")
        assert done["type"] == "done"
