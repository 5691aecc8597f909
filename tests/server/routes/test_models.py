"""/v1/models: the served model's card, and model management (catalog with memory fit, pull with progress,
load, quantize, delete)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.server.conftest import make_client


def test_health_and_models(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "model": "qwen2.5-coder-0.5b"}
    models = client.get("/v1/models").json()
    assert models["object"] == "list"
    assert models["data"][0]["id"] == "qwen2.5-coder-0.5b"
    assert models["data"][0]["meta"]["fim"] is True


def test_catalog_lists_models_with_install_state_and_memory_fit(client: TestClient) -> None:
    data = {m["id"]: m for m in client.get("/v1/models/catalog").json()["data"]}
    assert {"qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "smollm2-135m"} <= set(data)
    qwen = data["qwen2.5-coder-0.5b"]
    assert qwen["installed"] and qwen["loaded"] and qwen["fim"]
    assert qwen["memory"]["total_bytes"] > 400_000_000 and qwen["memory"]["fits"] is True
    assert data["smollm2-135m"]["loaded"] is False


def test_load_switches_the_served_model_and_persists_the_choice(qwen: object, tmp_path: Path) -> None:
    with make_client(qwen, tmp_path, "generation:\n  temperature: 0.0\n") as c:
        r = c.post("/v1/models/load", json={"id": "smollm2-135m"})
        assert r.status_code == 200, r.text
        assert c.get("/health").json()["model"] == "smollm2-135m"
        assert "smollm2-135m" in (tmp_path / "pylot.yaml").read_text()
        body = c.post("/v1/completions", json={"prompt": "Hello", "max_tokens": 2}).json()
        assert body["model"] == "smollm2-135m"
        r = c.post("/v1/models/load", json={"id": "no-such-model"})
        assert r.status_code == 404
        assert c.get("/health").json()["model"] == "smollm2-135m"


def test_pull_streams_progress_then_quantize_and_delete(qwen: object, tmp_path: Path) -> None:
    store = tmp_path / "store"
    with make_client(qwen, tmp_path, f"model:\n  store_dir: {store}\n") as c:
        with c.stream("POST", "/v1/models/pull", json={"id": "smollm2-135m"}) as r:
            assert r.status_code == 200
            events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
        assert events[-1] == {"done": True, "id": "smollm2-135m", "size_bytes": 98362432}
        progress = [e for e in events if "downloaded" in e]
        assert progress and progress[-1]["downloaded"] == progress[-1]["total"]
        assert (store / "smollm2-135m.gguf").stat().st_size == 98362432

        r = c.post("/v1/models/quantize", json={"id": "smollm2-135m", "type": "q8_0"})
        assert r.status_code == 200, r.text
        assert r.json()["id"] == "smollm2-135m-q8_0" and (store / "smollm2-135m-q8_0.gguf").exists()
        bad = c.post("/v1/models/quantize", json={"id": "smollm2-135m", "type": "q3_xx"})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "type"

        assert c.delete("/v1/models/smollm2-135m-q8_0").status_code == 204
        assert not (store / "smollm2-135m-q8_0.gguf").exists()
        assert c.delete("/v1/models/smollm2-135m-q8_0").status_code == 404


def test_unknown_pull_and_deleting_the_loaded_model_are_refused(client: TestClient) -> None:
    r = client.post("/v1/models/pull", json={"id": "gpt-5"})
    assert r.status_code == 400 and "known:" in r.json()["error"]["message"]
    r = client.delete("/v1/models/qwen2.5-coder-0.5b")
    assert r.status_code == 400 and "loaded model" in r.json()["error"]["message"]


def test_loading_a_file_that_is_not_a_model_changes_nothing_and_echoes_none_of_it(
    smollm: object, tmp_path: Path
) -> None:
    bad = tmp_path / "passwd"
    bad.write_text("MARKER-51c0:x:0:0::/root:/bin/sh\n" * 8)
    with make_client(smollm, tmp_path, "model:\n  n_ctx: 512\n") as c:
        before = (tmp_path / "pylot.yaml").read_bytes()
        r = c.post("/v1/models/load", json={"id": str(bad)})
        assert r.status_code == 400, r.text
        assert str(bad) in r.json()["error"]["message"] and "not a GGUF file" in r.json()["error"]["message"]
        assert "MARKER" not in r.text
        assert (tmp_path / "pylot.yaml").read_bytes() == before
        assert c.get("/health").json()["model"] == "smollm2-135m"
        r = c.post("/v1/models/load", json={"id": "smollm2-135m"})  # a real one loads, then is saved
        assert r.status_code == 200 and r.json() == {"loaded": "smollm2-135m"}
        assert "smollm2-135m" in (tmp_path / "pylot.yaml").read_text()
