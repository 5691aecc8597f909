"""The editor link's endpoints: WS /ws/editor, where editors (the VS Code extension) stay connected, and
GET /v1/editors, which lists them. The protocol and the hub are in pylot.bridge.vscode."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from pylot.bridge.vscode import CLOSE_BAD_HELLO, HELLO_TIMEOUT_S, EditorHub, Hello

log = logging.getLogger(__name__)


def create_editor_router(hub: EditorHub) -> APIRouter:
    """`WS /ws/editor` for editors and `GET /v1/editors` to list them (the server's middleware checks
    API keys, Host and Origin before either runs)."""
    router = APIRouter(tags=["editors"])

    @router.websocket("/ws/editor")
    async def editor_socket(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            first = await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT_S)
            hello = Hello.model_validate_json(first)
        except (asyncio.TimeoutError, ValidationError, KeyError):
            await websocket.close(code=CLOSE_BAD_HELLO, reason="expected a hello message first")
            return
        except WebSocketDisconnect:
            return
        session = hub.connect(hello, websocket.send_json)
        try:
            while True:
                text = await websocket.receive_text()
                try:
                    message = json.loads(text)
                except ValueError:
                    log.debug("editor %s sent %d bytes that are not JSON", session.info.id, len(text))
                    continue
                hub.deliver(session, message)
        except (WebSocketDisconnect, KeyError):
            # KeyError: starlette's receive_text on a frame that is not text, or on the close message.
            pass
        finally:
            hub.disconnect(session)

    @router.get("/v1/editors")
    async def list_editors() -> JSONResponse:
        return JSONResponse({"object": "list", "data": [asdict(e) for e in hub.editors()]})

    return router
