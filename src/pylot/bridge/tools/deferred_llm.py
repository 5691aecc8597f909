"""DeferredLLM: an LLMInterface that looks its engine up on every call.

The model-based tools take an LLMInterface in their constructor, but the engine may not be loaded yet (the
CLI loads it only if a tool needs it) or may be swapped while the server runs. Hand the tools a
DeferredLLM whose `resolve` returns the engine of the moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pylot.engines.interface import CancelToken, Capabilities, LLMInterface, Snippet
from pylot.types import Chunk, GenerationParams


class DeferredLLM(LLMInterface):
    """Forwards every call to `resolve()`; e.g. `DeferredLLM(lambda: state.engine)`."""

    def __init__(self, resolve: Callable[[], LLMInterface]) -> None:
        self._resolve = resolve

    def capabilities(self) -> Capabilities:
        return self._resolve().capabilities()

    def stream(self, prompt: str, params: GenerationParams, cancel: CancelToken | None = None) -> Iterator[Chunk]:
        return self._resolve().stream(prompt, params, cancel)

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
        return self._resolve().stream_infill(prefix, suffix, params, extra, cancel, middle=middle)

    def stream_chat(
        self,
        messages: Sequence[dict[str, Any]],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        *,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> Iterator[Chunk]:
        return self._resolve().stream_chat(messages, params, cancel, tools=tools)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._resolve().embed(texts)

    def tokenize(self, text: str) -> list[int]:
        return self._resolve().tokenize(text)

    def count_tokens(self, text: str) -> int:
        return self._resolve().count_tokens(text)
