"""The examples in examples/ run as documented against a real server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pylot.config.config_manager import ConfigManager
from pylot.config.settings import Settings
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


@pytest.mark.parametrize("example", ["openai_client.py", "websocket_stream.py"])
def test_example_runs(example: str, server_url: str) -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / example)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYLOT_URL": server_url},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


def test_example_config_is_valid() -> None:
    settings = ConfigManager(ROOT / "examples" / "pylot.yaml", environ={}).settings
    assert isinstance(settings, Settings) and settings.model.model == "qwen2.5-coder-1.5b"
