"""LogBuffer: a logging handler that keeps the last records in a ring, for the console's log view
(served by routes/logs.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from pylot.errors import RequestError

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
        min_level = level_number(level)
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
        level_number(level)  # reject a bad level before the stream starts
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


def level_number(level: str | None) -> int:
    if not level:
        return logging.NOTSET
    name = level.upper()
    if name not in LEVELS:
        raise RequestError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}", param="level")
    return int(logging.getLevelName(name))
