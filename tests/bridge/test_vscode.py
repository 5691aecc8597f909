"""The editor link's server side (EditorHub + router) with a fake editor over TestClient WebSockets, and
the `pylot vscode` commands."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from pylot.bridge.vscode import CLOSE_BAD_HELLO, EditorHub
from pylot.cli import vscode_cmd
from pylot.errors import EditorRequestError, EditorTimeoutError, EditorUnavailableError
from pylot.server.middleware import CLOSE_UNAUTHORIZED, ApiKeyMiddleware
from pylot.server.routes.editors import create_editor_router

KEY = "s3cret"
HELLO = {"type": "hello", "editor": "vscode", "version": "0.1.0", "workspace": ["/work/project"]}


def make_app(hub: EditorHub, keys: tuple[str, ...] = ()) -> FastAPI:
    """The editor routes behind the server's API-key middleware, as create_app mounts them."""
    app = FastAPI()
    app.include_router(create_editor_router(hub))
    app.add_middleware(ApiKeyMiddleware, keys=lambda: list(keys))
    return app


@pytest.fixture
def hub() -> EditorHub:
    return EditorHub(request_timeout_s=5.0)


@pytest.fixture
def client(hub: EditorHub) -> Iterator[TestClient]:
    # As a context manager the client runs every socket and call on one event loop, the hub's.
    with TestClient(make_app(hub)) as c:
        yield c


def ask(client: TestClient, hub: EditorHub, method: str, **kwargs: Any) -> concurrent.futures.Future[Any]:
    """Starts hub.request on the app's loop; the test thread plays the editor meanwhile."""
    assert client.portal is not None
    return client.portal.start_task_soon(lambda: hub.request(method, **kwargs))


@contextmanager
def editor(
    client: TestClient, hello: dict[str, Any] = HELLO, path: str = "/ws/editor", headers: dict[str, str] | None = None
) -> Iterator[WebSocketTestSession]:
    """A fake editor: connects and says hello; leaving the block disconnects it."""
    with client.websocket_connect(path, headers=dict(headers or {})) as ws:
        ws.send_json(hello)
        yield ws


