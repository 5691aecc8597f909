"""The OpenAPI schema says what the server really answers: 400 (not 422), the error body, event streams,
the metrics' text format. The web console's API types are generated from it, so they never go stale:
web-ui/openapi.json and the settings form's fixture must be what scripts/export_openapi.py writes today."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pylot.config.settings import LIVE_SECTIONS, Settings
from tests.server.conftest import make_client

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "run: cd web-ui && npm run gen:api (then commit openapi.json, src/api/schema.d.ts and the fixture)"


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


@pytest.fixture(scope="module")
def exporter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("export_openapi", ROOT / "scripts/export_openapi.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_schemas_are_what_the_server_writes(exporter: ModuleType, tmp_path: Path) -> None:
    written = exporter.write(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == set(exporter.OUTPUTS)
    for path in written:
        rel = path.relative_to(tmp_path).as_posix()
        assert path.read_text(encoding="utf-8") == (ROOT / rel).read_text(encoding="utf-8"), f"{rel}: {REGENERATE}"


def test_the_settings_fixture_has_every_section_and_the_live_ones() -> None:
    fixture = json.loads((ROOT / "web-ui/src/test/config-schema.json").read_text(encoding="utf-8"))
    assert list(fixture["properties"]) == list(Settings.model_fields)
    assert fixture["x-live-sections"] == sorted(LIVE_SECTIONS)
