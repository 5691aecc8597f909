"""The ASGI middleware: API keys over HTTP and WebSocket, and the request size limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from pylot.server.middleware import CLOSE_UNAUTHORIZED
from tests.server.conftest import error_of


def test_a_body_over_the_limit_is_a_413(client: TestClient) -> None:
    r = client.post("/v1/completions", json={"prompt": "x" * 3_000_000})
    assert r.status_code == 413
    assert "max_request_bytes" in error_of(r)["message"]


def test_api_key_missing_wrong_and_right(keyed_client: TestClient) -> None:
    c = keyed_client
    assert c.get("/health").status_code == 200  # the probe stays open
    missing = c.get("/v1/models")
    assert missing.status_code == 401 and error_of(missing)["type"] == "authentication_error"
    assert c.get("/v1/models", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert c.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/v1/models", headers={"X-Api-Key": "s3cret"}).status_code == 200


def test_websocket_needs_the_key_too(keyed_client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info, keyed_client.websocket_connect("/ws/completions") as ws:
        ws.receive_json()
    assert info.value.code == CLOSE_UNAUTHORIZED
    with keyed_client.websocket_connect("/ws/completions?api_key=s3cret") as ws:
        ws.send_json({"type": "completion", "id": "1", "prompt": "x = ", "max_tokens": 2})
        while (msg := ws.receive_json())["type"] != "done":
            assert msg["type"] == "token"
