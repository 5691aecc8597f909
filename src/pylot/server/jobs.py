"""Generation jobs: one request's run of the engine, from the result cache when it may be, streamed or
collected, with the client's departure noticed and statistics recorded."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import Request

from pylot.engines.interface import CancelToken
from pylot.errors import RequestError
from pylot.server.responses import Usage
from pylot.server.result_cache import cache_key
from pylot.server.state import ServerState
from pylot.server.streaming import cancel_on_disconnect, first_and_rest, stream_in_thread
from pylot.types import (
    Chunk,
    CompletionRequest,
    GenerationParams,
    LLMResponse,
)

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One generation: where it came from, how to run it, and its cache key if it may be cached."""

    endpoint: str
    run: Callable[[CancelToken], Iterator[Chunk]]
    key: str | None
    cached: bool = False


def make_job(
    state: ServerState,
    endpoint: str,
    kind: str,
    inputs: Any,
    params: GenerationParams,
    run: Callable[[CancelToken], Iterator[Chunk]],
) -> Job:
    settings = state.config.settings
    # A warm-up (max_tokens 0) answered from the cache would skip the very evaluation it asks for.
    cacheable = settings.cache.enabled and params.deterministic and params.max_tokens != 0
    key = cache_key(state.engine.capabilities().model_id, kind, inputs, asdict(params)) if cacheable else None
    return Job(endpoint, run, key)


async def stream_job(state: ServerState, job: Job, cancel: CancelToken | None = None) -> AsyncIterator[Chunk]:
    """Chunks of a job, from the cache when possible; statistics recorded when it ends."""
    started = time.monotonic()
    if job.key is not None:
        hit = state.cache.get(job.key)
        state.stats.m_cache.labels("hit" if hit else "miss").inc()
        if hit is not None:
            job.cached = True
            yield Chunk(hit.text, hit.finish_reason, hit.prompt_tokens, hit.tokens_used)
            state.stats.record(job.endpoint, time.monotonic() - started, 0, 0, "cached")
            return
    cancel = cancel or CancelToken()
    parts: list[str] = []
    last: Chunk | None = None
    outcome = "error"
    try:
        async for chunk in stream_in_thread(lambda: job.run(cancel), cancel):
            parts.append(chunk.text)
            last = chunk
            yield chunk
        outcome = "ok" if last is not None and last.finish_reason != "cancelled" else "cancelled"
    except (GeneratorExit, asyncio.CancelledError):  # the client went away
        outcome = "cancelled"
        raise
    except BaseException:
        outcome = "cancelled" if cancel.cancelled else "error"
        raise
    finally:
        elapsed = time.monotonic() - started
        prompt_n = last.prompt_tokens if last else 0
        produced = last.completion_tokens if last else 0
        state.stats.record(job.endpoint, elapsed, prompt_n, produced, outcome)
        log.info(
            "%s: %d prompt + %d generated tokens in %.0f ms (%s)",
            job.endpoint,
            prompt_n,
            produced,
            elapsed * 1000,
            last.finish_reason if last else outcome,
        )
        if job.key is not None and last is not None and last.finish_reason in ("stop", "length"):
            state.cache.put(job.key, LLMResponse("".join(parts), produced, last.finish_reason, prompt_n))


async def open_stream(state: ServerState, job: Job, request: Request) -> AsyncIterator[Chunk]:
    """A streamed job, started: errors before any output raise here, so they become proper HTTP errors.

    Until the first chunk the request may still be queued behind others, and nothing is sent that would
    notice the client leaving; a watcher cancels it then, so it gives up its place. Once output flows the
    streaming response notices a departure itself.
    """
    token = CancelToken()
    watcher = asyncio.create_task(cancel_on_disconnect(request, token))
    try:
        _, chunks = await first_and_rest(stream_job(state, job, token))
    finally:
        watcher.cancel()
    return chunks


async def collect_job(state: ServerState, job: Job, request: Request) -> tuple[LLMResponse, bool, float]:
    """Run a job to the end for a plain JSON answer, cancelling it if the client goes away."""
    started = time.monotonic()
    token = CancelToken()
    watcher = asyncio.create_task(cancel_on_disconnect(request, token))
    parts: list[str] = []
    last = Chunk("", "stop")
    try:
        async for chunk in stream_job(state, job, token):
            parts.append(chunk.text)
            last = chunk
    finally:
        watcher.cancel()
    response = LLMResponse("".join(parts), last.completion_tokens, last.finish_reason or "stop", last.prompt_tokens)
    return response, job.cached, (time.monotonic() - started) * 1000


def usage(r: LLMResponse) -> Usage:
    return Usage.of(r.prompt_tokens, r.tokens_used)


def completion_prompt(prompt: str | list[str]) -> str:
    """The one prompt of a completion request: OpenAI allows a list, Pylot answers one prompt at a time."""
    if isinstance(prompt, list):
        if len(prompt) != 1:
            raise RequestError("only one prompt per request is supported", param="prompt")
        return prompt[0]
    return prompt


def completion_job(state: ServerState, endpoint: str, body: CompletionRequest, prompt: str) -> Job:
    """A raw completion (the model's own output, no editor pipeline), plain or fill-in-the-middle with
    `suffix`; the same for /v1/completions and /ws/completions."""
    params = state.request_params(body)
    engine = state.engine
    if body.suffix is None:
        return make_job(state, endpoint, "raw", prompt, params, lambda c: engine.stream(prompt, params, c))
    suffix = body.suffix
    return make_job(
        state, endpoint, "fim", [prompt, suffix], params, lambda c: engine.stream_infill(prompt, suffix, params, (), c)
    )
