"""POST /infill: llama-server's fill-in-the-middle endpoint, so plugins written for it work unchanged."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from pylot.engines.interface import Snippet, current_session
from pylot.server.deps import StateDep
from pylot.server.editor_completion import editor_session, pipeline_infill, stop_type
from pylot.server.jobs import collect_job, make_job, open_stream
from pylot.server.responses import InfillChunk, InfillFinal, Timings
from pylot.server.sse import SSE_RESPONSES, sse, sse_response
from pylot.types import (
    InfillRequest,
)

router = APIRouter(tags=["generation"])


@router.post("/infill", response_model=InfillFinal, responses=SSE_RESPONSES)
async def infill(body: InfillRequest, request: Request, state: StateDep) -> Any:
    """llama-server's /infill, so editor plugins written for llama-server work unchanged.

    Answers go through the editor pipeline (better suggestions, type-ahead); `raw: true` gives
    llama-server's behaviour of returning whatever the model generated. `n_predict: 0` is a warm-up:
    the prompt goes into the KV cache and the answer, at once, has no text."""
    current_session.set(editor_session(request, None))
    params = state.params(
        max_tokens=body.n_predict if body.n_predict is not None and body.n_predict >= 0 else None,
        temperature=body.temperature,
        top_p=body.top_p,
        top_k=body.top_k,
        min_p=body.min_p,
        stop=body.stop or None,
        seed=body.seed,
        time_limit_s=body.t_max_predict_ms / 1000 if body.t_max_predict_ms else None,
    )
    engine = state.engine
    # llama-server places `prompt` after the middle token: the text typed on the cursor's line.
    extra = [Snippet(e.filename, e.text) for e in body.input_extra]
    if not body.raw:
        return await pipeline_infill(state, body, body.input_prefix + body.prompt, body.input_suffix, extra, request)
    prefix, suffix, typed = body.input_prefix, body.input_suffix, body.prompt
    job = make_job(
        state,
        "infill",
        "fim",
        [prefix, suffix, [asdict(s) for s in extra], typed],
        params,
        lambda c: engine.stream_infill(prefix, suffix, params, extra, c, middle=typed),
    )
    started = time.monotonic()

    def final(text: str, finish: str, prompt_n: int, predicted_n: int) -> InfillFinal:
        ms = (time.monotonic() - started) * 1000
        timings = Timings(
            prompt_n=prompt_n,
            predicted_n=predicted_n,
            predicted_ms=round(ms, 1),
            predicted_per_second=round(predicted_n / (ms / 1000), 2) if ms else 0.0,
        )
        return InfillFinal(
            content=text,
            stop_type=stop_type(finish),
            tokens_predicted=predicted_n,
            tokens_evaluated=prompt_n,
            timings=timings,
        )

    if body.stream:
        chunks = await open_stream(state, job, request)

        async def events() -> AsyncIterator[str]:
            async for chunk in chunks:
                if chunk.text:
                    yield sse(InfillChunk(content=chunk.text).model_dump())
                if chunk.finish_reason:
                    last = final("", chunk.finish_reason, chunk.prompt_tokens, chunk.completion_tokens)
                    yield sse(last.model_dump())

        return sse_response(events())

    result, _, _ = await collect_job(state, job, request)
    return JSONResponse(final(result.text, result.finish_reason, result.prompt_tokens, result.tokens_used).model_dump())
