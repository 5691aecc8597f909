"""A first-come, first-served gate: one generation at a time per loaded model."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from pylot.engines.interface import CancelToken
from pylot.errors import CancelledError


class FairGate:
    """Lets one holder through at a time, in arrival order; waiters can be cancelled while queued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._busy = False

    @property
    def depth(self) -> int:
        """Requests running plus requests waiting."""
        with self._lock:
            return len(self._waiters) + int(self._busy)

    @contextmanager
    def turn(self, cancel: CancelToken | None = None) -> Iterator[None]:
        ticket = threading.Event()
        with self._lock:
            if not self._busy and not self._waiters:
                self._busy = True
                ticket.set()
            else:
                self._waiters.append(ticket)
        if not ticket.is_set():
            # One wake-up, from the grant or from the cancel; no polling (thirty queued requests polling
            # every 20 ms took the GIL from the generating thread).
            if cancel is not None:
                cancel.on_cancel(ticket.set)
            ticket.wait()
            with self._lock:
                if ticket in self._waiters:  # woken by the cancel, not granted: leave the queue
                    self._waiters.remove(ticket)
                    raise CancelledError(cancel.reason if cancel is not None else "cancelled while queued")
        try:
            if cancel is not None and cancel.cancelled:
                raise CancelledError(cancel.reason or "cancelled while queued")
            yield
        finally:
            with self._lock:
                if self._waiters:
                    self._waiters.popleft().set()
                else:
                    self._busy = False
