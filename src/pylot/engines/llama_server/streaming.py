"""Streamed generations from a remote server: the transport's loop reads the SSE events and hands chunks to
the blocking caller through a queue; the caller checks its cancel token and time limit every 50 ms, even
while no byte arrives, so a cancelled request is dropped at once (llama-server stops when the connection
closes). Retried while nothing has been yielded."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx

from pylot.engines.interface import CancelToken
from pylot.engines.llama_server.sse_decode import SSEDecoder
from pylot.engines.llama_server.wire import (
    Progress,
    Reader,
    as_int,
    retry_after,
    server_message,
    status_error,
    transport_error,
)
from pylot.errors import BackendResponseError, BackendTimeoutError, BackendUnavailableError, PylotError
from pylot.types import Chunk, FinishReason, GenerationParams

if TYPE_CHECKING:
    from pylot.engines.llama_server.transport import Transport

log = logging.getLogger(__name__)

_POLL_S = 0.05  # how often a waiting stream looks at its cancel token


def stream(
    t: Transport,
    path: str,
    body: dict[str, Any],
    reader: Reader,
    params: GenerationParams,
    cancel: CancelToken | None,
) -> Iterator[Chunk]:
    """Chunks of one streamed generation, retried while nothing has been yielded."""
    deadline = time.monotonic() + t.total_timeout_s
    attempt = 0
    while True:
        yielded = False
        try:
            for chunk in _stream_once(t, path, body, reader, params, cancel, deadline):
                yielded = True
                yield chunk
            return
        except PylotError as exc:
            if yielded or not t.backoff(exc, attempt, deadline, cancel):
                raise
            attempt += 1


def _stream_once(
    t: Transport,
    path: str,
    body: dict[str, Any],
    reader: Reader,
    params: GenerationParams,
    cancel: CancelToken | None,
    deadline: float,
) -> Iterator[Chunk]:
    """The blocking side: chunks from the loop's producer, with cancel and time limit checked meanwhile."""
    if cancel is not None and cancel.cancelled:
        yield Chunk("", "cancelled")
        return
    started = time.monotonic()
    out: queue.SimpleQueue[Chunk | BaseException | None] = queue.SimpleQueue()
    future = t.loop.submit(_produce(t, path, body, reader, out, deadline))
    last = Chunk("", None)
    receiving = False
    try:
        while True:
            try:
                item = out.get(timeout=_POLL_S)
            except queue.Empty:
                item = last  # nothing new: only look at the cancel token and the clock
            else:
                if item is None:  # the producer ended without a final chunk: the client was closed
                    raise BackendUnavailableError(f"{t.name}: the client was closed during the request")
                if isinstance(item, BaseException):
                    raise item
                last, receiving = item, True
                yield item
                if item.finish_reason is not None:
                    return
            stopped = _stopped(cancel, params, started, receiving)
            if stopped is not None:
                # Cancelling the producer closes the connection: llama-server drops the job.
                future.cancel()
                yield Chunk("", stopped, last.prompt_tokens, last.completion_tokens)
                return
    finally:
        future.cancel()


async def _produce(
    t: Transport,
    path: str,
    body: dict[str, Any],
    reader: Reader,
    out: queue.SimpleQueue[Chunk | BaseException | None],
    deadline: float,
) -> None:
    """The loop's side of a stream: every chunk, then None, goes into `out`; errors go there too."""
    try:
        await asyncio.wait_for(_read_stream(t, path, body, reader, out), max(0.0, deadline - time.monotonic()))
    except asyncio.TimeoutError:
        out.put(
            BackendTimeoutError(
                f"{t.name}: the request took longer than {t.total_timeout_s:g} s (backend.total_timeout_s)"
            )
        )
    except PylotError as exc:
        out.put(exc)
    except httpx.HTTPError as exc:
        out.put(transport_error(exc, t.name))
    except Exception as exc:  # an error must reach the waiting thread, never die in the loop
        out.put(BackendResponseError(f"{t.name}{path}: {type(exc).__name__}: {exc}"))
    finally:
        out.put(None)


async def _read_stream(
    t: Transport, path: str, body: dict[str, Any], reader: Reader, out: queue.SimpleQueue[Chunk | BaseException | None]
) -> None:
    p = Progress()
    log.debug("POST %s%s (stream)", t.name, path)
    async with t.http.stream("POST", path, json=body) as response:
        if response.status_code >= 400:
            message, type_ = server_message(await response.aread())
            raise status_error(
                response.status_code, message, t.name, error_type=type_, retry_after=retry_after(response)
            )
        if "text/event-stream" not in response.headers.get("content-type", ""):
            # A server that ignored `stream: true` answers with one JSON document.
            text = reader(_whole(t, await response.aread(), response.status_code, path), p)
            out.put(Chunk(text, p.finish or "stop", p.prompt_tokens, p.completion_tokens))
            return
        decoder = SSEDecoder()
        async for raw in response.aiter_bytes():
            for event in decoder.feed(raw):
                text = _event(t, event.data, reader, p, path)
                if p.done:
                    out.put(Chunk(text, p.finish or "stop", p.prompt_tokens, p.completion_tokens))
                    return
                if text:
                    out.put(Chunk(text, None, p.prompt_tokens, p.completion_tokens))
        for event in decoder.flush():
            text = _event(t, event.data, reader, p, path)
            if text:
                out.put(Chunk(text, None, p.prompt_tokens, p.completion_tokens))
        if p.done or p.finish is not None:
            out.put(Chunk("", p.finish or "stop", p.prompt_tokens, p.completion_tokens))
            return
        raise BackendUnavailableError(
            f"{t.name}: the stream ended before the generation finished (after {p.completion_tokens} tokens)"
        )


def _event(t: Transport, data: str, reader: Reader, p: Progress, path: str) -> str:
    if data.strip() == "[DONE]":
        p.done = True
        return ""
    try:
        payload = json.loads(data)
    except ValueError:
        raise BackendResponseError(f"{t.name}{path}: a streamed event is not JSON: {data[:80]!r}") from None
    if not isinstance(payload, dict):
        raise BackendResponseError(f"{t.name}{path}: a streamed event is not a JSON object")
    error = payload.get("error")
    if error is not None:
        message, type_ = server_message(json.dumps(payload).encode())
        code = as_int(error.get("code"), 500) if isinstance(error, dict) else 500
        raise status_error(code, message, t.name, error_type=type_)
    return reader(payload, p)


def _whole(t: Transport, content: bytes, status: int, path: str) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except ValueError:
        raise BackendResponseError(
            f"{t.name}{path} answered with a body that is neither an event stream nor JSON", status_code=status
        ) from None
    if not isinstance(data, dict):
        raise BackendResponseError(f"{t.name}{path} answered with JSON that is not an object")
    return data


def _stopped(
    cancel: CancelToken | None, params: GenerationParams, started: float, generating: bool
) -> FinishReason | None:
    if cancel is not None and cancel.cancelled:
        return "cancelled"
    # Like the embedded engine, the time limit stops the generation, never the prompt before it.
    if generating and params.time_limit_s is not None and time.monotonic() - started > params.time_limit_s:
        return "time_limit"
    return None
