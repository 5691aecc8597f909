"""The one small interface every engine implements: in-process llama.cpp, a remote llama-server, a double."""

from __future__ import annotations

import contextlib
import contextvars
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from pylot.types import Chunk, GenerationParams, LLMResponse

current_session: contextvars.ContextVar[str | None] = contextvars.ContextVar("pylot_session", default=None)
"""The routing key of the request being served (an editor, a chat); None: no stickiness. The server sets
it per request (from the `X-Pylot-Session` header or the OpenAI `user` field); an engine that spreads
requests over servers (the Balancer) reads it when a stream is created, in the thread that creates it."""


@contextlib.contextmanager
def session(key: str | None) -> Iterator[None]:
    """Route the requests made inside the block by `key` (consecutive ones reach the same server)."""
    token = current_session.set(key)
    try:
        yield
    finally:
        current_session.reset(token)


class CancelToken:
    """Set by whoever wants a generation stopped; engines check it between tokens."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        with self._lock:
            self.reason = reason
            self._event.set()
            listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener()

    def on_cancel(self, listener: Callable[[], None]) -> None:
        """Call `listener` once when the token is cancelled (now, if it already is): a waiter wakes at once
        instead of polling."""
        with self._lock:
            if not self._event.is_set():
                self._listeners.append(listener)
                return
        listener()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class Capabilities:
    """What an engine can do; the server and the completion pipeline read this."""

    model_id: str
    n_ctx: int
    fim: bool
    chat: bool = True
    embeddings: bool = True
    family: str = "unknown"
    # Continues a FIM middle that ends inside a token (token healing), so an editor's typed line can
    # follow the middle token and the prompt before it stays fixed while the user types.
    heals_middle: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Snippet:
    """Extra context for fill-in-the-middle: another file, or a retrieved chunk."""

    filename: str
    text: str


def estimate_tokens(text: str) -> int:
    """A tokenizer-free count for engines that can only count over the network: code runs 3.9 to 4.2
    bytes a token with Qwen2.5-Coder's tokenizer (measured), so 3 bytes a token errs on the safe side."""
    return -(-len(text.encode("utf-8")) // 3)


class LLMInterface(ABC):
    """Text generation, fill-in-the-middle, chat, embeddings and tokenization.

    The streaming methods are the primitives; `generate`, `infill` and `chat` collect a stream.
    Streams are blocking iterators: callers on an event loop run them in a worker thread.

    `max_tokens=0` is a warm-up (llama-server's `n_predict: 0`): the engine puts the prompt into its cache,
    generates nothing, and ends with one empty chunk (finish "length"), so the next request that starts
    the same way takes that part from the cache.
    """

    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abstractmethod
    def stream(self, prompt: str, params: GenerationParams, cancel: CancelToken | None = None) -> Iterator[Chunk]: ...

    @abstractmethod
    def stream_infill(
        self,
        prefix: str,
        suffix: str,
        params: GenerationParams,
        extra: Sequence[Snippet] = (),
        cancel: CancelToken | None = None,
        *,
        middle: str = "",
    ) -> Iterator[Chunk]:
        """Fill in between prefix and suffix. `middle` is text the answer starts with (placed after the
        middle token, as llama-server's `prompt`); the stream yields only what comes after it."""

    @abstractmethod
    def stream_chat(
        self,
        messages: Sequence[dict[str, Any]],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        *,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> Iterator[Chunk]: ...

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    @abstractmethod
    def tokenize(self, text: str) -> list[int]: ...

    def count_tokens(self, text: str) -> int:
        """Tokens in `text`, for prompt budgets on every keystroke: engines whose tokenizer is a network
        call away estimate instead."""
        return estimate_tokens(text)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the model; the default has nothing to release."""

    def generate(
        self, prompt: str, params: GenerationParams | None = None, cancel: CancelToken | None = None, **overrides: Any
    ) -> LLMResponse:
        """Continue `prompt`. Give `params`, or keywords as the specification writes them
        (`generate(prompt, max_tokens=64, temperature=0.2)`), or both (keywords win); see
        `generation_params` for the keywords and their defaults."""
        return collect(self.stream(prompt, generation_params(params, **overrides), cancel))

    def infill(
        self,
        prefix: str,
        suffix: str,
        params: GenerationParams | None = None,
        extra: Sequence[Snippet] = (),
        cancel: CancelToken | None = None,
        *,
        middle: str = "",
        **overrides: Any,
    ) -> LLMResponse:
        """Fill in between prefix and suffix; `params` and keywords as for `generate`."""
        p = generation_params(params, **overrides)
        return collect(self.stream_infill(prefix, suffix, p, extra, cancel, middle=middle))

    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        params: GenerationParams | None = None,
        cancel: CancelToken | None = None,
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        **overrides: Any,
    ) -> LLMResponse:
        """With `tools` (OpenAI function tools) the model's chat template offers them to the model; `params`
        and keywords as for `generate`."""
        return collect(self.stream_chat(messages, generation_params(params, **overrides), cancel, tools=tools))


_PARAM_NAMES = tuple(f.name for f in fields(GenerationParams))


def generation_params(params: GenerationParams | None = None, /, **overrides: Any) -> GenerationParams:
    """`params` with keyword overrides: what `generate`, `infill` and `chat` of every engine accept.

    The keywords are GenerationParams' fields (max_tokens, temperature, top_p, top_k, min_p,
    repeat_penalty, stop, seed, time_limit_s) and `stream`. Without `params` the defaults are the
    specification's: max_tokens 256, temperature 0.7, top_p 0.95 (GenerationParams' own are tuned for
    editor completions). `stop` may be one string. `stream=True` changes nothing: a generation always
    streams underneath, and `generate` returns the joined LLMResponse; for the pieces as they come,
    call `stream(prompt, params)`. An unknown keyword is a TypeError that names it.
    """
    unknown = [name for name in overrides if name not in _PARAM_NAMES and name != "stream"]
    if unknown:
        raise TypeError(f"unknown generation keyword '{unknown[0]}' (known: {', '.join(_PARAM_NAMES)}, stream)")
    overrides.pop("stream", None)
    if isinstance(overrides.get("stop"), str):
        overrides["stop"] = [overrides["stop"]]
    base = params if params is not None else GenerationParams(max_tokens=256, temperature=0.7, top_p=0.95)
    return base.with_overrides(overrides) if overrides else base


def collect(chunks: Iterator[Chunk]) -> LLMResponse:
    """Join a stream into one response."""
    parts: list[str] = []
    last = Chunk(text="", finish_reason="stop")
    for chunk in chunks:
        parts.append(chunk.text)
        last = chunk
    return LLMResponse(
        text="".join(parts),
        tokens_used=last.completion_tokens,
        finish_reason=last.finish_reason or "stop",
        prompt_tokens=last.prompt_tokens,
    )
