"""CompletionPipeline: from an editor's cursor to the suggestion it shows.

Type-ahead first (the user is typing into the last suggestion), then a stable context window, a
line-or-block decision, generation that stops as soon as the suggestion is complete, post-processing,
and for Python a parse check with a few extra candidates. A newer request from the same editor
session cancels the one in flight.
"""

from __future__ import annotations

import ast
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from pylot.completion.context import CursorContext, Mode, TokenCounter, build_context
from pylot.completion.postprocess import finalize, should_stop, stop_at
from pylot.completion.typeahead import TypeaheadCache
from pylot.config.settings import CompletionSettings
from pylot.engines.interface import CancelToken, Capabilities, LLMInterface, Snippet, collect, current_session
from pylot.errors import CancelledError
from pylot.types import Chunk, FinishReason, GenerationParams, new_id

log = logging.getLogger(__name__)

PYTHON_NAMES = (".py", ".pyi")


@dataclass
class CodeCompletionRequest:
    prefix: str
    suffix: str = ""
    extra: Sequence[Snippet] = ()
    session: str | None = None
    language: str | None = None
    filename: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    time_limit_s: float | None = None
    mode: Mode | None = None
    stop: Sequence[str] = ()  # the client's own stop strings: the suggestion ends before the first one

    @property
    def is_python(self) -> bool:
        if self.language:
            return self.language.lower() == "python"
        return bool(self.filename and self.filename.endswith(PYTHON_NAMES))


@dataclass
class CodeCompletion:
    id: str
    text: str
    mode: Mode
    finish_reason: FinishReason
    source: Literal["model", "typeahead"]
    fim: bool
    fallback: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    candidates: int = 1
    raw: str = field(default="", repr=False)


