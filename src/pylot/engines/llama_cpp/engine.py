"""LlamaLLM: llama.cpp in process through llama-cpp-python.

One generation runs at a time per loaded model (a fair FIFO gate); consecutive requests that share a
prompt prefix reuse the KV cache (llama-cpp-python's prefix matching); cancellation is checked between
tokens, so a cancelled generation stops within a token.
"""

from __future__ import annotations

import ctypes
import logging
import mmap
import random
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pylot.config.settings import ModelSettings
from pylot.engines.interface import CancelToken, Capabilities, LLMInterface, Snippet
from pylot.engines.llama_cpp.fim_templates import build_fim_tokens, detect_template
from pylot.engines.llama_cpp.gate import FairGate
from pylot.engines.llama_cpp.prompt_cache import MIN_GAIN_TOKENS, PromptCache, SavedState, common_prefix
from pylot.engines.llama_cpp.text_stream import StopMatcher, Utf8Assembler
from pylot.engines.llama_cpp.threads import default_threads
from pylot.engines.llama_cpp.token_healing import Healer, PieceIndex, split_tail
from pylot.errors import CancelledError, CapabilityError, ContextLengthError, ModelError, RequestError
from pylot.types import Chunk, FinishReason, GenerationParams

log = logging.getLogger(__name__)


