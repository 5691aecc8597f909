"""/v1/config: read (secrets hidden), schema, validated live updates persisted to the file."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from pylot.config.config_manager import ConfigManager
from pylot.config.settings import Settings
from pylot.server import create_app
from tests.server.conftest import make_client


def test_patch_is_validated_persisted_and_applied(qwen: object, tmp_path: Path) -> None:
    with make_client(qwen, tmp_path, "generation:\n  temperature: 0.0\n") as c:
        r = c.patch("/v1/config", json={"generation": {"max_tokens": 3}})
        assert r.status_code == 200 and r.json()["generation"]["max_tokens"] == 3
        assert yaml.safe_load((tmp_path / "pylot.yaml").read_text())["generation"]["max_tokens"] == 3
        body = c.post("/v1/completions", json={"prompt": "def long_function_name():\n"}).json()
        assert body["usage"]["completion_tokens"] == 3


def test_a_bad_patch_names_the_key_and_changes_nothing(qwen: object, tmp_path: Path) -> None:
    with make_client(qwen, tmp_path, "generation:\n  temperature: 0.0\n") as c:
        before = (tmp_path / "pylot.yaml").read_text()
        r = c.patch("/v1/config", json={"generation": {"temperature": 7}})
        assert r.status_code == 400
        err = r.json()["error"]
        assert err["param"] == "generation.temperature" and "7" in err["message"]
        r = c.patch("/v1/config", json={"generation": {"temprature": 0.1}})
        assert r.status_code == 400 and "unknown key 'generation.temprature'" in r.json()["error"]["message"]
        assert (tmp_path / "pylot.yaml").read_text() == before
        assert c.get("/v1/config").json()["generation"]["temperature"] == 0.0


def test_config_hides_secrets(keyed_client: TestClient) -> None:
    cfg = keyed_client.get("/v1/config", headers={"X-Api-Key": "s3cret"}).json()
    assert cfg["server"]["api_keys"] == ["**********"]
    assert "s3cret" not in json.dumps(cfg)


def test_schema_describes_every_field(client: TestClient) -> None:
    schema = client.get("/v1/config/schema").json()
    gen = schema["$defs"]["GenerationSettings"]["properties"]
    assert gen["temperature"]["maximum"] == 2.0
    assert all(p.get("description") for d in schema["$defs"].values() for p in d["properties"].values())


# ---- hardening ---------------------------------------------------------------------------------------

LOCAL = "http://127.0.0.1:8080"  # a Host the server answers
MARKER = "MARKER-7f3a9c"  # the content of a file that is not a model; never to be echoed or saved


def not_a_model(tmp_path: Path) -> Path:
    path = tmp_path / "passwd"
    path.write_text(f"{MARKER}:x:0:0:{MARKER}:/root:/bin/sh\n" * 8)
    return path


def test_an_emptied_config_file_keeps_the_keys_and_the_model(smollm: object, smollm_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "pylot.yaml"
    path.write_text(f"server:\n  api_keys: [s3cret]\nmodel:\n  model: {smollm_path}\n")
    # The defaults would name a model this (empty) store does not have, so nothing big is ever loaded here.
    config = ConfigManager(path, environ={"PYLOT_MODEL__STORE_DIR": str(tmp_path / "empty-store")})
    key = {"Authorization": "Bearer s3cret"}
    with TestClient(create_app(config, engine=smollm), base_url=LOCAL) as c:  # type: ignore[arg-type]
        assert c.get("/v1/config").status_code == 401
        path.write_bytes(b"")
        config.reload()  # what the watcher does once the file has stopped changing
        assert c.get("/v1/config").status_code == 401
        assert c.get("/v1/config", headers=key).json()["model"]["model"] == str(smollm_path)
        assert c.get("/health", headers=key).json()["model"] == "smollm2-135m"


def test_a_lone_surrogate_is_a_400_naming_the_key_and_nothing_is_saved(smollm: object, tmp_path: Path) -> None:
    with make_client(smollm, tmp_path, "generation:\n  max_tokens: 7\n") as c:
        before = (tmp_path / "pylot.yaml").read_bytes()
        for body, key in (
            (b'{"generation": {"stop": ["ok", "\\ud800"]}}', "generation.stop.1"),
            (b'{"server": {"host": "a\\udfffb"}}', "server.host"),
            (b'{"generation": {"\\ud800": 1}}', "generation.\\ud800"),
        ):
            r = c.patch("/v1/config", content=body, headers={"Content-Type": "application/json"})
            assert r.status_code == 400, r.text
            err = r.json()["error"]
            assert err["param"] == key and f"'{key}'" in err["message"] and "surrogate" in err["message"]
        assert (tmp_path / "pylot.yaml").read_bytes() == before
        r = c.get("/v1/config")
        assert r.status_code == 200 and r.json()["generation"]["stop"] == []


def test_a_model_that_does_not_load_is_not_saved_and_its_bytes_are_not_echoed(smollm: object, tmp_path: Path) -> None:
    bad = not_a_model(tmp_path)
    with make_client(smollm, tmp_path, "generation:\n  max_tokens: 7\n") as c:
        before = (tmp_path / "pylot.yaml").read_bytes()
        r = c.patch("/v1/config", json={"model": {"model": str(bad)}, "generation": {"max_tokens": 9}})
        assert r.status_code == 400, r.text
        message = r.json()["error"]["message"]
        assert str(bad) in message and "not a GGUF file" in message
        assert MARKER not in r.text
        gone = tmp_path / "gone.gguf"
        r = c.patch("/v1/config", json={"model": {"model": str(gone)}})
        assert r.status_code == 404 and str(gone) in r.json()["error"]["message"]
        assert (tmp_path / "pylot.yaml").read_bytes() == before
        shown = c.get("/v1/config").json()
        assert shown["model"]["model"] == "qwen2.5-coder-0.5b" and shown["generation"]["max_tokens"] == 7
        assert c.get("/health").json()["model"] == "smollm2-135m"


def test_a_model_change_is_saved_once_the_new_model_serves(smollm: object, smollm_path: Path, tmp_path: Path) -> None:
    from pylot.engines.loader import load_engine

    path = tmp_path / "pylot.yaml"
    file_during_loads: list[str] = []

    def loader(settings: Settings) -> object:
        file_during_loads.append(path.read_text())
        return load_engine(settings)

    with make_client(smollm, tmp_path, "model:\n  n_ctx: 512\n", engine_factory=loader) as c:
        r = c.patch("/v1/config", json={"model": {"model": str(smollm_path)}})
        assert r.status_code == 200, r.text
        assert r.json()["model"]["model"] == str(smollm_path)
        assert str(smollm_path) in path.read_text()
        assert c.get("/v1/status").json()["model"]["path"] == str(smollm_path)
        for thread in threading.enumerate():  # a reload the change set off, if any, has nothing left to do
            if thread.name == "pylot-model-reload":
                thread.join(timeout=30)
    assert len(file_during_loads) == 1 and str(smollm_path) not in file_during_loads[0]


def test_a_config_file_that_cannot_be_written_is_a_400_and_stays_whole(
    smollm: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_client(smollm, tmp_path, "generation:\n  max_tokens: 7\n") as c:
        path = tmp_path / "pylot.yaml"
        before = path.read_bytes()

        def read_only_disk(src: object, dst: object) -> None:
            raise OSError(30, "Read-only file system")

        monkeypatch.setattr("os.replace", read_only_disk)
        r = c.patch("/v1/config", json={"generation": {"max_tokens": 9}})
        monkeypatch.undo()
        assert r.status_code == 400
        assert str(path) in r.json()["error"]["message"] and "Read-only file system" in r.json()["error"]["message"]
        assert path.read_bytes() == before
        assert c.get("/v1/config").json()["generation"]["max_tokens"] == 7
