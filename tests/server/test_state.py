"""The server's state: which model a request may name."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.server.conftest import error_of


def test_an_unknown_model_is_a_404(client: TestClient) -> None:
    r = client.post("/v1/completions", json={"prompt": "x", "model": "gpt-4"})
    assert r.status_code == 404
    assert "qwen2.5-coder-0.5b" in error_of(r)["message"]
    assert (
        client.post("/v1/completions", json={"prompt": "x", "model": "qwen2.5-coder-0.5b", "max_tokens": 1}).status_code
        == 200
    )
