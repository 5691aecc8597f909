"""The examples in examples/ run as documented: against a real Pylot server, the real model in process,
and a real llama-server behind an API key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from pylot.config.config_manager import ConfigManager
from pylot.config.settings import Settings
from tests.llama_servers import API_KEY, LlamaProcess
from tests.server.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server_url(qwen: object, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from pylot.server import PylotServer

    cfg = tmp_path_factory.mktemp("ex") / "c.yaml"
    cfg.write_text(
        f"server: {{port: {free_port()}}}\ngeneration: {{max_tokens: 40}}\ncompletion: {{time_limit_s: 120}}\n"
    )
    server = PylotServer(ConfigManager(cfg, environ={}), engine=qwen)  # type: ignore[arg-type]
    yield server.start()
    server.stop()


def run_example(example: str, **env: str) -> str:
    """The example's output; it must end well and print something."""
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / example)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()
    return r.stdout


@pytest.mark.parametrize("example", ["openai_client.py", "websocket_stream.py"])
def test_example_runs(example: str, server_url: str) -> None:
    run_example(example, PYLOT_URL=server_url)


# ---- the specification's Python forms, one example each -------------------------------------------------


def test_llama_llm_example_generates_with_the_model(qwen_path: Path) -> None:
    out = run_example("llama_llm.py", PYLOT_MODEL_PATH=str(qwen_path))
    assert re.search(r"\[\d+ tokens, finish_reason=(stop|length)\]", out), out


def test_external_client_example_awaits_a_llama_server_with_its_key(smollm_server: LlamaProcess) -> None:
    out = run_example("external_client.py", PYLOT_LLAMA_URL=smollm_server.url, PYLOT_LLAMA_API_KEY=API_KEY)
    assert re.search(r"\[[1-9]\d* tokens, finish_reason=(stop|length)\]", out), out


def test_code_parser_example() -> None:
    out = run_example("code_parser.py")
    assert "code_parser: python, ok=True" in out and "method   area" in out and '"ok": false' in out


def test_model_cache_example() -> None:
    out = run_example("model_cache.py")
    assert "after set: '    return a + b'" in out and "size bounded on set: 2 entries; k0 is None" in out
    assert "TTL checked on get: k2 is None" in out


def test_config_manager_example(tmp_path: Path) -> None:
    config = tmp_path / "pylot.yaml"
    out = run_example("config_manager.py", PYLOT_CONFIG=str(config))
    assert "after update: linter.level = 2" in out and "refused:" in out and "'linter.level' = 9" in out
    assert ConfigManager(config, environ={}, validators={"linter": LinterSettings}).get("linter", "level") == 2


class LinterSettings(BaseModel):
    level: int


def test_example_config_is_valid() -> None:
    settings = ConfigManager(ROOT / "examples" / "pylot.yaml", environ={}).settings
    assert isinstance(settings, Settings) and settings.model.model == "qwen2.5-coder-1.5b"
