"""A web page cannot drive the server: Host (DNS rebinding) and Origin checks, and how browsers send keys."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from pylot.server.middleware import CLOSE_UNAUTHORIZED
from pylot.server.origin_guard import CLOSE_FORBIDDEN, OriginRules, host_allowed, host_name, origin_allowed
from tests.server.conftest import make_client

LOOPBACK = OriginRules(bind_host="127.0.0.1")


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:8080", "localhost"),
        ("[::1]:8080", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("Evil.Example:80", "evil.example"),
    ],
)
def test_host_name_drops_the_port(header: str, name: str) -> None:
    assert host_name(header) == name


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1:8080", "[::1]:8080", "10.0.0.7:8080", None])
def test_this_machine_by_address_or_localhost_is_accepted(host: str | None) -> None:
    assert host_allowed(host, LOOPBACK)


@pytest.mark.parametrize(
    "host", ["evil.example:8080", "evil.example", "localhost.evil.example", "", "127.0.0.1.nip.io"]
)
def test_a_name_a_web_page_could_rebind_is_refused(host: str) -> None:
    assert not host_allowed(host, LOOPBACK)


def test_configured_names_and_the_wildcard_are_accepted() -> None:
    assert host_allowed("pylot.lan:8080", OriginRules("127.0.0.1", allowed_hosts=("Pylot.lan",)))
    assert host_allowed("anything.example", OriginRules("127.0.0.1", allowed_hosts=("*",)))


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://127.0.0.1:8080", True),  # the console this server serves
        ("vscode-webview://1f2e3d", True),
        ("http://evil.example", False),
        ("http://127.0.0.1:9999", False),  # another local server's page
        ("null", False),  # a sandboxed iframe or a file:// page
    ],
)
def test_origins(origin: str, allowed: bool) -> None:
    assert origin_allowed(origin, "127.0.0.1:8080", LOOPBACK) is allowed
    assert origin_allowed(origin, "127.0.0.1:8080", OriginRules("127.0.0.1", allowed_origins=(origin,)))


# ---- through the real server ---------------------------------------------------------------------------


@pytest.fixture
def client(smollm: object, tmp_path: Path) -> Iterator[TestClient]:
    with make_client(smollm, tmp_path) as c:
        yield c


def test_a_rebound_host_gets_421_before_any_route(client: TestClient) -> None:
    for method, path in [("GET", "/v1/config"), ("PATCH", "/v1/config"), ("GET", "/v1/models"), ("GET", "/")]:
        response = client.request(method, path, headers={"Host": "evil.example:8080"}, json={})
        assert response.status_code == 421, (method, path)
        error = response.json()["error"]
        assert error["type"] == "misdirected_request" and "server.allowed_hosts" in error["message"]
    assert client.get("/v1/config", headers={"Host": "localhost:8080"}).status_code == 200


def test_a_websocket_from_a_rebound_host_or_a_foreign_page_is_refused(client: TestClient) -> None:
    for headers in ({"Host": "evil.example:8080"}, {"Origin": "http://evil.example"}):
        for path in ("/ws/completions", "/ws/editor"):
            with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(path, headers=headers):
                pass
            assert refused.value.code == CLOSE_FORBIDDEN, (path, headers)
    with client.websocket_connect("/ws/completions", headers={"Origin": "vscode-webview://abc"}) as ws:
        ws.send_json({"type": "nonsense", "id": "1"})
        assert ws.receive_json()["type"] == "error"


def test_a_foreign_page_cannot_change_anything_but_can_still_be_refused_reading(client: TestClient) -> None:
    before = client.get("/v1/config").json()
    evil = {"Origin": "http://evil.example"}
    response = client.patch("/v1/config", json={"backend": {"url": "http://evil.example"}}, headers=evil)
    assert response.status_code == 403 and response.json()["error"]["type"] == "forbidden_origin"
    assert client.post("/v1/models/load", json={"model": "x"}, headers=evil).status_code == 403
    assert client.get("/v1/config").json() == before
    same_origin = {"Origin": "http://127.0.0.1:8080"}
    assert client.patch("/v1/config", json={"generation": {"max_tokens": 17}}, headers=same_origin).status_code == 200


def test_an_allowed_origin_from_the_config_may_post(smollm: object, tmp_path: Path) -> None:
    text = "server:\n  cors_origins: ['http://localhost:5173']\n"
    with make_client(smollm, tmp_path, text) as c:
        ok = c.patch("/v1/config", json={"generation": {"max_tokens": 9}}, headers={"Origin": "http://localhost:5173"})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "http://localhost:5173"


# ---- keys from browsers ---------------------------------------------------------------------------------


@pytest.fixture
def keyed(smollm: object, tmp_path: Path) -> Iterator[TestClient]:
    with make_client(smollm, tmp_path, "server:\n  api_keys: ['k/ey=1']\n") as c:
        yield c


def test_a_browser_websocket_sends_its_key_as_a_subprotocol(keyed: TestClient) -> None:
    # base64url, because a subprotocol may not contain '/' or '='; a key without such characters can go raw.
    protocols = ["pylot", "pylot.key." + base64.urlsafe_b64encode(b"k/ey=1").decode().rstrip("=")]
    with keyed.websocket_connect("/ws/completions", subprotocols=protocols) as ws:
        assert ws.accepted_subprotocol == "pylot"  # a browser drops a socket whose accept names none
        ws.send_json({"type": "nonsense", "id": "1"})
        assert ws.receive_json()["type"] == "error"
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        keyed.websocket_connect("/ws/completions", subprotocols=["pylot", "pylot.key.wrong"]),
    ):
        pass
    assert refused.value.code == CLOSE_UNAUTHORIZED


def test_the_query_key_is_taken_for_websockets_only(keyed: TestClient) -> None:
    with keyed.websocket_connect("/ws/completions?api_key=k/ey=1") as ws:
        ws.send_json({"type": "nonsense", "id": "1"})
        assert ws.receive_json()["type"] == "error"
    assert keyed.get("/v1/config?api_key=k/ey=1").status_code == 401
    assert keyed.get("/v1/editors?api_key=k/ey=1").status_code == 401
    assert keyed.get("/v1/editors", headers={"X-Api-Key": "k/ey=1"}).status_code == 200


def test_text_plain_bodies_are_still_refused(client: TestClient) -> None:
    # A page may send text/plain cross-origin without a preflight; the API only takes JSON.
    response = client.post("/v1/completions", content=b'{"prompt": "x"}', headers={"Content-Type": "text/plain"})
    assert 400 <= response.status_code < 500
