"""POST /v1/events: an editor's feedback on its suggestions."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_feedback_events_feed_the_acceptance_rate(client: TestClient) -> None:
    for event in ("view", "view", "accept"):
        assert client.post("/v1/events", json={"completion_id": "cmpl-1", "event": event}).status_code == 204
    fb = client.get("/v1/status").json()["feedback"]
    assert fb["views"] == 2 and fb["accepts"] == 1 and fb["acceptance_rate"] == 0.5
    bad = client.post("/v1/events", json={"completion_id": "c", "event": "love"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "event"
