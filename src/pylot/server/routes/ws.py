"""/ws/completions: token streaming over a WebSocket, with cancellation by message."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from pylot.engines.interface import CancelToken
from pylot.errors import CancelledError, PylotError
from pylot.server.deps import WsStateDep
from pylot.server.editor_completion import editor_request, run_pipeline, run_warmup
from pylot.server.jobs import completion_job, completion_prompt, stream_job
from pylot.server.state import ServerState
from pylot.types import CompletionRequest

log = logging.getLogger(__name__)
router = APIRouter(tags=["generation"])


@router.websocket("/ws/completions")
async def ws_completions(websocket: WebSocket, state: WsStateDep) -> None:
    """Each {"type": "completion", "id"} streams tokens; {"type": "cancel", "id"} stops one.

    A new completion on the same socket cancels the ones still running: an editor only wants the newest.
    """
    await websocket.accept()
    running: dict[str, tuple[asyncio.Task[None], CancelToken]] = {}
    send_lock = asyncio.Lock()

    async def send(message: dict[str, Any]) -> None:
        async with send_lock:
            await websocket.send_json(message)

    try:
        while True:
            message = await _receive_object(websocket, state.config.settings.server.max_request_bytes)
            if message is None:
                break
            if isinstance(message, str):  # not a JSON object: say why and keep the socket
                await send({"type": "error", "id": "", "message": message})
                continue
            kind, rid = message.get("type"), str(message.get("id", ""))
            if kind == "cancel":
                if rid in running:
                    running[rid][1].cancel("cancelled by client")
                continue
            if kind != "completion":
                await send({"type": "error", "id": rid, "message": f"unknown message type {kind!r}"})
                continue
            for _task, previous in running.values():
                previous.cancel("superseded by a newer request")
            token = CancelToken()
            task = asyncio.create_task(_complete(state, message, rid, token, send))
            running[rid] = (task, token)
            task.add_done_callback(functools.partial(_forget, running, rid))
    except WebSocketDisconnect:
        pass
    finally:
        for task, token in list(running.values()):
            token.cancel("client went away")
            task.cancel()


async def _receive_object(websocket: WebSocket, limit: int) -> dict[str, Any] | str | None:
    """The next message as a JSON object; a string saying what is wrong with it; None once the client left.

    Messages obey the HTTP body limit (`server.max_request_bytes`); uvicorn closes the socket on frames
    past the server's ws_max_size (app.py) before they reach here."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    if text is None:
        return "binary frames are not accepted: send each message as JSON text"
    if len(text) > limit:  # characters; bytes are at least as many
        return f"message larger than {limit} bytes (server.max_request_bytes)"
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"the message is not JSON ({exc.msg} at position {exc.pos}); send a JSON object"
    if not isinstance(parsed, dict):
        return f"the message must be a JSON object, got {type(parsed).__name__}"
    return parsed


def _forget(running: dict[str, Any], rid: str, _task: object) -> None:
    running.pop(rid, None)


async def _complete(state: ServerState, message: dict[str, Any], rid: str, token: CancelToken, send: Any) -> None:
    try:
        body = CompletionRequest.model_validate({k: v for k, v in message.items() if k not in ("type", "id")})
        state.check_model(body.model)
        prompt = completion_prompt(body.prompt)
        if body.suffix is not None and not body.raw:  # an editor completion, as over HTTP
            await _editor(state, body, prompt, rid, token, send)
            return
        job = completion_job(state, "ws", body, prompt)
        async for chunk in stream_job(state, job, token):
            if chunk.text:
                await send({"type": "token", "id": rid, "text": chunk.text})
            if chunk.finish_reason:
                await send(
                    {
                        "type": "done",
                        "id": rid,
                        "finish_reason": chunk.finish_reason,
                        "usage": {
                            "prompt_tokens": chunk.prompt_tokens,
                            "completion_tokens": chunk.completion_tokens,
                        },
                    }
                )
    except ValidationError as exc:
        await send({"type": "error", "id": rid, "message": f"invalid request: {exc.errors()[0]['msg']}"})
    except CancelledError:  # by the client, or by a newer request on this socket
        await send({"type": "done", "id": rid, "finish_reason": "cancelled", "usage": None})
    except PylotError as exc:  # the stream's end sets the token too, so the error's kind decides
        await send({"type": "error", "id": rid, "message": str(exc)})
    except (WebSocketDisconnect, RuntimeError):
        token.cancel("client went away")
    except Exception:  # every request gets an answer, whatever failed
        log.exception("ws: completion %s failed", rid)
        await send({"type": "error", "id": rid, "message": "internal server error; see the server log"})


async def _editor(
    state: ServerState, body: CompletionRequest, prompt: str, rid: str, token: CancelToken, send: Any
) -> None:
    """The editor pipeline's answer as one token message and `done` (a warm-up, `max_tokens: 0`, only `done`)."""
    req = editor_request(body, prompt, getattr(body, "user", None))
    if body.max_tokens == 0:
        n, _ = await run_warmup(state, req, None, token)
        await send(
            {
                "type": "done",
                "id": rid,
                "finish_reason": "length",
                "usage": {"prompt_tokens": n, "completion_tokens": 0},
            }
        )
        return
    result = await run_pipeline(state, req, None, token)
    if result is None:
        await send({"type": "done", "id": rid, "finish_reason": "cancelled", "usage": None})
        return
    if result.text:
        await send({"type": "token", "id": rid, "text": result.text})
    usage = {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens}
    await send({"type": "done", "id": rid, "finish_reason": result.finish_reason, "usage": usage})
