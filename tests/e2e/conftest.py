"""A real Pylot server on a free loopback port, running the real default model, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def tools_missing(reason: str) -> None:
    """A browser or VS Code test whose tools are not installed: `make test` installs them first and sets
    PYLOT_REQUIRE_E2E, so there (and on CI) this is a failure of the set-up; pytest run alone skips."""
    if os.environ.get("PYLOT_REQUIRE_E2E") or os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class RunningServer:
    url: str
    api_key: str | None
    config_path: Path
    log_path: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    tmp: Path, *, api_key: str | None = None, model: str | None = None
) -> tuple[subprocess.Popen[bytes], RunningServer]:
    port = free_port()
    config = tmp / "pylot.yaml"
    # Behaviour, not speed: a loaded machine must not hit the editor's generation time limit.
    config.write_text("generation:\n  temperature: 0.0\ncompletion:\n  time_limit_s: 120\n", encoding="utf-8")
    log = tmp / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "pylot",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--config",
        str(config),
    ]
    if model or os.environ.get("PYLOT_TEST_MODEL"):
        cmd += ["--model", model or os.environ["PYLOT_TEST_MODEL"]]
    if api_key:
        cmd += ["--api-key", api_key]
    env = {**os.environ, "PYLOT_DATA_DIR": str(tmp / "data")}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pylot serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, RunningServer(url, api_key, config, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"pylot serve did not become healthy:\n{log.read_text()}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def pylot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real server for the session, no API key."""
    proc, server = start_server(tmp_path_factory.mktemp("pylot-server"))
    yield server
    stop_server(proc)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
