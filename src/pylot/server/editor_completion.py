"""Editor completions through the pipeline: /v1/completions with a suffix, and /infill."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from pylot.completion import CodeCompletion, CodeCompletionRequest
from pylot.engines.interface import CancelToken, Snippet
from pylot.errors import CancelledError
from pylot.server.responses import CompletionMeta, InfillChunk, InfillFinal, TextChoice, TextCompletion, Timings, Usage
from pylot.server.sse import sse, sse_response
from pylot.server.state import ServerState
from pylot.server.streaming import cancel_on_disconnect
from pylot.types import CompletionRequest, InfillRequest, new_id, now


def editor_session(request: Request, user: str | None) -> str | None:
    """Requests from one editor share a session: a newer one cancels the older one still running."""
    return request.headers.get("x-pylot-session") or user


def _watch(request: Request | None, token: CancelToken) -> asyncio.Task[None] | None:
    return asyncio.create_task(cancel_on_disconnect(request, token)) if request is not None else None


async def run_pipeline(
    state: ServerState, req: CodeCompletionRequest, request: Request | None, token: CancelToken | None = None
) -> CodeCompletion | None:
    """The editor pipeline in a worker thread; None when a newer request from the same editor took over,
    the HTTP client went away (`request`) or the caller's `token` was cancelled (a WebSocket)."""
    token = token or CancelToken()
    watcher = _watch(request, token)
    try:
        result = await asyncio.to_thread(state.pipeline.complete, req, token)
    except CancelledError:
        state.stats.record("completions", 0.0, 0, 0, "cancelled")
        return None
    finally:
        token.cancel("request finished")
        if watcher is not None:
            watcher.cancel()
    state.stats.record(
        "completions",
        result.latency_ms / 1000,
        result.prompt_tokens,
        result.completion_tokens,
        "cached" if result.source == "typeahead" else "ok",
    )
    return result


async def run_warmup(
    state: ServerState, req: CodeCompletionRequest, request: Request | None, token: CancelToken | None = None
) -> tuple[int, float]:
    """An editor's warm-up (`n_predict: 0`, `max_tokens: 0`) in a worker thread: (prompt tokens, ms).

    Counted in the metrics as its own endpoint, and kept out of the latency figures, which are keystrokes'."""
    token = token or CancelToken()
    watcher = _watch(request, token)
    started = time.monotonic()
    outcome = "ok"
    try:
        n = await asyncio.to_thread(state.pipeline.warm, req, token)
    except CancelledError:
        n, outcome = 0, "cancelled"
    finally:
        token.cancel("request finished")
        if watcher is not None:
            watcher.cancel()
    state.stats.m_requests.labels("warmup", outcome).inc()
    state.stats.m_prompt_tokens.inc(n)
    return n, (time.monotonic() - started) * 1000


def editor_request(body: CompletionRequest, prompt: str, session: str | None) -> CodeCompletionRequest:
    """The pipeline's request for a completion with a suffix: the same over HTTP and the WebSocket."""
    return CodeCompletionRequest(
        prefix=prompt,
        suffix=body.suffix or "",
        extra=[Snippet(e.filename, e.text) for e in body.extra],
        session=session,
        language=body.language,
        filename=body.filename,
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        mode=body.mode,
        stop=[body.stop] if isinstance(body.stop, str) else body.stop or [],
    )


async def editor_completion(state: ServerState, body: CompletionRequest, prompt: str, request: Request) -> Any:
    req = editor_request(body, prompt, editor_session(request, getattr(body, "user", None)))
    if body.max_tokens == 0:
        return await _warmup_completion(state, body, req, request)
    result = await run_pipeline(state, req, request)
    model_id = state.engine.capabilities().model_id
    text = result.text if result else ""
    finish = result.finish_reason if result else "cancelled"
    meta = (
        CompletionMeta(cancelled=True)
        if result is None
        else CompletionMeta(
            cached=result.source == "typeahead",
            source=result.source,
            mode=result.mode,
            fim=result.fim,
            fallback=result.fallback,
            latency_ms=round(result.latency_ms, 1),
            candidates=result.candidates,
        )
    )
    prompt_tokens = result.prompt_tokens if result else 0
    completion_tokens = result.completion_tokens if result else 0
    cid = result.id if result else new_id("cmpl")
    return await _text_completion(body, cid, model_id, text, finish, (prompt_tokens, completion_tokens), meta)


