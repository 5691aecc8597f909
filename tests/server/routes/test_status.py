"""GET /v1/status (what the console shows) and GET /metrics (Prometheus) over the real engine."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_status_reports_what_the_console_shows(client: TestClient) -> None:
    client.post("/v1/completions", json={"prompt": "x = ", "max_tokens": 2})
    s = client.get("/v1/status").json()
    assert s["model"]["id"] == "qwen2.5-coder-0.5b" and s["model"]["n_ctx"] == 2048
    assert s["uptime_s"] >= 0 and s["memory"]["rss_bytes"] > 0
    assert s["requests_total"] >= 1 and s["latency_ms"]["p50"] is not None
    assert s["queue_depth"] == 0
    assert set(s["cache"]) >= {"hits", "misses", "hit_rate"}


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    client.post("/v1/completions", json={"prompt": "y = ", "max_tokens": 2})
    text = client.get("/metrics").text
    assert "pylot_requests_total" in text and "pylot_request_seconds_bucket" in text
