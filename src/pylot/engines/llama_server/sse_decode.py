"""Server-sent events, parsed incrementally from bytes as they arrive (the WHATWG event-stream rules).

Bytes go in as the network delivers them, split anywhere; whole events come out. Lines are cut on
bytes (CR, LF or CRLF, a CRLF may be split across reads) and only complete lines are decoded, so a
multi-byte UTF-8 character split between two reads is never broken. Comment lines (`:` pings) are
skipped; several `data:` lines make one event joined by newlines.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One dispatched event."""

    data: str
    event: str = "message"
    id: str | None = None


class SSEDecoder:
    """Feed bytes with `feed`, collect events; call `flush` at the end of the stream."""

    def __init__(self) -> None:
        self._buffer = b""
        self._skip_lf = False  # the last read ended with CR: a leading LF belongs to that line break
        self._first_line = True
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[Event]:
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        buf = self._buffer + chunk
        events: list[Event] = []
        start = 0
        while True:
            cr, lf = buf.find(b"\r", start), buf.find(b"\n", start)
            if cr < 0 and lf < 0:
                break
            end = lf if cr < 0 or (0 <= lf < cr) else cr
            line = buf[start:end]
            if buf[end : end + 1] == b"\r":
                if end + 1 == len(buf):
                    self._skip_lf = True  # might be the first half of a CRLF split across reads
                    start = end + 1
                elif buf[end + 1 : end + 2] == b"\n":
                    start = end + 2
                else:
                    start = end + 1
            else:
                start = end + 1
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._buffer = buf[start:]
        return events

    def flush(self) -> list[Event]:
        """The end of the stream: an unterminated last line is dropped, a complete pending event is kept.

        Servers that close the stream right after their last `data:` line (no blank line) still get
        their last event delivered; a line cut off mid-way is never parsed.
        """
        self._buffer = b""
        event = self._dispatch()
        return [event] if event is not None else []

    def _line(self, raw: bytes) -> Event | None:
        line = raw.decode("utf-8", errors="replace")
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: llama-server's keep-alive pings
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None  # "retry" and unknown fields are ignored, as the standard says

    def _dispatch(self) -> Event | None:
        if not self._data:
            self._event = ""
            return None
        event = Event("\n".join(self._data), self._event or "message", self._id)
        self._data, self._event = [], ""
        return event
