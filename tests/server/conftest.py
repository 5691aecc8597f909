"""What the server tests share: fixtures, and helpers their modules import from here."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pylot.config.config_manager import ConfigManager
from pylot.server import create_app
from pylot.server.log_buffer import LogBuffer

# Tests check behaviour, not speed: a loaded CI machine must not hit the editor's generation time limit.
NO_TIME_LIMIT = "completion:\n  time_limit_s: 120\n"
# The server answers only requests that name this machine in Host (TestClient's default "testserver" does not).
LOCAL = "http://127.0.0.1:8080"


def make_client(engine: object, tmp: Path, text: str = "", **kwargs: object) -> TestClient:
    path = tmp / "pylot.yaml"
    path.write_text(NO_TIME_LIMIT + text, encoding="utf-8")
    app = create_app(ConfigManager(path, environ={}), engine=engine, **kwargs)  # type: ignore[arg-type]
    return LocalClient(app, base_url=LOCAL)


class LocalClient(TestClient):
    """A TestClient whose WebSockets, too, name this machine (starlette's default ws://testserver is refused)."""

    def websocket_connect(self, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().websocket_connect(
            LOCAL.replace("http", "ws", 1) + url if url.startswith("/") else url, *args, **kwargs
        )


def free_port() -> int:
    """A loopback port free right now, for a live server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sse_events(text: str) -> list[str]:
    """The data of each server-sent event in a streamed body."""
    return [line[6:] for line in text.splitlines() if line.startswith("data: ")]


def error_of(response: Any) -> dict[str, Any]:
    """The OpenAI-shaped error of a TestClient answer (httpx's or httpx2's Response), with exactly its four keys."""
    body = response.json()
    assert set(body["error"]) == {"message", "type", "code", "param"}
    return dict(body["error"])


def log() -> logging.Logger:
    """The logger whose records the `buffer` fixture keeps."""
    return logging.getLogger("pylot.test.console")


@pytest.fixture
def buffer() -> Iterator[LogBuffer]:
    buf = LogBuffer(capacity=5)
    logger = log()
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(buf)
    yield buf
    logger.removeHandler(buf)


@pytest.fixture
def client(qwen: object, tmp_path: Path) -> Iterator[TestClient]:
    """The real server app over the shared real engine, greedy by default."""
    with make_client(qwen, tmp_path, "generation:\n  temperature: 0.0\n  max_tokens: 16\n") as c:
        yield c


@pytest.fixture
def keyed_client(qwen: object, tmp_path: Path) -> Iterator[TestClient]:
    with make_client(qwen, tmp_path, "server:\n  api_keys: [s3cret]\ngeneration:\n  temperature: 0.0\n") as c:
        yield c
