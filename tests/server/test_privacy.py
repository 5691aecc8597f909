"""User code never reaches the logs at INFO and above; the server is private by default."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from pylot.config.settings import Settings

SECRET_CODE = "def very_private_function_7f3a():"


def test_no_prompt_or_completion_text_in_logs_at_info(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.post("/v1/completions", json={"prompt": SECRET_CODE, "suffix": "\n    pass\n", "max_tokens": 4})
    client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": SECRET_CODE}], "max_tokens": 4})
    client.post("/infill", json={"input_prefix": SECRET_CODE, "input_suffix": "", "n_predict": 4})
    client.post("/v1/completions", json={"prompt": SECRET_CODE * 2000})  # an error path too
    with client.websocket_connect("/ws/completions") as ws:
        ws.send_json({"type": "completion", "id": "p", "prompt": SECRET_CODE, "max_tokens": 2})
        while ws.receive_json()["type"] != "done":
            pass
    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert loud, "the requests should have been logged (sizes and timings)"
    for record in loud:
        assert "very_private_function" not in record.getMessage()


def test_defaults_bind_to_loopback_without_keys() -> None:
    s = Settings()
    assert s.server.host == "127.0.0.1"
    assert s.logging.level == "INFO"
