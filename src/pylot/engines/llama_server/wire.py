"""What crosses the wire to a llama-server or an OpenAI-compatible server: request bodies, streamed events
read into text and token counts, and HTTP failures turned into the project's exceptions."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from pylot.errors import (
    BackendAuthError,
    BackendError,
    BackendResponseError,
    BackendTimeoutError,
    BackendUnavailableError,
    CapabilityError,
    ContextLengthError,
    PylotError,
    RequestError,
)
from pylot.types import FinishReason, GenerationParams

_CONTEXT_HINTS = ("context size", "context length", "context window", "exceed_context", "maximum context")
_MAX_MESSAGE = 500


# ---- errors --------------------------------------------------------------------------------------


def server_message(body: bytes) -> tuple[str, str]:
    """(message, error type) from an error body: OpenAI/llama-server JSON, FastAPI's detail, or text."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:_MAX_MESSAGE] or "no message", ""
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            message = error.get("message") or error.get("detail") or json.dumps(error)
            return str(message)[:_MAX_MESSAGE], str(error.get("type") or "")
        return str(error)[:_MAX_MESSAGE], ""
    return text[:_MAX_MESSAGE], ""


def status_error(
    status: int, message: str, where: str, *, error_type: str = "", retry_after: float | None = None
) -> PylotError:
    """The exception for an HTTP error status from a backend, keeping the server's own message."""
    text = f"{where}: {message}"
    if status in (401, 403):
        return BackendAuthError(f"{where} refused the API key ({status}): {message}")
    if status in (400, 413, 422):
        lowered = f"{message} {error_type}".lower()
        if any(hint in lowered for hint in _CONTEXT_HINTS):
            return ContextLengthError(text, param="prompt")
        return RequestError(text)
    if status == 501:
        return CapabilityError(text)
    if status in (429, 503):
        return BackendUnavailableError(text, retry_after=retry_after)
    return BackendResponseError(f"{where} answered {status}: {message}", status_code=status)


def transport_error(exc: httpx.HTTPError, where: str) -> BackendError:
    """The exception for a failure below HTTP: connecting, reading, timing out."""
    if isinstance(exc, httpx.ConnectTimeout):
        return BackendTimeoutError(f"{where}: timed out connecting")
    if isinstance(exc, httpx.PoolTimeout):
        return BackendTimeoutError(f"{where}: timed out waiting for a free connection")
    if isinstance(exc, httpx.TimeoutException):
        return BackendTimeoutError(f"{where}: timed out waiting for the server to answer")
    if isinstance(exc, httpx.ConnectError):
        hint = " (set backend.ca_bundle for a private CA)" if "CERTIFICATE_VERIFY_FAILED" in str(exc) else ""
        return BackendUnavailableError(f"cannot connect to {where}: {exc}{hint}")
    if isinstance(exc, httpx.TransportError):
        return BackendUnavailableError(f"{where}: connection lost: {exc or type(exc).__name__}")
    return BackendResponseError(f"{where}: {type(exc).__name__}: {exc}")


def retriable(exc: Exception) -> bool:
    """Safe to send again to the same server: it refused, vanished or asked us to come back."""
    if isinstance(exc, BackendUnavailableError):
        return True
    return isinstance(exc, BackendResponseError) and exc.status_code == 502


def retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


def native_body(params: GenerationParams) -> dict[str, Any]:
    body: dict[str, Any] = {
        "n_predict": params.max_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k,
        "min_p": params.min_p,
        "repeat_penalty": params.repeat_penalty,
        "stop": list(params.stop),
        "cache_prompt": True,
        "stream": True,
    }
    if params.seed is not None:
        body["seed"] = params.seed
    return body


# ---- reading streamed events ----------------------------------------------------------------------


@dataclass
class Progress:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish: FinishReason | None = None
    done: bool = False  # the server said the generation is complete
    counted: bool = False  # the server reports token counts; otherwise chunks are counted


def as_int(value: Any, default: int) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def read_native(data: dict[str, Any], p: Progress) -> str:
    """llama-server's /completion and /infill: {content, stop, tokens_predicted, tokens_evaluated, stop_type}."""
    p.prompt_tokens = as_int(data.get("tokens_evaluated"), p.prompt_tokens)
    p.completion_tokens = as_int(data.get("tokens_predicted"), p.completion_tokens)
    if data.get("stop") is True:
        p.finish = "length" if data.get("stop_type") == "limit" else "stop"
        p.done = True
    content = data.get("content")
    return content if isinstance(content, str) else ""


def read_openai(data: dict[str, Any], p: Progress) -> str:
    """OpenAI completions and chat, streamed (choices[].text / delta.content) or whole (message.content)."""
    usage = data.get("usage")
    if isinstance(usage, dict):
        p.prompt_tokens = as_int(usage.get("prompt_tokens"), p.prompt_tokens)
        p.completion_tokens = as_int(usage.get("completion_tokens"), p.completion_tokens)
        p.counted = True
    parts: list[str] = []
    choices = data.get("choices")
    for choice in choices if isinstance(choices, list) else []:
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue
        message = choice.get("delta") or choice.get("message") or {}
        text = choice.get("text") if "text" in choice else message.get("content") if isinstance(message, dict) else ""
        if isinstance(text, str) and text:
            parts.append(text)
        reason = choice.get("finish_reason")
        if reason:
            p.finish = "length" if reason == "length" else "stop"
    if parts and not p.counted:
        p.completion_tokens += 1
    return "".join(parts)


Reader = Callable[[dict[str, Any], Progress], str]