def wait_for_editors(client: TestClient, count: int, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = []
    for _ in range(500):
        data = client.get("/v1/editors", headers=headers).json()["data"]
        if len(data) == count:
            return data
        time.sleep(0.01)
    raise AssertionError(f"expected {count} editors, got {data}")


def test_connected_editor_is_listed_and_forgotten_when_it_goes(client: TestClient) -> None:
    assert client.get("/v1/editors").json() == {"object": "list", "data": []}
    with editor(client):
        [listed] = wait_for_editors(client, 1)
        assert listed["editor"] == "vscode"
        assert listed["version"] == "0.1.0"
        assert listed["workspace"] == ["/work/project"]
        assert listed["id"] and listed["connected_at"] > 0
    wait_for_editors(client, 0)


def test_request_reaches_the_editor_and_its_result_comes_back(client: TestClient, hub: EditorHub) -> None:
    with editor(client) as ws:
        wait_for_editors(client, 1)
        pending = ask(client, hub, "getSelection", params={"includeText": True})
        request = ws.receive_json()
        assert request == {
            "type": "request",
            "id": request["id"],
            "method": "getSelection",
            "params": {"includeText": True},
        }
        ws.send_json({"type": "response", "id": request["id"], "result": {"text": "x = 1"}})
        assert pending.result(timeout=5) == {"text": "x = 1"}


def test_an_error_answer_raises_editor_request_error(client: TestClient, hub: EditorHub) -> None:
    with editor(client) as ws:
        wait_for_editors(client, 1)
        pending = ask(client, hub, "applyEdit", params={"path": "a.py", "edits": []})
        request = ws.receive_json()
        ws.send_json({"type": "response", "id": request["id"], "error": "no such file"})
        with pytest.raises(EditorRequestError, match="no such file"):
            pending.result(timeout=5)


def test_answers_may_come_in_any_order_and_noise_is_ignored(client: TestClient, hub: EditorHub) -> None:
    with editor(client) as ws:
        wait_for_editors(client, 1)
        first = ask(client, hub, "getOpenFiles")
        r1 = ws.receive_json()
        second = ask(client, hub, "getDiagnostics")
        r2 = ws.receive_json()
        ws.send_text("not json")
        ws.send_json({"type": "ping"})
        ws.send_json({"type": "response", "id": 987654, "result": "for nobody"})
        ws.send_json({"type": "response", "id": r2["id"], "result": ["d"]})
        ws.send_json({"type": "response", "id": r1["id"], "result": ["f"]})
        assert second.result(timeout=5) == ["d"]
        assert first.result(timeout=5) == ["f"]


def test_an_editor_that_does_not_answer_times_out(client: TestClient, hub: EditorHub) -> None:
    with editor(client) as ws:
        wait_for_editors(client, 1)
        pending = ask(client, hub, "getSelection", timeout_s=0.2)
        ws.receive_json()
        with pytest.raises(EditorTimeoutError, match=r"within 0\.2 s"):
            pending.result(timeout=5)


def test_a_disconnect_fails_the_requests_in_flight(client: TestClient, hub: EditorHub) -> None:
    with editor(client) as ws:
        wait_for_editors(client, 1)
        pending = ask(client, hub, "getSelection")
        ws.receive_json()
    with pytest.raises(EditorUnavailableError, match="disconnected"):
        pending.result(timeout=5)


def test_no_editor_connected(client: TestClient, hub: EditorHub) -> None:
    with pytest.raises(EditorUnavailableError, match="no editor is connected"):
        ask(client, hub, "getSelection").result(timeout=5)
    with pytest.raises(EditorUnavailableError, match="no editor is connected"):
        hub.request_blocking("getSelection")


def test_requests_go_to_the_newest_editor_or_the_one_named(client: TestClient, hub: EditorHub) -> None:
    with editor(client, {**HELLO, "workspace": ["/old"]}) as old:
        wait_for_editors(client, 1)
        with editor(client, {**HELLO, "workspace": ["/new"]}) as new:
            editors = wait_for_editors(client, 2)
            old_id = next(e["id"] for e in editors if e["workspace"] == ["/old"])

            pending = ask(client, hub, "getSelection")
            request = new.receive_json()
            new.send_json({"type": "response", "id": request["id"], "result": "new"})
            assert pending.result(timeout=5) == "new"

            pending = ask(client, hub, "getSelection", editor_id=old_id)
            request = old.receive_json()
            old.send_json({"type": "response", "id": request["id"], "result": "old"})
            assert pending.result(timeout=5) == "old"

            with pytest.raises(EditorUnavailableError, match="no connected editor with id"):
                ask(client, hub, "getSelection", editor_id="nope").result(timeout=5)


def test_request_blocking_works_from_a_worker_thread(client: TestClient, hub: EditorHub) -> None:
    with editor(client) as ws, concurrent.futures.ThreadPoolExecutor(1) as pool:
        wait_for_editors(client, 1)
        pending = pool.submit(hub.request_blocking, "getOpenFiles", {"includeText": False})
        request = ws.receive_json()
        ws.send_json({"type": "response", "id": request["id"], "result": []})
        assert pending.result(timeout=10) == []


def test_the_first_message_must_be_a_hello(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, editor(client, {"type": "response", "id": 1}) as ws:
        ws.receive_json()
    assert closed.value.code == CLOSE_BAD_HELLO
    assert client.get("/v1/editors").json()["data"] == []


@pytest.fixture
def keyed(hub: EditorHub) -> Iterator[TestClient]:
    with TestClient(make_app(hub, (KEY,))) as c:
        yield c


@pytest.mark.parametrize("path", ["/ws/editor", "/ws/editor?api_key=wrong"])
def test_a_wrong_or_missing_key_is_refused(keyed: TestClient, path: str) -> None:
    with pytest.raises(WebSocketDisconnect) as refused, keyed.websocket_connect(path):
        pass
    assert refused.value.code == CLOSE_UNAUTHORIZED
    response = keyed.get("/v1/editors")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (f"/ws/editor?api_key={KEY}", {}),
        ("/ws/editor", {"Authorization": f"Bearer {KEY}"}),
        ("/ws/editor", {"X-Api-Key": KEY}),
    ],
)
def test_the_key_is_accepted_in_the_query_or_a_header(keyed: TestClient, path: str, headers: dict[str, str]) -> None:
    with editor(keyed, path=path, headers=headers):
        assert len(wait_for_editors(keyed, 1, headers={"X-Api-Key": KEY})) == 1


