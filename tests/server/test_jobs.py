"""Generation jobs: a request that may be cached is answered from the result cache the second time."""

from __future__ import annotations

from fastapi.testclient import TestClient

FIM = {"prompt": "def add(a, b):\n    ", "suffix": "\n\nprint(add(1, 2))\n", "stop": ["\n"]}


def test_a_repeated_deterministic_request_is_served_from_the_cache(client: TestClient) -> None:
    raw = {**FIM, "raw": True}
    first = client.post("/v1/completions", json=raw).json()
    second = client.post("/v1/completions", json=raw).json()
    assert second["choices"][0]["text"] == first["choices"][0]["text"]
    assert second["pylot"]["cached"] is True
    cache = client.get("/v1/status").json()["cache"]
    assert cache["hits"] >= 1 and cache["misses"] >= 1