class LlamaLLM(LLMInterface):
    """A GGUF model loaded in this process: `LlamaLLM("model.gguf").generate(prompt, max_tokens=64)`."""

    def __init__(
        self, model_path: Path | str, settings: ModelSettings | None = None, *, model_id: str | None = None
    ) -> None:
        import llama_cpp  # noqa: PLC0415 - llama.cpp's native library loads only with a model

        self._lc = llama_cpp
        self.settings = settings or ModelSettings()
        self.model_path = Path(model_path)
        self.model_id = model_id or self.model_path.stem
        if not self.model_path.is_file():
            raise ModelError(f"model file not found: {self.model_path}")
        threads = self.settings.n_threads or default_threads().threads
        self.n_threads = threads
        started = time.monotonic()
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(self.model_path),
                n_ctx=self.settings.n_ctx,
                n_threads=threads,
                n_threads_batch=self.settings.n_threads_batch or threads,
                n_batch=min(self.settings.n_batch, self.settings.n_ctx),
                use_mmap=self.settings.use_mmap,
                use_mlock=self.settings.use_mlock,
                n_gpu_layers=self.settings.n_gpu_layers,
                flash_attn=self.settings.flash_attn,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"llama.cpp could not load {self.model_path.name}: {exc}") from exc
        self.load_seconds = time.monotonic() - started
        self._vocab = self._llm._model.vocab
        self._add_bos = bool(llama_cpp.llama_vocab_get_add_bos(self._vocab))
        self.fim_template = detect_template(self.special_token)
        self._chat = self._chat_formatter()
        self._gate = FairGate()
        self._embedder: Any = None
        self._embed_lock = threading.Lock()
        self._pieces: PieceIndex | None = None
        self._pieces_lock = threading.Lock()
        self.last_reused_tokens = 0  # prompt tokens the last request took from the KV cache
        self.prompt_cache = PromptCache(self.settings.prompt_cache_mb * 2**20)
        log.info(
            "loaded %s (n_ctx=%d, threads=%d, gpu_layers=%d, fim=%s) in %.1fs",
            self.model_id,
            self.settings.n_ctx,
            threads,
            self.settings.n_gpu_layers,
            self.fim_template.family if self.fim_template else "none",
            self.load_seconds,
        )

    # ---- description -----------------------------------------------------------------------------

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self._llm.metadata)

    @property
    def queue_depth(self) -> int:
        return self._gate.depth

    def capabilities(self) -> Capabilities:
        meta = self._llm.metadata
        return Capabilities(
            model_id=self.model_id,
            n_ctx=self._llm.n_ctx(),
            fim=self.fim_template is not None,
            chat=self._chat is not None,
            embeddings=True,
            heals_middle=True,
            family=self.fim_template.family if self.fim_template else meta.get("general.architecture", "unknown"),
            extra={"name": meta.get("general.name", ""), "path": str(self.model_path)},
        )

    # ---- tokens ----------------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _prompt_tokens(self, text: str) -> list[int]:
        """A raw prompt: special-token text is honoured, as llama-server does. An empty prompt starts from
        the start-of-text token (BOS, or end-of-text for models without one), as OpenAI's API does."""
        tokens = list(self._llm.tokenize(text.encode("utf-8"), add_bos=self._add_bos, special=True))
        if not tokens:
            start = self._llm.token_bos()
            tokens = [start if start >= 0 else self._llm.token_eos()]
        return tokens

    def special_token(self, text: str) -> int | None:
        """The id of a special token written as text, or None if the vocabulary has no such single token."""
        ids = self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        if len(ids) != 1:
            return None
        attrs = self._lc.llama_vocab_get_attr(self._vocab, ids[0])
        special = self._lc.LLAMA_TOKEN_ATTR_CONTROL | self._lc.LLAMA_TOKEN_ATTR_USER_DEFINED
        return int(ids[0]) if attrs & special else None

    def fim_tokens(self, prefix: str, suffix: str, extra: Sequence[Snippet] = (), middle: str = "") -> list[int]:
        """Prefix-suffix-middle tokens in the model family's own format."""
        if self.fim_template is None:
            raise CapabilityError(
                f"model {self.model_id} has no fill-in-the-middle tokens; use a FIM model such as qwen2.5-coder-0.5b",
                param="suffix",
            )
        bos = self._llm.token_bos() if self._add_bos else None
        return build_fim_tokens(
            self.fim_template, self.special_token, self.tokenize, prefix, suffix, extra, bos, middle
        )

    # ---- generation ------------------------------------------------------------------------------

    def stream(self, prompt: str, params: GenerationParams, cancel: CancelToken | None = None) -> Iterator[Chunk]:
        return self.stream_tokens(self._prompt_tokens(prompt), params, cancel)

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
        """The middle's last piece (a partial word, trailing spaces) is healed: the model writes it again."""
        head, tail = split_tail(middle)
        healer = Healer(self.piece_index(), tail.encode("utf-8")) if tail else None
        if healer is not None and not healer.can_start():
            head, healer = middle, None  # no token spells the tail: keep it in the prompt as it is
        tokens = self.fim_tokens(prefix, suffix, extra, head)
        return self.stream_tokens(tokens, params, cancel, healer)

    def piece_index(self) -> PieceIndex:
        """Every token's bytes, for token healing; built on first use (about a second for 150k tokens)."""
        with self._pieces_lock:
            if self._pieces is None:
                llm = self._llm
                self._pieces = PieceIndex([llm.detokenize([i], special=False) for i in range(llm.n_vocab())])
            return self._pieces

    def stream_chat(
        self,
        messages: Sequence[dict[str, Any]],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        *,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> Iterator[Chunk]:
        if self._chat is None:
            raise CapabilityError(f"model {self.model_id} has no chat template")
        prompt = self._chat(messages=list(messages), tools=list(tools) if tools else None).prompt
        tokens = list(self._llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
        return self.stream_tokens(tokens, params, cancel)

    def check_context(self, n_prompt: int) -> None:
        """The prompt must have a token (llama.cpp asserts on none) and fit the context window."""
        if n_prompt == 0:
            raise RequestError(
                "the prompt is empty: there is nothing to continue (send text, or a suffix for fill-in-the-middle)",
                param="prompt",
            )
        n_ctx = self._llm.n_ctx()
        if n_prompt >= n_ctx:
            raise ContextLengthError(
                f"the prompt is {n_prompt} tokens but the context window holds {n_ctx} "
                f"(shorten the prompt or raise model.n_ctx)",
                param="prompt",
            )

    def stream_tokens(
        self,
        tokens: list[int],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        healer: Healer | None = None,
    ) -> Iterator[Chunk]:
        """Generate from prompt tokens; validation happens before the first chunk is requested."""
        self.check_context(len(tokens))
        return self._generate(tokens, params, cancel, healer)

    def _generate(
        self, tokens: list[int], params: GenerationParams, cancel: CancelToken | None, healer: Healer | None
    ) -> Iterator[Chunk]:
        llm = self._llm
        with self._gate.turn(cancel):
            self._reuse_saved(tokens)
            if params.max_tokens == 0:
                self._evaluate(tokens, cancel)
                yield Chunk("", "cancelled" if cancel is not None and cancel.cancelled else "length", len(tokens), 0)
                return
            budget = min(params.max_tokens, llm.n_ctx() - len(tokens))
            llm.set_seed(params.seed if params.seed is not None else random.randrange(2**31))
            self.last_reused_tokens = common_prefix(llm.input_ids[: llm.n_tokens], tokens)
            started = time.monotonic()
            text = Utf8Assembler()
            stops = StopMatcher(params.stop)
            produced = 0
            finish: FinishReason = "length"
            hit_stop = False
            generator = llm.generate(
                tokens,
                top_k=params.top_k,
                top_p=params.top_p,
                min_p=params.min_p,
                temp=params.temperature,
                repeat_penalty=params.repeat_penalty,
                logits_processor=self._lc.LogitsProcessorList([healer]) if healer else None,
            )
            try:
                for token in generator:
                    if produced == 0:
                        started = time.monotonic()  # the time limit covers generation, not the prompt
                    if cancel is not None and cancel.cancelled:
                        finish = "cancelled"
                        break
                    if self._lc.llama_vocab_is_eog(self._vocab, token):
                        finish = "stop"
                        break
                    produced += 1
                    raw = llm.detokenize([token], special=False)
                    piece, hit = stops.feed(text.feed(healer.consume(raw) if healer else raw))
                    if hit:
                        if piece:
                            yield Chunk(piece, None, len(tokens), produced)
                        finish, hit_stop = "stop", True
                        break
                    if piece:
                        yield Chunk(piece, None, len(tokens), produced)
                    if produced >= budget:
                        finish = "length"
                        break
                    if params.time_limit_s is not None and time.monotonic() - started > params.time_limit_s:
                        finish = "time_limit"
                        break
            finally:
                generator.close()
            tail = "" if hit_stop else stops.feed(text.flush())[0] + stops.flush()
            yield Chunk(tail, finish, len(tokens), produced)

    def _evaluate(self, tokens: list[int], cancel: CancelToken | None) -> None:
        """Put a prompt into the KV cache without sampling (a warm-up): the next request that starts with
        these tokens evaluates only what follows them.

        The cache bookkeeping is llama-cpp-python's own (`input_ids[:n_tokens]`, trimmed to the common
        prefix as its `generate` does), so `generate` finds the match. A batch at a time, so that a newer
        request cancels a long warm-up between batches; what was evaluated by then stays useful.
        """
        llm = self._llm
        cached = common_prefix(llm.input_ids[: llm.n_tokens], tokens)
        self.last_reused_tokens = cached
        if cached == len(tokens) and llm.n_tokens == cached:
            return
        keep = min(cached, len(tokens) - 1)  # as generate does: never trim to nothing left to decode
        if keep > 0 and llm._ctx.kv_cache_seq_rm(-1, keep, -1):
            llm.n_tokens = keep
        else:
            llm.reset()  # type: ignore[no-untyped-call]
        step = max(1, llm.n_batch)
        for start in range(llm.n_tokens, len(tokens), step):
            if cancel is not None and cancel.cancelled:
                break
            llm.eval(tokens[start : start + step])

    # ---- saved prompt states (see prompt_cache.py) ------------------------------------------------

    def _reuse_saved(self, tokens: list[int]) -> None:
        """Before a prompt is evaluated: if it would overwrite most of what the KV cache holds, save that
        state first; if a saved state shares more of this prompt than the live cache does, restore it.
        Runs inside the gate, so nothing else touches the context meanwhile."""
        cache, llm = self.prompt_cache, self._llm
        if not cache.enabled:
            return
        live = llm.input_ids[: llm.n_tokens]
        shared = common_prefix(live, tokens)
        key, saved = cache.best(tokens)
        restore = key >= 0 and saved >= shared + MIN_GAIN_TOKENS
        overwritten = restore or shared < llm.n_tokens // 2
        # Taken before the save: saving may evict it from the cache, and it must outlive that.
        entry = cache.take(key) if restore else None
        if llm.n_tokens >= MIN_GAIN_TOKENS and overwritten and not cache.covers(live):
            self._save_live()
        if entry is not None:
            self._restore(entry)

    def _save_live(self) -> None:
        """The state goes straight into its own anonymous memory map, which llama.cpp writes and reads
        in place: no copy, and an evicted entry's pages go back to the system at once instead of
        leaving holes in the heap (tens of MB each; the heap kept growing with bytes objects)."""
        ctx = self._llm._ctx.ctx
        size = int(self._lc.llama_state_seq_get_size(ctx, 0))
        if size <= 0 or size > self.prompt_cache.max_bytes:
            return
        memory = mmap.mmap(-1, size)
        buf = (ctypes.c_uint8 * size).from_buffer(memory)
        n = int(self._lc.llama_state_seq_get_data(ctx, buf, size, 0))
        data: bytes | mmap.mmap = memory if n == size else ctypes.string_at(buf, n)
        del buf  # a map with a view on it cannot be closed or freed
        if 0 < n <= size:
            self.prompt_cache.put(self._llm.input_ids[: self._llm.n_tokens].copy(), data)

    def _restore(self, entry: SavedState) -> None:
        llm = self._llm
        llm._ctx.kv_cache_seq_rm(0, 0, -1)
        llm.n_tokens = 0
        size = len(entry.data)
        if isinstance(entry.data, mmap.mmap):
            buf = (ctypes.c_uint8 * size).from_buffer(entry.data)
        else:
            buf = (ctypes.c_uint8 * size).from_buffer_copy(entry.data)
        restored = int(self._lc.llama_state_seq_set_data(llm._ctx.ctx, buf, size, 0))
        del buf
        if restored != size:
            llm._ctx.kv_cache_seq_rm(0, 0, -1)  # a failed restore leaves an empty cache, evaluated afresh
            log.debug("a saved prompt state did not restore; evaluating the prompt instead")
            return
        n = len(entry.tokens)
        llm.input_ids[:n] = entry.tokens
        llm.n_tokens = n

    # ---- chat and embeddings ---------------------------------------------------------------------

    def _chat_formatter(self) -> Any:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter  # noqa: PLC0415 - llama.cpp's native library loads only with a model

        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        model = self._llm._model
        eos, bos = self._llm.token_eos(), self._llm.token_bos()
        return Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos) if eos >= 0 else "",
            bos_token=model.token_get_text(bos) if bos >= 0 else "",
            stop_token_ids=[eos],
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Mean-pooled, L2-normalised embeddings from a second context on the same (memory-mapped) weights."""
        with self._embed_lock:
            if self._embedder is None:
                n_ctx = min(self.settings.n_ctx, 2048)
                self._embedder = self._lc.Llama(
                    model_path=str(self.model_path),
                    embedding=True,
                    pooling_type=self._lc.LLAMA_POOLING_TYPE_MEAN,
                    n_ctx=n_ctx,
                    n_batch=n_ctx,  # one input must fit one batch: llama-cpp-python refuses a longer one
                    n_ubatch=n_ctx,
                    n_threads=self.n_threads,
                    n_gpu_layers=self.settings.n_gpu_layers,
                    use_mmap=True,
                    verbose=False,
                )
            limit = self._embedder.n_ctx()
            for i, text in enumerate(texts):
                # An input of no tokens crashes llama.cpp (a segfault, or a corrupt heap for the next batch).
                n = len(self._embedder.tokenize(text.encode("utf-8"), add_bos=True))
                if n == 0 or not text:
                    raise RequestError(f"input {i} is empty: there is nothing to embed", param="input")
                if n > limit:
                    raise ContextLengthError(f"an input is {n} tokens; embeddings take at most {limit}", param="input")
            vectors = self._embedder.embed(list(texts), normalize=True)
        return [list(map(float, v)) for v in vectors]

    def close(self) -> None:
        with self._embed_lock:
            if self._embedder is not None:
                self._embedder.close()
                self._embedder = None
        self.prompt_cache.clear()
        self._llm.close()


__all__ = ["CancelledError", "LlamaLLM"]