# ---- pylot vscode status / install ---------------------------------------------------------------------


runner = CliRunner()


def test_status_lists_connected_editors(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vscode_cmd, "http_client", lambda timeout: _borrowed(client))
    result = runner.invoke(vscode_cmd.app, ["status"])
    assert result.exit_code == 0, result.output
    assert "No editor is connected" in result.output

    with editor(client):
        wait_for_editors(client, 1)
        result = runner.invoke(vscode_cmd.app, ["status", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 0, result.output
    assert "vscode" in result.output
    assert "/work/project" in result.output


def test_status_explains_a_missing_server_key_or_route(keyed: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(vscode_cmd.app, ["status", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "no Pylot server answers at http://127.0.0.1:9" in result.output

    monkeypatch.setattr(vscode_cmd, "http_client", lambda timeout: _borrowed(keyed))
    result = runner.invoke(vscode_cmd.app, ["status"])
    assert result.exit_code == 1
    assert "--api-key" in result.output
    assert runner.invoke(vscode_cmd.app, ["status", "--api-key", KEY]).exit_code == 0

    bare = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(404, json={})))
    monkeypatch.setattr(vscode_cmd, "http_client", lambda timeout: bare)
    result = runner.invoke(vscode_cmd.app, ["status"])
    assert result.exit_code == 1
    assert "no editor link" in result.output


class _borrowed:
    """A context manager that hands out a client without closing it (the fixture owns it)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, *exc: object) -> None:
        return None


def test_install_says_so_when_no_editor_command_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vscode_cmd.shutil, "which", lambda name: None)
    result = runner.invoke(vscode_cmd.app, ["install"])
    assert result.exit_code == 1
    assert "no editor command found on PATH" in result.output


def test_install_builds_the_vsix_and_installs_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "vscode-extension"
    source.mkdir()
    (source / "package.json").write_text(json.dumps({"name": "gc-forged-pylot"}))
    found = {"code-server": "/opt/bin/code-server", "npm": "/usr/bin/npm"}
    monkeypatch.setattr(vscode_cmd.shutil, "which", found.get)
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(vscode_cmd.subprocess, "run", fake_run)
    result = runner.invoke(vscode_cmd.app, ["install", "--source", str(source)])
    assert result.exit_code == 0, result.output
    vsix = str(source / "gc-forged-pylot.vsix")
    assert calls == [
        ["/usr/bin/npm", "ci", "--no-audit", "--no-fund"],
        ["/usr/bin/npm", "run", "package", "--", "--out", vsix],
        ["/opt/bin/code-server", "--install-extension", vsix, "--force"],
    ]
    assert "Installed gc-forged-pylot.vsix into code-server" in result.output


def test_install_reports_a_failed_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "node_modules").mkdir()
    monkeypatch.setattr(vscode_cmd.shutil, "which", {"code": "/usr/bin/code", "npm": "/usr/bin/npm"}.get)
    monkeypatch.setattr(
        vscode_cmd.subprocess,
        "run",
        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 2, "", "tsc: error TS2304"),
    )
    result = runner.invoke(vscode_cmd.app, ["install", "--source", str(tmp_path)])
    assert result.exit_code == 1
    assert "packaging the extension failed" in result.output
    assert "TS2304" in result.output


def test_install_a_ready_vsix_without_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vsix = tmp_path / "x.vsix"
    vsix.write_bytes(b"PK")
    monkeypatch.setattr(vscode_cmd.shutil, "which", {"code": "/usr/bin/code"}.get)
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(vscode_cmd.subprocess, "run", fake_run)
    result = runner.invoke(vscode_cmd.app, ["install", "--vsix", str(vsix), "--editor", "code"])
    assert result.exit_code == 0, result.output
    assert calls == [["/usr/bin/code", "--install-extension", str(vsix), "--force"]]
