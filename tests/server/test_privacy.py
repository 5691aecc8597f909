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


MARKER = "zq_marker_91c"


def test_a_marker_in_tools_editors_sockets_and_config_reaches_no_log_or_metric(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.post(f"/v1/tools/{MARKER}", json={MARKER: 1})
    client.post("/v1/tools/parse_file", json={"path": f"{MARKER}.py", MARKER: "x"})
    client.get(f"/v1/tools/{MARKER}")
    client.get(f"/v1/{MARKER}")
    client.patch("/v1/config", json={MARKER: {MARKER: 1}})
    client.patch("/v1/config", json={"generation": {"stop": [MARKER]}})
    client.post("/v1/completions", json={"prompt": MARKER, "temperature": 9})
    client.post("/v1/completions", json={"prompt": MARKER}, headers={"Origin": f"http://{MARKER}.example"})
    client.get("/v1/config", headers={"Host": f"{MARKER}.example"})
    with client.websocket_connect("/ws/editor") as ws:
        ws.send_json({"type": "hello", "editor": MARKER, "version": MARKER, "workspace": [f"/{MARKER}"]})
        ws.send_text(MARKER)
    with client.websocket_connect("/ws/completions") as ws:
        ws.send_text(MARKER)
        ws.receive_json()
        ws.send_json({"type": MARKER, "id": MARKER})
        ws.receive_json()
        ws.send_json({"type": "completion", "id": MARKER, "prompt": MARKER, "max_tokens": 2})
        while ws.receive_json()["type"] not in ("done", "error"):
            pass
    # The server's own loggers (the test's HTTP client logs its request URLs itself).
    server = [r for r in caplog.records if r.name.startswith(("pylot", "uvicorn", "fastapi"))]
    loud = [r.getMessage() for r in server if r.levelno >= logging.INFO]
    assert loud and not [m for m in loud if MARKER in m]
    assert MARKER not in client.get("/v1/logs", params={"level": "INFO"}).text  # DEBUG is on in this test
    assert MARKER not in client.get("/metrics").text
    client.patch("/v1/config", json={"generation": {"stop": []}})


def test_defaults_bind_to_loopback_without_keys() -> None:
    s = Settings()
    assert s.server.host == "127.0.0.1"
    assert s.logging.level == "INFO"