class CompletionPipeline:
    """Editor completions over any LLMInterface."""

    def __init__(
        self,
        engine: Callable[[], LLMInterface],
        settings: Callable[[], CompletionSettings],
        base_params: Callable[[], GenerationParams],
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._base_params = base_params
        self.typeahead = TypeaheadCache(settings().typeahead_entries)
        self._inflight: dict[str, CancelToken] = {}
        self._lock = threading.Lock()
        self.cancelled_by_newer = 0
        self._counters: dict[str, TokenCounter] = {}
        self._warmups: set[CancelToken] = set()  # tokens of warm-ups in flight (see warm)

    def _prepare(
        self, req: CodeCompletionRequest
    ) -> tuple[CompletionSettings, LLMInterface, Capabilities, CursorContext, CodeCompletionRequest]:
        """The live settings and engine, and the windows the model will see for this request."""
        s = self._settings()
        engine = self._engine()
        caps = engine.capabilities()
        count = self._counter(engine, caps.model_id)
        budget = Budget.fit(s, caps.n_ctx)
        ctx = build_context(
            req.prefix,
            req.suffix,
            prefix_lines=s.prefix_lines,
            prefix_tokens=budget.prefix,
            suffix_lines=s.suffix_lines,
            suffix_tokens=budget.suffix,
            multiline=s.multiline,
            count=count,
        )
        if req.mode:
            ctx = replace(ctx, mode=req.mode)
        if req.extra:
            req = replace(req, extra=fit_snippets(req.extra, budget.extra, count))
        return s, engine, caps, ctx, req

    def complete(self, req: CodeCompletionRequest, cancel: CancelToken | None = None) -> CodeCompletion:
        started = time.monotonic()
        s, engine, caps, ctx, req = self._prepare(req)
        fim = caps.fim
        stable_line = s.stable_line and caps.heals_middle
        hit = self.typeahead.lookup(ctx.prefix, ctx.suffix) if s.typeahead_entries else None
        if hit is not None:
            # The remembered text came from a request that may have had other stop strings.
            cut = stop_at(hit.text, req.stop)
            return CodeCompletion(
                hit.completion_id,
                hit.text if cut is None else hit.text[:cut],
                ctx.mode,
                "stop",
                "typeahead",
                fim,
                latency_ms=(time.monotonic() - started) * 1000,
            )
        cancel = cancel or CancelToken()
        self._supersede(req.session, cancel)
        try:
            params = self._params(req, ctx, s)
            raw, finish, usage = self._generate(engine, ctx, req, params, fim, cancel, s.block_max_lines, stable_line)
            text = finalize(raw, ctx, finish, s.block_max_lines)
            candidates = 1
            if req.is_python and s.parse_candidates and text and _breaks_file(req, text):
                for seed in range(1, s.parse_candidates + 1):
                    candidates += 1
                    alt_params = replace(params, temperature=max(params.temperature, 0.6), seed=seed)
                    alt_raw, alt_finish, _ = self._generate(
                        engine, ctx, req, alt_params, fim, cancel, s.block_max_lines, stable_line
                    )
                    alt = finalize(alt_raw, ctx, alt_finish, s.block_max_lines)
                    if alt and _parses_with(req, alt):
                        text, raw, finish = alt, alt_raw, alt_finish
                        break
        finally:
            self._release(req.session, cancel)
        cid = new_id("cmpl")
        if s.typeahead_entries and text:
            self.typeahead.remember(ctx.prefix, ctx.suffix, text, cid)
        result = CodeCompletion(
            cid,
            text,
            ctx.mode,
            finish,
            "model",
            fim,
            None if fim else "prefix-only",
            usage[0],
            usage[1],
            (time.monotonic() - started) * 1000,
            candidates,
            raw,
        )
        log.info(
            "completion %s: mode=%s, %d chars, %d tokens, %.0f ms, %d candidate(s)",
            cid,
            ctx.mode,
            len(text),
            usage[1],
            result.latency_ms,
            candidates,
        )
        return result

    def warm(self, req: CodeCompletionRequest, cancel: CancelToken | None = None) -> int:
        """Evaluate the prompt a keystroke at this cursor would send, without generating (an editor's warm-up,
        llama-server's `n_predict: 0`), so that the next keystroke there takes its prefix from the KV cache.
        Returns the prompt's tokens (0 when skipped).

        The prompt is built as `complete` builds it (same windows, same stable-line layout): a warm-up with
        any other prompt would fill the cache with something no keystroke reuses. A warm-up never cancels a
        completion in flight for the same session (it is skipped instead); a newer request cancels it.
        """
        s, engine, caps, ctx, req = self._prepare(req)
        cancel = cancel or CancelToken()
        if not self._claim_for_warmup(req.session, cancel):
            log.debug("warm-up skipped: a completion for the same session is in flight")
            return 0
        started = time.monotonic()
        params = replace(self._params(req, ctx, s), max_tokens=0)
        token = current_session.set(req.session)  # the session's next keystrokes go to the same server
        try:
            stable_line = s.stable_line and caps.heals_middle
            result = collect(_open_stream(engine, ctx, req, params, caps.fim, cancel, stable_line))
        finally:
            current_session.reset(token)
            self._release_warmup(req.session, cancel)
        if result.finish_reason == "cancelled" or cancel.cancelled:
            raise CancelledError(cancel.reason or "cancelled")
        log.info("warm-up: %d prompt tokens in %.0f ms", result.prompt_tokens, (time.monotonic() - started) * 1000)
        return result.prompt_tokens

    def _claim_for_warmup(self, session: str | None, token: CancelToken) -> bool:
        """Take the session's slot, so that a newer request cancels the warm-up; only a warm-up gives it up."""
        if not session:
            return True
        with self._lock:
            previous = self._inflight.get(session)
            if previous is not None and previous not in self._warmups:
                return False
            self._inflight[session] = token
            self._warmups.add(token)
        if previous is not None:
            previous.cancel("superseded by a newer warm-up")
        return True

    def _release_warmup(self, session: str | None, token: CancelToken) -> None:
        with self._lock:
            self._warmups.discard(token)
        self._release(session, token)

    def _counter(self, engine: LLMInterface, model_id: str) -> Callable[[str], int]:
        """The engine's token count, with line counts remembered across keystrokes per engine kind and model
        (the counter holds no engine, so a swapped-out model is not kept alive)."""
        key = f"{type(engine).__name__}:{model_id}"
        counter = self._counters.get(key)
        if counter is None:
            if len(self._counters) >= 8:
                self._counters.clear()
            counter = self._counters[key] = TokenCounter()
        return functools.partial(counter.count, tokenize=engine.count_tokens)

    def _params(self, req: CodeCompletionRequest, ctx: CursorContext, s: CompletionSettings) -> GenerationParams:
        base = self._base_params()
        default_max = s.line_max_tokens if ctx.mode == "line" else s.block_max_tokens
        return replace(
            base,
            max_tokens=req.max_tokens or default_max,
            temperature=base.temperature if req.temperature is None else req.temperature,
            time_limit_s=req.time_limit_s or s.time_limit_s,
            stop=[],
            seed=base.seed,
        )

    def _generate(
        self,
        engine: LLMInterface,
        ctx: CursorContext,
        req: CodeCompletionRequest,
        params: GenerationParams,
        fim: bool,
        cancel: CancelToken,
        max_lines: int,
        stable_line: bool,
    ) -> tuple[str, FinishReason, tuple[int, int]]:
        """Stream until the suggestion is complete or reaches one of the request's stop strings; closing the
        stream ends the generation at once.

        With `stable_line`, the cursor's line so far goes after the middle token (see `_open_stream`)."""
        token = current_session.set(req.session)  # external backends route a session to the same server
        try:
            stream = _open_stream(engine, ctx, req, params, fim, cancel, stable_line)
        finally:
            current_session.reset(token)
        text = ""
        finish: FinishReason = "stop"
        usage = (0, 0)
        try:
            for chunk in stream:
                text += chunk.text
                usage = (chunk.prompt_tokens, chunk.completion_tokens)
                cut = stop_at(text, req.stop)
                if cut is not None:
                    text, finish = text[:cut], "stop"
                    break
                if chunk.finish_reason:
                    finish = chunk.finish_reason
                    break
                if should_stop(text, ctx, max_lines):
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        if finish == "cancelled" or cancel.cancelled:
            raise CancelledError(cancel.reason or "cancelled")
        return text, finish, usage

    def _supersede(self, session: str | None, token: CancelToken) -> None:
        if not session:
            return
        with self._lock:
            previous = self._inflight.get(session)
            self._inflight[session] = token
        if previous is not None and not previous.cancelled:
            previous.cancel("superseded by a newer request from the same editor")
            self.cancelled_by_newer += 1

    def _release(self, session: str | None, token: CancelToken) -> None:
        if session:
            with self._lock:
                if self._inflight.get(session) is token:
                    del self._inflight[session]


@dataclass(frozen=True)
class Budget:
    """Token budgets for one prompt: the configured ones, shrunk together when the model's context is smaller."""

    prefix: int
    suffix: int
    extra: int

    @classmethod
    def fit(cls, s: CompletionSettings, n_ctx: int) -> Budget:
        room = n_ctx - max(s.line_max_tokens, s.block_max_tokens) - 32  # FIM tokens and file names
        wanted = s.prefix_tokens + s.suffix_tokens + s.extra_tokens
        if n_ctx <= 0 or wanted <= room:
            return cls(s.prefix_tokens, s.suffix_tokens, s.extra_tokens)
        scale = max(room, 64) / wanted
        return cls(max(16, int(s.prefix_tokens * scale)), int(s.suffix_tokens * scale), int(s.extra_tokens * scale))


def fit_snippets(snippets: Sequence[Snippet], budget: int, count: Callable[[str], int]) -> list[Snippet]:
    """The snippets that fit the budget, first ones first; the one that crosses it keeps its first lines."""
    kept: list[Snippet] = []
    left = budget
    for snippet in snippets:
        left -= count(snippet.filename) + 2
        lines = snippet.text.split("\n")
        fitting: list[str] = []
        for line in lines:
            cost = count(line) + 1
            if cost > left:
                break
            fitting.append(line)
            left -= cost
        if any(ln.strip() for ln in fitting):
            kept.append(Snippet(snippet.filename, "\n".join(fitting)))
        if len(fitting) < len(lines):
            break
    return kept


def _open_stream(
    engine: LLMInterface,
    ctx: CursorContext,
    req: CodeCompletionRequest,
    params: GenerationParams,
    fim: bool,
    cancel: CancelToken,
    stable_line: bool,
) -> Iterator[Chunk]:
    """The model's stream for a cursor: fill-in-the-middle where the model can, else a plain continuation.

    With `stable_line`, the cursor's line so far goes after the middle token (see build_fim_tokens), so a
    keystroke, and the warm-up before it, share every prompt token before the typed text."""
    if not fim:
        return engine.stream(ctx.prefix, params, cancel)
    prefix, middle = ctx.prefix, ""
    if stable_line and ctx.line_prefix and ctx.prefix.endswith(ctx.line_prefix):
        prefix, middle = ctx.prefix[: len(ctx.prefix) - len(ctx.line_prefix)], ctx.line_prefix
    return engine.stream_infill(prefix, ctx.suffix, params, req.extra, cancel, middle=middle)


def _breaks_file(req: CodeCompletionRequest, text: str) -> bool:
    """True when the file parses with a neutral statement in the suggestion's place but not with the suggestion:
    then the suggestion is what breaks it (a file broken elsewhere is not worth more candidates)."""
    if _parses_with(req, text):
        return False
    indent = text[: len(text) - len(text.lstrip(" \t"))] if not req.prefix.endswith((" ", "\t")) else ""
    return _parses_with(req, indent + "pass") or _parses_with(req, "")


def _parses_with(req: CodeCompletionRequest, middle: str) -> bool:
    try:
        ast.parse(req.prefix + middle + req.suffix)
    except (SyntaxError, ValueError):
        return False
    return True
