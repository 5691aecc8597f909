"""Server-sent events: the framing every streaming endpoint uses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse


def sse(data: Any) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


# For a route's `responses=`: the schema then says a 200 may also be an event stream (when asked to stream).
SSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON, or with `stream: true` server-sent events: `data: {json}` lines",
        "content": {"text/event-stream": {}},  # each event's data: a JSON chunk, then [DONE]
    }
}


def sse_response(events: AsyncIterator[str]) -> StreamingResponse:
    # X-Accel-Buffering: a reverse proxy (nginx) in front must not hold events back.
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)