async def _warmup_completion(
    state: ServerState, body: CompletionRequest, req: CodeCompletionRequest, request: Request
) -> Any:
    n, ms = await run_warmup(state, req, request)
    model_id = state.engine.capabilities().model_id
    meta = CompletionMeta(warmup=True, latency_ms=round(ms, 1))
    return await _text_completion(body, new_id("cmpl"), model_id, "", "length", (n, 0), meta)


async def _text_completion(
    body: CompletionRequest,
    cid: str,
    model_id: str,
    text: str,
    finish: str,
    usage: tuple[int, int],
    meta: CompletionMeta,
) -> Any:
    """OpenAI's text_completion answer, as one JSON body or, with `stream`, as one SSE event and [DONE]."""
    body_out = TextCompletion(
        id=cid,
        created=now(),
        model=model_id,
        choices=[TextChoice(text=text, finish_reason=finish)],
        usage=Usage.of(*usage),
        pylot=meta,
    )
    if not body.stream:
        return body_out

    async def events() -> AsyncIterator[str]:
        yield sse(body_out.model_dump())
        yield "data: [DONE]\n\n"

    return sse_response(events())


async def pipeline_infill(
    state: ServerState, body: InfillRequest, prefix: str, suffix: str, extra: list[Snippet], request: Request
) -> Any:
    session = editor_session(request, None)
    req = CodeCompletionRequest(
        prefix=prefix,
        suffix=suffix,
        extra=extra,
        session=session,
        max_tokens=body.n_predict if body.n_predict and body.n_predict > 0 else None,
        temperature=body.temperature,
        time_limit_s=body.t_max_predict_ms / 1000 if body.t_max_predict_ms else None,
        stop=body.stop,
    )
    if body.n_predict == 0:
        n, ms = await run_warmup(state, req, request)
        return await infill_answer(body, warmup_answer(n, ms))
    result = await run_pipeline(state, req, request)
    text = result.text if result else ""
    finish = result.finish_reason if result else "cancelled"
    ms = result.latency_ms if result else 0.0
    predicted = result.completion_tokens if result else 0
    final = InfillFinal(
        content=text,
        stop_type=stop_type(finish),
        tokens_predicted=predicted,
        tokens_evaluated=result.prompt_tokens if result else 0,
        timings=Timings(predicted_n=predicted, predicted_ms=round(ms, 1)),
    )
    if not body.stream:
        return JSONResponse(final.model_dump())

    async def events() -> AsyncIterator[str]:
        if text:
            yield sse(InfillChunk(content=text).model_dump())
        yield sse(final.model_copy(update={"content": ""}).model_dump())

    return sse_response(events())


def warmup_answer(prompt_tokens: int, ms: float) -> InfillFinal:
    """llama-server's answer to `n_predict: 0`: no text, stopped by the limit."""
    timings = Timings(prompt_n=prompt_tokens, prompt_ms=round(ms, 1), predicted_n=0, predicted_ms=0.0)
    return InfillFinal(
        content="", stop_type="limit", tokens_predicted=0, tokens_evaluated=prompt_tokens, timings=timings
    )


async def infill_answer(body: InfillRequest, final: InfillFinal) -> Any:
    """A whole /infill answer, as one JSON object or, for `stream: true`, as its one final event."""
    if not body.stream:
        return JSONResponse(final.model_dump())

    async def events() -> AsyncIterator[str]:
        yield sse(final.model_dump())

    return sse_response(events())


def stop_type(finish: str) -> str:
    """llama-server's name for why a generation ended."""
    return {"stop": "eos", "length": "limit", "time_limit": "limit", "cancelled": "none"}.get(finish, "none")
