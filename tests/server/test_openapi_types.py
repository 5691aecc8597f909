"""The web console's API types are generated from the server's own schemas, so they never go stale:
web-ui/openapi.json and the settings form's fixture must be what scripts/export_openapi.py writes today.
The documented bodies: each route names its model, streamed events are described, a server still loading
sends only what it knows, and a remote backend's own keys pass through the typed status and model list."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pylot.config.settings import LIVE_SECTIONS, Settings
from pylot.engines.interface import Capabilities
from tests.server.conftest import make_client

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "run: cd web-ui && npm run gen:api (then commit openapi.json, src/api/schema.d.ts and the fixture)"


@pytest.fixture(scope="module")
def exporter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("export_openapi", ROOT / "scripts/export_openapi.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return dict(json.loads((ROOT / "web-ui/openapi.json").read_text(encoding="utf-8")))


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


@pytest.mark.parametrize(
    ("method", "path", "model"),
    [
        ("post", "/v1/completions", "TextCompletion"),
        ("post", "/v1/chat/completions", "ChatCompletion"),
        ("post", "/infill", "InfillFinal"),
        ("post", "/v1/embeddings", "EmbeddingList"),
        ("get", "/v1/models", "ModelList"),
        ("get", "/v1/status", "Status"),
        ("get", "/v1/config", "ConfigSections"),
        ("patch", "/v1/config", "ConfigSections"),
    ],
)
def test_answers_are_documented_by_their_model(schema: dict[str, Any], method: str, path: str, model: str) -> None:
    content = schema["paths"][path][method]["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
    assert model in schema["components"]["schemas"]


@pytest.mark.parametrize(
    ("path", "events"),
    [
        ("/v1/completions", ["TextCompletionChunk", "TextCompletion"]),
        ("/v1/chat/completions", ["ChatCompletionChunk"]),
        ("/infill", ["InfillChunk", "InfillFinal"]),
    ],
)
def test_a_streams_events_are_described(schema: dict[str, Any], path: str, events: list[str]) -> None:
    item = schema["paths"][path]["post"]["responses"]["200"]["content"]["text/event-stream"]["x-itemSchema"]
    refs = [r["$ref"] for r in item.get("oneOf", [item])]
    assert refs == [f"#/components/schemas/{e}" for e in events]
    assert all(e in schema["components"]["schemas"] for e in events)


def test_infill_timings_are_one_model_with_every_key_sent_today(schema: dict[str, Any]) -> None:
    timings = schema["components"]["schemas"]["Timings"]
    assert set(timings["properties"]) == {
        "prompt_n",
        "prompt_ms",
        "predicted_n",
        "predicted_ms",
        "predicted_per_second",
    }
    assert timings["required"] == ["predicted_n", "predicted_ms"]


def test_status_while_loading_sends_only_what_is_known(tmp_path: Path) -> None:
    """No model yet (the lifespan that loads one is not run): the model part is only loaded and error."""
    client = make_client(None, tmp_path)
    status = client.get("/v1/status").json()
    assert status["model"] == {"loaded": False, "error": None}
    assert status["backends"] == [
        {"name": "embedded", "url": None, "healthy": False, "latency_ms": None, "in_flight": 0}
    ]
    assert set(status["cache"]) == {"enabled", "entries", "hits", "misses", "hit_rate", "typeahead_hits"}


class RemoteDouble:
    """Just what /v1/status and /v1/models read of a balancer over llama-servers."""

    queue_depth = 0

    def capabilities(self) -> Capabilities:
        return Capabilities(
            "remote", 4096, True, extra={"backend": "llama-server", "url": "http://gpu:8080", "path": None}
        )

    def status(self) -> list[dict[str, Any]]:
        return [
            {"name": "gpu", "url": "http://gpu:8080", "healthy": True, "latency_ms": None, "in_flight": 0}
            | {"state": "closed", "health_ms": None, "failures": 0}
        ]

    def close(self) -> None:
        pass


def test_a_remote_backends_own_keys_reach_status_and_models(tmp_path: Path) -> None:
    client = make_client(RemoteDouble(), tmp_path)
    status = client.get("/v1/status").json()
    # A path the server does not know is null, as before; no prompt cache, so no key for it.
    assert status["model"] == {
        "loaded": True,
        "error": None,
        "id": "remote",
        "path": None,
        "n_ctx": 4096,
        "fim": True,
        "family": "unknown",
    }
    assert status["backends"][0]["state"] == "closed"
    assert status["backends"][0]["health_ms"] is None
    meta = client.get("/v1/models").json()["data"][0]["meta"]
    assert meta == {
        "n_ctx": 4096,
        "fim": True,
        "family": "unknown",
        "backend": "llama-server",
        "url": "http://gpu:8080",
        "path": None,
    }
