"""The answers' models, as documented in the committed web-ui/openapi.json: each route names its model,
streamed events are described, a server still loading sends only what it knows, and a remote backend's own
keys pass through the typed status and model list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pylot.engines.interface import Capabilities
from tests.server.conftest import make_client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return dict(json.loads((ROOT / "web-ui/openapi.json").read_text(encoding="utf-8")))


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
