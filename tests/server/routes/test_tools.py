"""/v1/tools: the code tools, listed and run over HTTP, and a tool that does not exist."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.server.conftest import make_client


def test_code_tools_are_served_under_v1_tools(qwen: object, tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "calc.py").write_text('def add(a, b):\n    """Add."""\n    return a + b\n')
    with make_client(qwen, tmp_path, f"tools:\n  workspace: {tmp_path / 'ws'}\n") as c:
        names = [t["name"] for t in c.get("/v1/tools").json()["data"]]
        assert {"parse_file", "rename_symbol", "search_code", "generate_tests", "add_docstrings"} <= set(names)
        r = c.post("/v1/tools/parse_file", json={"path": "calc.py"})
        assert r.status_code == 200, r.text
        assert "add" in json.dumps(r.json())
        escape = c.post("/v1/tools/parse_file", json={"path": "../../etc/passwd"})
        assert escape.status_code == 400 and escape.json()["error"]["type"] == "tool_error"


def test_an_unknown_tool_is_a_404(client: TestClient) -> None:
    for response in (client.get("/v1/tools/nope"), client.post("/v1/tools/nope", json={})):
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found_error"
