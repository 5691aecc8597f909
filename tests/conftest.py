"""Shared fixtures: the real small models from the store, one engine per session, a private data dir."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pylot.config.settings import ModelSettings, Settings

if TYPE_CHECKING:
    from tests.llama_servers import LlamaProcess


@pytest.fixture(autouse=True, scope="session")
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Databases written by tests go to a temp dir, never to the user's ~/.cache/pylot/data."""
    old = os.environ.get("PYLOT_DATA_DIR")
    os.environ["PYLOT_DATA_DIR"] = str(tmp_path_factory.mktemp("pylot-data"))
    yield
    if old is None:
        os.environ.pop("PYLOT_DATA_DIR", None)
    else:
        os.environ["PYLOT_DATA_DIR"] = old


# The user's real store, fixed at import: some tests point PYLOT_HOME at a temporary store.
REAL_STORE = Settings().store_dir()


def store_model(model_id: str) -> Path:
    path = REAL_STORE / f"{model_id}.gguf"
    if not path.exists():
        pytest.fail(f"{model_id} is not in the model store ({path}); run `make models-test` first")
    return path


@pytest.fixture(scope="session")
def qwen_path() -> Path:
    return store_model("qwen2.5-coder-0.5b")


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    return store_model("smollm2-135m")


@pytest.fixture(scope="session")
def qwen(qwen_path: Path) -> Iterator[object]:
    """The default model, loaded once for the whole session (n_ctx 2048 keeps it quick)."""
    from pylot.engines.llama_cpp.engine import LlamaLLM

    engine = LlamaLLM(qwen_path, ModelSettings(n_ctx=2048), model_id="qwen2.5-coder-0.5b")
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def smollm(smollm_path: Path) -> Iterator[object]:
    from pylot.engines.llama_cpp.engine import LlamaLLM

    engine = LlamaLLM(smollm_path, ModelSettings(n_ctx=1024), model_id="smollm2-135m")
    yield engine
    engine.close()


# ---- real llama-servers (tests/llama_servers.py), for the integration and the example tests ------------


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llama-server-logs")


@pytest.fixture(scope="session")
def smollm_server(smollm_path: Path, server_logs: Path) -> Iterator[LlamaProcess]:
    """SmolLM2-135M (fast, chat, no FIM), two slots, behind an API key."""
    from tests.llama_servers import API_KEY, LlamaProcess

    server = LlamaProcess(smollm_path, server_logs, api_key=API_KEY)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def qwen_server(qwen_path: Path, server_logs: Path) -> Iterator[LlamaProcess]:
    """Qwen2.5-Coder-0.5B, which has FIM tokens, for /infill; one slot, and /metrics."""
    from tests.llama_servers import LlamaProcess

    server = LlamaProcess(qwen_path, server_logs, parallel=1, extra=("--metrics",))
    yield server
    server.stop()


# `make test` (PYLOT_REQUIRE_E2E) and CI: a test skipped on Linux means the set-up did not install what it
# needs, so the run fails and lists them. Only a skip that names another platform is expected here.
_SKIPPED: list[str] = []


def _must_not_skip() -> bool:
    return sys.platform == "linux" and bool(os.environ.get("PYLOT_REQUIRE_E2E") or os.environ.get("CI"))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and _must_not_skip():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SKIPPED and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SKIPPED:
        terminalreporter.section("skipped tests fail `make test` on Linux", red=True)
        for line in _SKIPPED:
            terminalreporter.line(line)
