"""POST /v1/completions: OpenAI completions; with a `suffix`, the editor pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request

from pylot.engines.interface import current_session
from pylot.server.deps import StateDep
from pylot.server.editor_completion import editor_completion, editor_session
from pylot.server.jobs import collect_job, completion_job, completion_prompt, open_stream, usage
from pylot.server.responses import CompletionMeta, TextChoice, TextCompletion, TextCompletionChunk
from pylot.server.sse import SSE_RESPONSES, sse, sse_response
from pylot.types import (
    CompletionRequest,
    new_id,
    now,
)

router = APIRouter(tags=["generation"])


@router.post("/v1/completions", response_model=TextCompletion, responses=SSE_RESPONSES)
async def completions(body: CompletionRequest, request: Request, state: StateDep) -> Any:
    """OpenAI completions. With `suffix` this is an editor completion: fill-in-the-middle through the
    pipeline (context window, line or block, post-processing, type-ahead) unless `raw` is true."""
    state.check_model(body.model)
    current_session.set(editor_session(request, getattr(body, "user", None)))
    prompt = completion_prompt(body.prompt)
    if body.suffix is not None and not body.raw:
        return await editor_completion(state, body, prompt, request)
    job = completion_job(state, "completions", body, prompt)
    engine = state.engine
    fim = body.suffix is not None
    text_prompt = prompt
    model_id = engine.capabilities().model_id
    cid, created = new_id("cmpl"), now()

    if body.stream:
        chunks = await open_stream(state, job, request)

        async def events() -> AsyncIterator[str]:
            async for chunk in chunks:
                if chunk.text or chunk.finish_reason:
                    choice = TextChoice(text=chunk.text, finish_reason=chunk.finish_reason)
                    event = TextCompletionChunk(id=cid, created=created, model=model_id, choices=[choice])
                    yield sse(event.model_dump())
            yield "data: [DONE]\n\n"

        return sse_response(events())

    result, cached, latency = await collect_job(state, job, request)
    text = (text_prompt + result.text) if body.echo else result.text
    return TextCompletion(
        id=cid,
        created=created,
        model=model_id,
        choices=[TextChoice(text=text, finish_reason=result.finish_reason)],
        usage=usage(result),
        pylot=CompletionMeta(cached=cached, latency_ms=round(latency, 1), fim=fim),
    )
