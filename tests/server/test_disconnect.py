"""A client that gives up (an editor aborting the request of a keystroke it typed past) frees the model."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from pylot.config.config_manager import ConfigManager
from pylot.server import LlamaServer
from tests.server.test_openai_client import free_port


@pytest.fixture(scope="module")
def url(qwen: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cfg = tmp_path_factory.mktemp("disc") / "c.yaml"
    cfg.write_text(f"server: {{port: {free_port()}}}\ncompletion: {{time_limit_s: 600, block_max_lines: 500}}\n")
    server = LlamaServer(ConfigManager(cfg, environ={}), engine=qwen, watch_config=False)  # type: ignore[arg-type]
    yield server.start()
    server.stop()


def wait_idle(url: str, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if httpx.get(f"{url}/v1/status").json()["queue_depth"] == 0:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"the abandoned generation was still running after {timeout} s")


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "def long_function():\n    ", "suffix": "\n", "max_tokens": 1500, "mode": "block"},
        {"prompt": "def long_function():\n", "max_tokens": 1500, "temperature": 0.0},
    ],
    ids=["editor", "raw"],
)
def test_an_abandoned_request_stops_generating(url: str, body: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{url}/v1/completions", json=body, timeout=httpx.Timeout(60, read=1.5))
    # 1500 tokens would take minutes here; the model must be free again within a few token times.
    wait_idle(url, timeout=15)
