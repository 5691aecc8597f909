"""The external-backend tests: real llama.cpp `llama-server` processes (tests/llama_servers.py; the
shared servers are fixtures in tests/conftest.py). Every test is bounded by a watchdog, so a hang prints
the stacks and ends the run instead of waiting forever.
"""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llama_servers import LlamaProcess

TEST_LIMIT_S = 120


@pytest.fixture(autouse=True)
def _watchdog() -> Iterator[None]:
    """No test here may hang: past the limit the stacks are printed and the run ends."""
    faulthandler.dump_traceback_later(TEST_LIMIT_S, exit=True, file=sys.stderr)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def doomed_server(smollm_path: Path, server_logs: Path) -> Iterator[LlamaProcess]:
    """A server of its own, for tests that kill it."""
    server = LlamaProcess(smollm_path, server_logs, ctx=1024, parallel=1)
    yield server
    server.kill()
