"""The one engine double the tests share: a real `LLMInterface` whose answers a test scripts.

Tests that need a model's behaviour use the real small models (tests/conftest.py). This double is for
shapes, timing and error paths: an engine that never ends, waits for a signal, raises, or answers by
seed. It subclasses the interface, so it cannot drift from it (tests/test_doubles.py checks the
signatures too); a test gives it a `reply` that turns each recorded call into chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pylot.engines.interface import CancelToken, Capabilities, LLMInterface, Snippet
from pylot.types import Chunk, GenerationParams


@dataclass
class Call:
    """One request the engine received: `kind` is "complete", "infill" or "chat"."""

    kind: str
    params: GenerationParams
    cancel: CancelToken | None
    prompt: str = ""
    prefix: str = ""
    suffix: str = ""
    middle: str = ""
    extra: list[Snippet] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)


Reply = Callable[[Call], Iterable[Chunk]]


def says(text: str, finish: str = "stop") -> Reply:
    """A reply that answers every call with `text` in one chunk."""
    return lambda call: [Chunk(text, finish, 10, max(1, len(text.split())))]


class ScriptedEngine(LLMInterface):
    """Answers each call with `reply(call)`; records the calls. Tokens are words (cheap and predictable)."""

    def __init__(
        self, reply: Reply | str = "", *, model_id: str = "scripted", n_ctx: int = 4096, fim: bool = True
    ) -> None:
        self.reply: Reply = says(reply) if isinstance(reply, str) else reply
        self.model_id, self.n_ctx, self.fim = model_id, n_ctx, fim
        self.calls: list[Call] = []
        self.closed = False

    def capabilities(self) -> Capabilities:
        return Capabilities(model_id=self.model_id, n_ctx=self.n_ctx, fim=self.fim)

    def _answer(self, call: Call) -> Iterator[Chunk]:
        self.calls.append(call)
        yield from self.reply(call)

    def stream(self, prompt: str, params: GenerationParams, cancel: CancelToken | None = None) -> Iterator[Chunk]:
        return self._answer(Call("complete", params, cancel, prompt=prompt))

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
        return self._answer(Call("infill", params, cancel, prefix=prefix, suffix=suffix, middle=middle, extra=[*extra]))

    def stream_chat(
        self,
        messages: Sequence[dict[str, Any]],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        *,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> Iterator[Chunk]:
        return self._answer(Call("chat", params, cancel, messages=[*messages]))

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[float(len(t)), float(len(t.split())), 1.0] for t in texts]

    def tokenize(self, text: str) -> list[int]:
        return [0] * len(text.split())

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def close(self) -> None:
        self.closed = True
