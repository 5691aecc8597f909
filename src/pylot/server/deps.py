"""Request dependencies as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, WebSocket

from pylot.server.state import ServerState


def get_state(request: Request) -> ServerState:
    return request.app.state.pylot  # type: ignore[no-any-return]


def get_ws_state(websocket: WebSocket) -> ServerState:
    return websocket.app.state.pylot  # type: ignore[no-any-return]


StateDep = Annotated[ServerState, Depends(get_state)]
WsStateDep = Annotated[ServerState, Depends(get_ws_state)]
