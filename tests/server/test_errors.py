"""Client errors at the HTTP edge: the OpenAI error body with a message (and field) a client can act on."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.server.conftest import error_of


def test_malformed_json_is_a_400(client: TestClient) -> None:
    r = client.post("/v1/completions", content=b"{bad", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "not valid JSON" in error_of(r)["message"]


def test_wrong_types_name_the_field(client: TestClient) -> None:
    r = client.post("/v1/completions", json={"prompt": "x", "temperature": "hot"})
    assert r.status_code == 400
    assert error_of(r)["param"] == "temperature"
    r = client.post("/v1/completions", json={"prompt": "x", "max_tokens": -5})
    assert r.status_code == 400 and error_of(r)["param"] == "max_tokens"
    r = client.post("/v1/chat/completions", json={"messages": []})
    assert r.status_code == 400 and error_of(r)["param"] == "messages"


def test_unknown_route_is_an_openai_shaped_404(client: TestClient) -> None:
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and error_of(r)["type"] == "not_found_error"


def test_a_405_names_every_method_of_the_path(client: TestClient) -> None:
    response = client.delete("/v1/config")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "PATCH"}
    assert "PATCH" in response.json()["error"]["message"]
