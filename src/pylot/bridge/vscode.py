"""The server side of the editor link: running editors (the VS Code extension) keep a WebSocket open at
`/ws/editor`, and Pylot's tools and agent ask them for their open files, selection and diagnostics, or
propose and apply edits.

Protocol, JSON text frames:

    editor -> server  {"type": "hello", "editor": "vscode", "version": "0.1.0", "workspace": ["/path", ...]}
    server -> editor  {"type": "request", "id": 7, "method": "getSelection", "params": {}}
    editor -> server  {"type": "response", "id": 7, "result": {...}}
                   or {"type": "response", "id": 7, "error": "why not"}

Methods: getOpenFiles {includeText?}, getSelection, getDiagnostics {path?}, previewEdit and applyEdit
{path | uri, edits: [{range: {start: {line, character}, end: {...}}, newText}] | text}; positions are
0-based (LSP style). `EditorHub` tracks the connected editors and awaits their answers with a timeout;
`pylot.server.routes.editors` serves the socket and `GET /v1/editors`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocketDisconnect
from pydantic import Field

from pylot.errors import EditorRequestError, EditorTimeoutError, EditorUnavailableError
from pylot.types import TextBody

log = logging.getLogger(__name__)

EDITOR_METHODS = ("getOpenFiles", "getSelection", "getDiagnostics", "previewEdit", "applyEdit")
HELLO_TIMEOUT_S = 10.0
# WebSocket close codes (4000-4999 are the application's own).
CLOSE_BAD_HELLO = 4400


class Hello(TextBody):
    """The first message an editor sends."""

    type: str = Field(pattern="^hello$", description="Always 'hello'.")
    editor: str = Field(min_length=1, max_length=64, description="Which editor: 'vscode', ...")
    version: str = Field(default="", max_length=64, description="Version of the editor's extension.")
    workspace: list[str] = Field(default_factory=list, max_length=64, description="Workspace folders.")


@dataclass(frozen=True)
class EditorInfo:
    """A connected editor, as `GET /v1/editors` lists it."""

    id: str
    editor: str
    version: str
    workspace: list[str]
    connected_at: float


SendJson = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class EditorSession:
    """One connected editor: how to send to it, and the requests waiting for its answers."""

    info: EditorInfo
    send_json: SendJson
    pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.send_json(message)


class EditorHub:
    """The editors connected right now, and request/response with them.

    Lives on the server's event loop: call `request` from it, or `request_blocking` from a worker thread.
    """

    def __init__(self, *, request_timeout_s: float = 10.0) -> None:
        self.request_timeout_s = request_timeout_s
        self._sessions: dict[str, EditorSession] = {}
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None

    def connect(self, hello: Hello, send_json: SendJson) -> EditorSession:
        self._loop = asyncio.get_running_loop()
        info = EditorInfo(
            id=uuid.uuid4().hex[:12],
            editor=hello.editor,
            version=hello.version,
            workspace=list(hello.workspace),
            connected_at=time.time(),
        )
        session = EditorSession(info, send_json)
        self._sessions[info.id] = session
        # What the editor calls itself is the client's text: only at DEBUG, like everything a client sends.
        log.info("editor connected: %s (%d workspace folders)", info.id, len(info.workspace))
        log.debug("editor %s is %s %s", info.id, info.editor, info.version)
        return session

    def disconnect(self, session: EditorSession) -> None:
        self._sessions.pop(session.info.id, None)
        for future in session.pending.values():
            if not future.done():
                future.set_exception(EditorUnavailableError(f"editor {session.info.id} disconnected"))
        session.pending.clear()
        log.info("editor disconnected: %s", session.info.id)

    def editors(self) -> list[EditorInfo]:
        """Connected editors, the most recent last."""
        return [s.info for s in self._sessions.values()]

    def deliver(self, session: EditorSession, message: Any) -> None:
        """A message from the editor: resolves the request it answers; anything else is ignored."""
        if not isinstance(message, dict) or message.get("type") != "response":
            log.debug("editor %s sent a message that is not a response", session.info.id)
            return
        request_id = message.get("id")
        future = session.pending.pop(request_id, None) if isinstance(request_id, int) else None
        if future is None or future.done():
            log.debug("editor %s answered unknown or expired request %r", session.info.id, request_id)
            return
        error = message.get("error")
        if error is not None:
            future.set_exception(EditorRequestError(f"the editor answered: {error}"))
        else:
            future.set_result(message.get("result"))

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        editor_id: str | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """Ask an editor (the given one, else the most recently connected) and await its result."""
        session = self._session(editor_id)
        timeout = timeout_s if timeout_s is not None else self.request_timeout_s
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        session.pending[request_id] = future
        started = time.monotonic()
        try:
            await session.send({"type": "request", "id": request_id, "method": method, "params": params or {}})
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise EditorTimeoutError(f"the editor did not answer {method} within {timeout:g} s") from None
        except (RuntimeError, OSError, WebSocketDisconnect) as exc:
            raise EditorUnavailableError(f"cannot send to editor {session.info.id}: {exc}") from exc
        finally:
            session.pending.pop(request_id, None)
            log.debug("editor request %s #%d: %.0f ms", method, request_id, 1000 * (time.monotonic() - started))

    def request_blocking(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        editor_id: str | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """`request` for code that runs in a worker thread (tools, the agent), not on the event loop."""
        if self._loop is None or not self._sessions:
            raise EditorUnavailableError("no editor is connected")
        wait = (timeout_s if timeout_s is not None else self.request_timeout_s) + 5
        coroutine = self.request(method, params, editor_id=editor_id, timeout_s=timeout_s)
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=wait)

    def _session(self, editor_id: str | None) -> EditorSession:
        if editor_id is not None:
            if editor_id not in self._sessions:
                raise EditorUnavailableError(f"no connected editor with id {editor_id!r}")
            return self._sessions[editor_id]
        if not self._sessions:
            raise EditorUnavailableError("no editor is connected (open VS Code with the GC-Forged-Pylot extension)")
        return next(reversed(self._sessions.values()))
