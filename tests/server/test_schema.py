"""The OpenAPI schema says what the server really answers: 400 (not 422), the error body, event streams,
the metrics' text format; 405s name every allowed method; an unknown tool is a 404."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import make_client


@pytest.fixture(scope="module")
def client(smollm: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(smollm, tmp_path_factory.mktemp("schema")) as c:
        yield c


@pytest.fixture(scope="module")
def schema(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield method, path, op


def test_no_operation_documents_fastapis_422(schema: dict[str, Any]) -> None:
    for method, path, op in operations(schema):
        assert "422" not in op["responses"], (method, path)
        assert op["responses"]["default"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert schema["paths"]["/v1/completions"]["post"]["responses"]["400"]


def test_a_client_error_matches_the_documented_error_body(client: TestClient, schema: dict[str, Any]) -> None:
    error = client.post("/v1/completions", json={"temperature": 5}).json()
    required = schema["components"]["schemas"]["Error"]["properties"]["error"]["required"]
    assert set(required) <= set(error["error"])


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/v1/completions"), ("post", "/v1/chat/completions"), ("post", "/infill"), ("post", "/v1/models/pull")],
)
def test_streaming_routes_document_event_streams(schema: dict[str, Any], method: str, path: str) -> None:
    content = schema["paths"][path][method]["responses"]["200"]["content"]
    assert "text/event-stream" in content


def test_metrics_are_documented_and_served_as_text(client: TestClient, schema: dict[str, Any]) -> None:
    assert "text/plain" in schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")


def test_a_405_names_every_method_of_the_path(client: TestClient) -> None:
    response = client.delete("/v1/config")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "PATCH"}
    assert "PATCH" in response.json()["error"]["message"]


def test_an_unknown_tool_is_a_404(client: TestClient, tmp_path: Path) -> None:
    for response in (client.get("/v1/tools/nope"), client.post("/v1/tools/nope", json={})):
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found_error"
