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


def test_the_same_request_gets_the_same_answer_over_http_and_the_websocket(client: TestClient) -> None:
    """One builder for both transports: a suffix means the editor pipeline on each, a prompt list of two is
    refused on each."""
    body = {
        "prompt": "def is_even(n):\n    ",
        "suffix": "\n\nprint(is_even(4))\n",
        "max_tokens": 16,
        "temperature": 0.0,
        "language": "python",
    }
    over_http = client.post("/v1/completions", json=body).json()
    with client.websocket_connect("/ws/completions") as ws:
        ws.send_json({"type": "completion", "id": "e", **body})
        text, done = collect(ws, "e")
        assert text == over_http["choices"][0]["text"] and text
        assert done["finish_reason"] == over_http["choices"][0]["finish_reason"]

        ws.send_json({"type": "completion", "id": "f", "prompt": ["a", "b"], "max_tokens": 4})
        _, error = collect(ws, "f")
        assert error["type"] == "error" and "one prompt" in error["message"]
    refused = client.post("/v1/completions", json={"prompt": ["a", "b"], "max_tokens": 4})
    assert refused.status_code == 400 and "one prompt" in refused.json()["error"]["message"]
