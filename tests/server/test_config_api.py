"""/v1/config: read, schema, validated live updates persisted to the file."""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.testclient import TestClient

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


def test_schema_describes_every_field(client: TestClient) -> None:
    schema = client.get("/v1/config/schema").json()
    gen = schema["$defs"]["GenerationSettings"]["properties"]
    assert gen["temperature"]["maximum"] == 2.0
    assert all(p.get("description") for d in schema["$defs"].values() for p in d["properties"].values())
