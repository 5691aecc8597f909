"""Replaying the completion pipeline on recorded model output: a rule change scored in seconds.

The model's answer to one exact prompt does not depend on the pipeline's stop rules, only on when
generation ends. So each prompt is generated once, greedy, token by token up to the pipeline's token
limit (or the model's own end), and kept on disk; the pipeline then runs unchanged over an engine that
streams the recording back, and stops reading where the live pipeline would close the stream. The
answers are the live ones minus time limits. This is a development tool: the figures that count come
from the real servers (multiline_infill.py and the other benchmarks).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from pylot.completion import CodeCompletionRequest, CompletionPipeline
from pylot.config.settings import CompletionSettings, ModelSettings, Settings
from pylot.engines.interface import CancelToken, Capabilities, LLMInterface, Snippet
from pylot.types import Chunk, GenerationParams


class RecordedEngine(LLMInterface):
    """An engine that generates each distinct FIM prompt once and streams the recording after that."""

    def __init__(self, engine: LLMInterface, store: Path) -> None:
        self._engine = engine
        self._store = store
        self._known: dict[str, dict[str, Any]] = {}
        if store.exists():
            for line in store.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                self._known[row["key"]] = row
        self.generated = 0

    def capabilities(self) -> Capabilities:
        return self._engine.capabilities()

    def tokenize(self, text: str) -> list[int]:
        return self._engine.tokenize(text)

    def count_tokens(self, text: str) -> int:
        return self._engine.count_tokens(text)

    def stream(self, prompt: str, params: GenerationParams, cancel: CancelToken | None = None) -> Iterator[Chunk]:
        return self._engine.stream(prompt, params, cancel)

    def stream_chat(self, messages: Any, params: GenerationParams, cancel: Any = None, *, tools: Any = None) -> Any:
        return self._engine.stream_chat(messages, params, cancel, tools=tools)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._engine.embed(texts)

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
        sampling = (params.max_tokens, params.temperature, params.top_k, params.top_p, params.min_p, params.seed)
        blob = json.dumps([prefix, suffix, middle, [asdict(s) for s in extra], sampling])
        key = hashlib.sha256(blob.encode()).hexdigest()
        row = self._known.get(key)
        if row is None:
            row = self._record(key, prefix, suffix, params, extra, middle)
        return self._play(row)

    def _record(
        self, key: str, prefix: str, suffix: str, params: GenerationParams, extra: Sequence[Snippet], middle: str
    ) -> dict[str, Any]:
        whole = replace(params, stop=[], time_limit_s=None)
        pieces: list[tuple[str, int]] = []
        finish = "length"
        prompt_tokens = 0
        for chunk in self._engine.stream_infill(prefix, suffix, whole, extra, middle=middle):
            pieces.append((chunk.text, chunk.completion_tokens))
            prompt_tokens = chunk.prompt_tokens
            if chunk.finish_reason:
                finish = chunk.finish_reason
        row = {"key": key, "pieces": pieces, "finish": finish, "prompt_tokens": prompt_tokens}
        self._known[key] = row
        self._store.parent.mkdir(parents=True, exist_ok=True)
        with self._store.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        self.generated += 1
        return row

    @staticmethod
    def _play(row: dict[str, Any]) -> Iterator[Chunk]:
        n_prompt = row["prompt_tokens"]
        for text, produced in row["pieces"][:-1]:
            yield Chunk(text, None, n_prompt, produced)
        text, produced = row["pieces"][-1]
        yield Chunk(text, row["finish"], n_prompt, produced)


def replay_engine(model_id: str, n_ctx: int = 4096, threads: int = 2) -> RecordedEngine:
    """The real model behind a recording store under ~/.cache/pylot/bench-replay/ (one file per model)."""
    from pylot.engines.llama_cpp.engine import LlamaLLM

    settings = Settings()
    path = settings.store_dir() / f"{model_id}.gguf"
    engine = LlamaLLM(path, ModelSettings(n_ctx=n_ctx, n_threads=threads), model_id=model_id)
    return RecordedEngine(engine, settings.home() / "bench-replay" / f"{model_id}.jsonl")


def pipeline_for(engine: LLMInterface, **overrides: Any) -> CompletionPipeline:
    """The editor pipeline as the server builds it, greedy, without time limits or type-ahead."""
    settings = CompletionSettings(**{"typeahead_entries": 0, "time_limit_s": 600.0, **overrides})
    return CompletionPipeline(lambda: engine, lambda: settings, lambda: GenerationParams(temperature=0.0))


def complete(pipeline: CompletionPipeline, prefix: str, suffix: str, language: str | None = "python") -> str:
    return pipeline.complete(CodeCompletionRequest(prefix, suffix, language=language)).text
