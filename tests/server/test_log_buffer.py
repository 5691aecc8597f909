"""The log ring the console reads: the newest records, filtered by level and text, followed live."""

from __future__ import annotations

import asyncio
import logging
import threading

from pylot.server.log_buffer import LogBuffer, LogEntry
from tests.server.conftest import log


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


def test_a_custom_level_below_debug_is_kept_but_filtered_by_number(buffer: LogBuffer) -> None:
    logging.addLevelName(5, "TRACE")
    log().setLevel(5)
    log().log(5, "token 17 sampled")
    log().debug("batch done")
    assert [e.level for e in buffer.snapshot()] == ["TRACE", "DEBUG"]
    assert [e.message for e in buffer.snapshot(level="DEBUG")] == ["batch done"]
