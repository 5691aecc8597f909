"""GET /v1/logs (a filtered snapshot of the recent log records) and GET /v1/logs/stream (server-sent
events), for the web console. They need the API key like every data route."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from pylot.server.log_buffer import LogBuffer, LogEntry, level_number
from pylot.server.sse import SSE_RESPONSES, sse_response


def _sse(entry: LogEntry | None) -> str:
    if entry is None:
        return ": keep-alive\n\n"
    return f"id: {entry.seq}\nevent: log\ndata: {json.dumps(asdict(entry))}\n\n"


def create_logs_router(log_buffer: LogBuffer) -> APIRouter:
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
        level_number(level)
        events = log_buffer.follow(level=level, q=q, since=start, is_disconnected=request.is_disconnected)

        async def body() -> AsyncIterator[str]:
            yield "retry: 2000\n\n"
            async for entry in events:
                yield _sse(entry)

        return sse_response(body())

    return router
