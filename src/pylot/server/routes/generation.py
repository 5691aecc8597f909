"""Generation endpoints: /v1/completions, /v1/chat/completions and llama-server's /infill."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from pylot.core.balancer import current_session
from pylot.core.cache import cache_key
from pylot.core.llm_interface import CancelToken, Snippet
from pylot.errors import RequestError
from pylot.server.deps import StateDep
from pylot.server.routes.editor import editor_completion, editor_session, pipeline_infill, stop_type
from pylot.server.sse import SSE_RESPONSES, sse, sse_response
from pylot.server.state import ServerState
from pylot.server.streaming import cancel_on_disconnect, first_and_rest, stream_in_thread
from pylot.server.tool_calls import parse_tool_calls, template_messages
from pylot.types import (
    ChatCompletionRequest,
    Chunk,
    CompletionRequest,
    GenerationParams,
    InfillRequest,
    LLMResponse,
    new_id,
    now,
)

log = logging.getLogger(__name__)
router = APIRouter(tags=["generation"])


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


def _usage(r: LLMResponse) -> dict[str, int]:
    return {
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.tokens_used,
        "total_tokens": r.prompt_tokens + r.tokens_used,
    }


# ---- /v1/completions ----------------------------------------------------------------------------


@router.post("/v1/completions", responses=SSE_RESPONSES)
async def completions(body: CompletionRequest, request: Request, state: StateDep) -> Any:
    """OpenAI completions. With `suffix` this is an editor completion: fill-in-the-middle through the
    pipeline (context window, line or block, post-processing, type-ahead) unless `raw` is true."""
    state.check_model(body.model)
    current_session.set(editor_session(request, getattr(body, "user", None)))
    prompt = body.prompt
    if isinstance(prompt, list):
        if len(prompt) != 1:
            raise RequestError("only one prompt per request is supported", param="prompt")
        prompt = prompt[0]
    if body.suffix is not None and not body.raw:
        return await editor_completion(state, body, prompt, request)
    params = state.request_params(body)
    engine = state.engine
    fim = body.suffix is not None
    suffix = body.suffix or ""
    text_prompt: str = prompt
    if fim:
        job = make_job(
            state,
            "completions",
            "fim",
            [text_prompt, suffix],
            params,
            lambda c: engine.stream_infill(text_prompt, suffix, params, (), c),
        )
    else:
        job = make_job(
            state, "completions", "raw", text_prompt, params, lambda c: engine.stream(text_prompt, params, c)
        )
    model_id = engine.capabilities().model_id
    cid, created = new_id("cmpl"), now()

    if body.stream:
        chunks = await open_stream(state, job, request)

        async def events() -> AsyncIterator[str]:
            async for chunk in chunks:
                if chunk.text or chunk.finish_reason:
                    yield sse(
                        {
                            "id": cid,
                            "object": "text_completion",
                            "created": created,
                            "model": model_id,
                            "choices": [
                                {
                                    "index": 0,
                                    "text": chunk.text,
                                    "logprobs": None,
                                    "finish_reason": chunk.finish_reason,
                                }
                            ],
                        }
                    )
            yield "data: [DONE]\n\n"

        return sse_response(events())

    result, cached, latency = await collect_job(state, job, request)
    text = (text_prompt + result.text) if body.echo else result.text
    return {
        "id": cid,
        "object": "text_completion",
        "created": created,
        "model": model_id,
        "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": result.finish_reason}],
        "usage": _usage(result),
        "pylot": {"cached": cached, "latency_ms": round(latency, 1), "fim": fim},
    }


# ---- /v1/chat/completions -----------------------------------------------------------------------


@router.post("/v1/chat/completions", responses=SSE_RESPONSES)
async def chat_completions(body: ChatCompletionRequest, request: Request, state: StateDep) -> Any:
    """OpenAI chat completions with the model's own chat template."""
    state.check_model(body.model)
    current_session.set(editor_session(request, getattr(body, "user", None)))
    params = state.request_params(body)
    messages = template_messages(body.messages)
    tools = [*(body.tools or []), *(state.tools.openai_tools() if body.pylot_tools else [])]
    if tools and body.stream:
        raise RequestError("streaming is not supported together with tools yet; send stream: false", param="stream")
    engine = state.engine
    job = make_job(
        state,
        "chat",
        "chat",
        [messages, tools],
        params,
        lambda c: engine.stream_chat(messages, params, c, tools=tools or None),
    )
    model_id = engine.capabilities().model_id
    cid, created = new_id("chatcmpl"), now()

    if body.stream:
        chunks = await open_stream(state, job, request)

        def frame(delta: dict[str, Any], finish: str | None) -> str:
            return sse(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model_id,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
            )

        async def events() -> AsyncIterator[str]:
            yield frame({"role": "assistant", "content": ""}, None)
            async for chunk in chunks:
                if chunk.text:
                    yield frame({"content": chunk.text}, None)
                if chunk.finish_reason:
                    yield frame({}, chunk.finish_reason)
            yield "data: [DONE]\n\n"

        return sse_response(events())

    result, cached, latency = await collect_job(state, job, request)
    message: dict[str, Any] = {"role": "assistant", "content": result.text}
    finish: str = result.finish_reason
    if tools:
        content, calls = parse_tool_calls(result.text, {t.get("function", {}).get("name") for t in tools})
        if calls:
            message, finish = {"role": "assistant", "content": content, "tool_calls": calls}, "tool_calls"
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": model_id,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": _usage(result),
        "pylot": {"cached": cached, "latency_ms": round(latency, 1)},
    }


# ---- /infill (llama-server's shape) -------------------------------------------------------------


@router.post("/infill", responses=SSE_RESPONSES)
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

    def timings(prompt_n: int, predicted_n: int) -> dict[str, Any]:
        ms = (time.monotonic() - started) * 1000
        return {
            "prompt_n": prompt_n,
            "predicted_n": predicted_n,
            "predicted_ms": round(ms, 1),
            "predicted_per_second": round(predicted_n / (ms / 1000), 2) if ms else 0.0,
        }

    if body.stream:
        chunks = await open_stream(state, job, request)

        async def events() -> AsyncIterator[str]:
            async for chunk in chunks:
                if chunk.finish_reason:
                    if chunk.text:
                        yield sse({"content": chunk.text, "stop": False})
                    yield sse(
                        {
                            "content": "",
                            "stop": True,
                            "stop_type": stop_type(chunk.finish_reason),
                            "tokens_predicted": chunk.completion_tokens,
                            "tokens_evaluated": chunk.prompt_tokens,
                            "timings": timings(chunk.prompt_tokens, chunk.completion_tokens),
                        }
                    )
                elif chunk.text:
                    yield sse({"content": chunk.text, "stop": False})

        return sse_response(events())

    result, _, _ = await collect_job(state, job, request)
    return JSONResponse(
        {
            "content": result.text,
            "stop": True,
            "stop_type": stop_type(result.finish_reason),
            "tokens_predicted": result.tokens_used,
            "tokens_evaluated": result.prompt_tokens,
            "timings": timings(result.prompt_tokens, result.tokens_used),
        }
    )
