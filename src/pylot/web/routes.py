"""Server routes that only the web console needs: the log tail and the built page itself.

`LogBuffer` is a logging handler that keeps the last records in a ring; `create_console_router` serves
them as `GET /v1/logs` (a filtered snapshot) and `GET /v1/logs/stream` (server-sent events).
`create_console_static_router` serves the React build from `static/`; it carries no data, so it is the
one part of the server that must stay reachable without an API key (a browser cannot add a header to
a page load).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse

from pylot.errors import RequestError
from pylot.server.sse import SSE_RESPONSES, sse_response

STATIC_DIR = Path(__file__).resolve().parent / "static"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
HEARTBEAT_S = 15.0


@dataclass(frozen=True)
class LogEntry:
    """One log record as the console shows it; `seq` increases by one per record."""

    seq: int
    time: float
    level: str
    logger: str
    message: str


class LogBuffer(logging.Handler):
    """A `logging.Handler` that keeps the last `capacity` records in memory, safe to fill from any thread.

    Records keep what the logger already formatted with its arguments; the buffer adds nothing. What
    reaches it is what the logging level lets through, so prompts and code (logged only at DEBUG) are
    here only when the user turned DEBUG on.
    """

    def __init__(self, capacity: int = 2000, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        # (levelno, entry): filtering by number copes with custom level names too.
        self._ring: deque[tuple[int, LogEntry]] = deque(maxlen=capacity)
        self._ring_lock = threading.Lock()
        self._seq = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                # Only the exception's type and text: a traceback can quote source lines.
                message = f"{message} [{record.exc_info[0].__name__}: {record.exc_info[1]}]"
            with self._ring_lock:
                self._seq += 1
                entry = LogEntry(self._seq, record.created, record.levelname, record.name, message)
                self._ring.append((record.levelno, entry))
                waiters = list(self._waiters)
        except Exception:
            self.handleError(record)
            return
        for loop, event in waiters:
            # The loop may be shutting down; a stream that misses its wake-up is closing anyway.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    @property
    def last_seq(self) -> int:
        with self._ring_lock:
            return self._seq

    def snapshot(
        self, *, level: str | None = None, q: str | None = None, limit: int | None = None, since: int = 0
    ) -> list[LogEntry]:
        """The newest `limit` records after `since` at `level` or above whose message or logger holds `q`."""
        min_level = _level_number(level)
        needle = q.casefold() if q else None
        with self._ring_lock:
            entries = list(self._ring)
        matched = [
            e
            for levelno, e in entries
            if e.seq > since
            and levelno >= min_level
            and (needle is None or needle in e.message.casefold() or needle in e.logger.casefold())
        ]
        return matched[-limit:] if limit else matched

    async def follow(
        self,
        *,
        level: str | None = None,
        q: str | None = None,
        since: int = 0,
        is_disconnected: Callable[[], Awaitable[bool]] | None = None,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> AsyncIterator[LogEntry | None]:
        """Yield matching records after `since` as they arrive; `None` marks a quiet `heartbeat_s`."""
        _level_number(level)  # reject a bad level before the stream starts
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        with self._ring_lock:
            self._waiters.add(waiter)
        try:
            while True:
                event.clear()
                # Every record up to `seen` is in this snapshot (or already evicted): records that
                # did not match move the cursor on too.
                seen = self.last_seq
                new = self.snapshot(level=level, q=q, since=since)
                since = max(seen, new[-1].seq) if new else max(seen, since)
                for entry in new:
                    yield entry
                if is_disconnected is not None and await is_disconnected():
                    return
                try:
                    await asyncio.wait_for(event.wait(), timeout=heartbeat_s)
                except asyncio.TimeoutError:
                    yield None
        finally:
            with self._ring_lock:
                self._waiters.discard(waiter)


def _level_number(level: str | None) -> int:
    if not level:
        return logging.NOTSET
    name = level.upper()
    if name not in LEVELS:
        raise RequestError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}", param="level")
    return int(logging.getLevelName(name))


def _sse(entry: LogEntry | None) -> str:
    if entry is None:
        return ": keep-alive\n\n"
    return f"id: {entry.seq}\nevent: log\ndata: {json.dumps(asdict(entry))}\n\n"


def create_console_router(log_buffer: LogBuffer) -> APIRouter:
    """The console's data routes: `GET /v1/logs` and `GET /v1/logs/stream`. They need the API key."""
    router = APIRouter(prefix="/v1/logs", tags=["console"])

    @router.get("")
    def list_logs(
        level: Annotated[str | None, Query(description="Lowest level shown: DEBUG, INFO, ...")] = None,
        q: Annotated[str | None, Query(description="Case-insensitive text in the message or logger.")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000, description="Newest records returned.")] = 200,
    ) -> dict[str, object]:
        """The newest matching records, oldest first."""
        entries = log_buffer.snapshot(level=level, q=q, limit=limit)
        return {
            "object": "list",
            "data": [asdict(e) for e in entries],
            "last_seq": log_buffer.last_seq,
            "capacity": log_buffer.capacity,
        }

    @router.get("/stream", responses=SSE_RESPONSES)
    async def stream_logs(
        request: Request,
        level: Annotated[str | None, Query(description="Lowest level sent.")] = None,
        q: Annotated[str | None, Query(description="Case-insensitive text in the message or logger.")] = None,
        since: Annotated[int | None, Query(ge=0, description="Send records after this seq first.")] = None,
        last_event_id: Annotated[int | None, Header(alias="Last-Event-ID")] = None,
    ) -> StreamingResponse:
        """Server-sent events: `event: log` with one record as JSON per event, `id` = its seq."""
        start = since if since is not None else last_event_id
        if start is None:
            start = log_buffer.last_seq
        _level_number(level)
        events = log_buffer.follow(level=level, q=q, since=start, is_disconnected=request.is_disconnected)

        async def body() -> AsyncIterator[str]:
            yield "retry: 2000\n\n"
            async for entry in events:
                yield _sse(entry)

        return sse_response(body())

    return router


NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Pylot console</title>
<p>The web console has not been built. Run <code>scripts/build_web.sh</code> (or <code>make run</code>)
and reload. The API is up: <a href="/health">/health</a>.</p>"""


def create_console_static_router(static_dir: Path = STATIC_DIR) -> APIRouter:
    """The built console: `GET /` and its hashed files under `/assets/`. Serves no data; no key needed."""
    router = APIRouter(include_in_schema=False)
    assets = (static_dir / "assets").resolve()

    @router.get("/")
    def index() -> Response:
        page = static_dir / "index.html"
        if not page.is_file():
            return HTMLResponse(NOT_BUILT, headers={"Cache-Control": "no-cache"})
        return FileResponse(page, headers={"Cache-Control": "no-cache"})

    @router.get("/assets/{name}")
    def asset(name: str) -> Response:
        path = (assets / name).resolve()
        if path.parent != assets or not path.is_file():
            # Same shape as every other 404 of the API.
            body = {
                "error": {
                    "message": f"no console file {name!r}",
                    "type": "not_found_error",
                    "code": None,
                    "param": None,
                }
            }
            return Response(json.dumps(body), status_code=404, media_type="application/json")
        # File names carry a content hash, so a cached copy never goes stale.
        return FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable"})

    return router
