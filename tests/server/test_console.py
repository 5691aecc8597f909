"""The console's server routes: the log ring, its HTTP snapshot and stream, and the static page."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from pylot.errors import RequestError
from pylot.server import errors
from pylot.server.log_buffer import LogBuffer, LogEntry
from pylot.server.routes.console import create_console_static_router
from pylot.server.routes.logs import create_logs_router


@pytest.fixture
def buffer() -> Iterator[LogBuffer]:
    buf = LogBuffer(capacity=5)
    logger = logging.getLogger("pylot.test.console")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(buf)
    yield buf
    logger.removeHandler(buf)


def log() -> logging.Logger:
    return logging.getLogger("pylot.test.console")


def app_with(buffer: LogBuffer) -> TestClient:
    app = FastAPI()

    @app.exception_handler(RequestError)
    def _bad_request(_: Request, exc: RequestError) -> JSONResponse:
        # Stands in for the server's own translation at the HTTP edge.
        body = {"message": str(exc), "type": "invalid_request_error", "code": None, "param": exc.param}
        return JSONResponse({"error": body}, status_code=400)

    app.include_router(create_logs_router(buffer))
    return TestClient(app)


def test_buffer_keeps_only_the_newest_records(buffer: LogBuffer) -> None:
    for i in range(8):
        log().info("request %d done", i)
    entries = buffer.snapshot()
    assert [e.message for e in entries] == [f"request {i} done" for i in range(3, 8)]
    assert [e.seq for e in entries] == [4, 5, 6, 7, 8]
    assert all(e.level == "INFO" and e.logger == "pylot.test.console" for e in entries)


def test_snapshot_filters_by_lowest_level_and_text(buffer: LogBuffer) -> None:
    log().debug("tokenized 12 tokens")
    log().info("Loaded model qwen")
    log().warning("cache is full")
    log().error("backend down")
    assert [e.level for e in buffer.snapshot(level="warning")] == ["WARNING", "ERROR"]
    assert [e.message for e in buffer.snapshot(q="MODEL")] == ["Loaded model qwen"]
    assert [e.message for e in buffer.snapshot(q="console", limit=2)] == ["cache is full", "backend down"]


def test_exception_text_is_kept_without_the_traceback(buffer: LogBuffer) -> None:
    try:
        raise ValueError("bad header")
    except ValueError:
        log().exception("request failed")
    assert buffer.snapshot()[-1].message == "request failed [ValueError: bad header]"


def test_get_logs_answers_matching_records_oldest_first(buffer: LogBuffer) -> None:
    log().info("first")
    log().warning("second")
    log().info("third")
    answer = app_with(buffer).get("/v1/logs", params={"level": "INFO", "limit": 2})
    assert answer.status_code == 200
    body = answer.json()
    assert [r["message"] for r in body["data"]] == ["second", "third"]
    assert set(body["data"][0]) == {"seq", "time", "level", "logger", "message"}
    assert body["last_seq"] == 3 and body["capacity"] == 5


def test_get_logs_rejects_an_unknown_level_naming_the_parameter(buffer: LogBuffer) -> None:
    answer = app_with(buffer).get("/v1/logs", params={"level": "LOUD"})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "level"


def test_follow_yields_new_matching_records_from_other_threads(buffer: LogBuffer) -> None:
    log().warning("before the stream")

    async def collect() -> list[LogEntry]:
        got: list[LogEntry] = []
        stream = buffer.follow(level="WARNING", since=buffer.last_seq, heartbeat_s=5)

        def write() -> None:
            log().info("quiet")
            log().warning("disk almost full")
            log().error("backend down")

        threading.Timer(0.05, write).start()
        async for entry in stream:
            assert entry is not None
            got.append(entry)
            if len(got) == 2:
                break
        await stream.aclose()
        return got

    got = asyncio.run(asyncio.wait_for(collect(), timeout=5))
    assert [e.message for e in got] == ["disk almost full", "backend down"]


def test_follow_sends_a_heartbeat_when_quiet(buffer: LogBuffer) -> None:
    async def first() -> LogEntry | None:
        stream = buffer.follow(heartbeat_s=0.05)
        item = await anext(stream)
        await stream.aclose()
        return item

    assert asyncio.run(first()) is None


def test_static_router_serves_the_built_page_and_its_assets(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>", encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    app = FastAPI()
    errors.install(app)  # the API's error answers, as create_app installs them
    app.include_router(create_console_static_router(tmp_path))
    client = TestClient(app)

    page = client.get("/")
    assert page.status_code == 200 and "id=root" in page.text
    script = client.get("/assets/index-abc123.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "immutable" in script.headers["cache-control"]
    assert client.get("/assets/..%2Fsecret.txt").status_code == 404
    assert client.get("/assets/missing.js").json()["error"]["type"] == "not_found_error"


def test_static_router_explains_how_to_build_when_there_is_no_build(tmp_path: Path) -> None:
    app = FastAPI()
    app.include_router(create_console_static_router(tmp_path / "nothing"))
    page = TestClient(app).get("/")
    assert page.status_code == 200 and "scripts/build_web.sh" in page.text


def test_a_custom_level_below_debug_is_kept_but_filtered_by_number(buffer: LogBuffer) -> None:
    logging.addLevelName(5, "TRACE")
    log().setLevel(5)
    log().log(5, "token 17 sampled")
    log().debug("batch done")
    assert [e.level for e in buffer.snapshot()] == ["TRACE", "DEBUG"]
    assert [e.message for e in buffer.snapshot(level="DEBUG")] == ["batch done"]
