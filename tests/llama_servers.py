"""Real llama.cpp `llama-server` processes, for the tests that need one (the fixtures are in conftest.py).

The binary comes from scripts/build_llama_server.py (`make llama-server`, part of `make test`). Servers
run on 127.0.0.1 at free ports with small contexts.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REAL_STORE
from tests.integration.faults import free_port

API_KEY = "it-key-5b1e"


def llama_server_binary() -> Path:
    exe = "llama-server.exe" if os.name == "nt" else "llama-server"
    found = sorted((REAL_STORE.parent / "llama-server").glob(f"*/bin/{exe}"))
    if not found:
        pytest.fail(
            "llama-server is not built; run `make llama-server` (or .venv/bin/python scripts/build_llama_server.py)"
        )
    return found[-1]


class LlamaProcess:
    """One llama-server; `kill()` is a crash, `stop()` a normal end."""

    def __init__(self, model: Path, log_dir: Path, *, threads: int = 2, ctx: int = 2048, parallel: int = 2,
                 api_key: str | None = None, extra: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_key = api_key
        args = [str(llama_server_binary()), "-m", str(model), "-t", str(threads), "-c", str(ctx),
                "-np", str(parallel), "--host", "127.0.0.1", "--port", str(self.port), *extra]  # fmt: skip
        if api_key:
            args += ["--api-key", api_key]
        self.log = log_dir / f"llama-server-{self.port}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        self._wait_ready(60)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        tail = self.log.read_text(errors="replace")[-2000:]
        pytest.fail(f"llama-server did not become ready on {self.url}:\n{tail}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
