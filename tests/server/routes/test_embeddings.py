"""POST /v1/embeddings over the real engine."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_embeddings(client: TestClient) -> None:
    body = client.post("/v1/embeddings", json={"input": ["def f(): pass", "hello"]}).json()
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert len(body["data"][0]["embedding"]) > 100
