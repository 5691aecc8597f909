"""POST /v1/events: what the user did with a suggestion (viewed, accepted, dismissed)."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import Field

from pylot.server.deps import StateDep
from pylot.types import TextBody

router = APIRouter(tags=["service"])


class FeedbackEvent(TextBody):
    completion_id: str = Field(min_length=1, max_length=200)
    event: Literal["view", "accept", "dismiss"]
    language: str | None = Field(default=None, max_length=64)
    latency_ms: float | None = Field(default=None, ge=0)


@router.post("/v1/events", status_code=204)
async def events(body: FeedbackEvent, state: StateDep) -> Response:
    """What the user did with a suggestion; feeds the acceptance rate."""
    await asyncio.to_thread(state.feedback.record, body.completion_id, body.event, body.language, body.latency_ms)
    return Response(status_code=204)
