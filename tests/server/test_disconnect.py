"""A client that gives up (an editor aborting the request of a keystroke it typed past) frees the model.

The engine here is a double that produces a token every 20 ms until it is cancelled, so the test
measures the server's part (noticing the disconnect, cancelling) and not how fast a model writes. That
a real model stops within a token of a cancel is tested in tests/engines/llama_cpp/test_engine.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from pylot.config.config_manager import ConfigManager
from pylot.server import PylotServer
from pylot.types import Chunk
from tests.doubles import Call, ScriptedEngine
from tests.server.conftest import free_port


class EndlessEngine(ScriptedEngine):
    """Writes 'x = 1' lines forever, one token each 20 ms, until cancelled."""

    def __init__(self) -> None:
        super().__init__(self._endless, model_id="endless")
        self.running = 0
        self.cancelled_after: list[float] = []

    def _endless(self, call: Call) -> Iterator[Chunk]:
        self.running += 1
        started = time.monotonic()
        try:
            n = 0
            while True:
                if call.cancel is not None and call.cancel.cancelled:
                    self.cancelled_after.append(time.monotonic() - started)
                    yield Chunk("", "cancelled", 5, n)
                    return
                n += 1
                yield Chunk("x = 1\n    " if n % 2 else "", None, 5, n)
                time.sleep(0.02)
        finally:
            self.running -= 1


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, EndlessEngine]]:
    cfg = tmp_path_factory.mktemp("disc") / "c.yaml"
    cfg.write_text(
        f"server: {{port: {free_port()}}}\ncompletion: {{time_limit_s: 600, block_max_lines: 100000}}\n"
        "cache: {enabled: false}\n"
    )
    engine = EndlessEngine()
    server = PylotServer(ConfigManager(cfg, environ={}), engine=engine, watch_config=False)  # type: ignore[arg-type]
    yield server.start(), engine
    server.stop()


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "def f():\n    ", "suffix": "\n", "max_tokens": 30000, "mode": "block"},
        {"prompt": "def f():\n", "max_tokens": 30000},
    ],
    ids=["editor", "raw"],
)
def test_an_abandoned_request_stops_generating(served: tuple[str, EndlessEngine], body: dict) -> None:  # type: ignore[type-arg]
    url, engine = served
    before = len(engine.cancelled_after)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{url}/v1/completions", json=body, timeout=httpx.Timeout(30, read=1.0))
    deadline = time.monotonic() + 5
    while engine.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert engine.running == 0, "the abandoned generation is still running"
    assert len(engine.cancelled_after) == before + 1
    assert engine.cancelled_after[-1] < 2.0  # the client gave up after 1 s
