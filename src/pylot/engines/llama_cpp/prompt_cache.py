"""Saved KV-cache states of earlier prompts, so that coming back to a prompt does not evaluate it again.

The in-process engine has one KV cache. Two requests that share a prefix reuse it (llama-cpp-python's
prefix match), but a request with a different beginning (a chat between two completions, another file)
overwrites it, and the next completion of the first file pays for its whole prompt again. llama.cpp's
own server keeps the states of earlier prompts in host memory for this (`--cache-ram`); this is the
same idea for LlamaLLM: before a prompt overwrites most of the cache, the cache's state is saved here,
and a later prompt that starts like a saved one restores it and evaluates only what follows.

Entries are KV bytes of one sequence (`llama_state_seq_get_data`: no logits, no scores) with the
tokens they hold, kept least-recently-used first within a byte budget. Pure bookkeeping: the engine
does the saving and the restoring.
"""

from __future__ import annotations

import mmap
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# A saved state is only worth restoring when it saves at least this many prompt tokens over what the
# live cache already shares with the prompt (restoring costs a copy of the state, about 1 ms per MB).
MIN_GAIN_TOKENS = 32


@dataclass(frozen=True)
class SavedState:
    tokens: np.ndarray  # int32 token ids the state holds, in order
    data: bytes | mmap.mmap  # llama_state_seq_get_data of sequence 0 (the engine keeps it in a memory map)

    @property
    def size(self) -> int:
        return len(self.data) + self.tokens.nbytes


def common_prefix(a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray) -> int:
    """How many leading tokens two token lists share."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    x = np.asarray(a[:n], dtype=np.int64)
    y = np.asarray(b[:n], dtype=np.int64)
    differ = np.flatnonzero(x != y)
    return int(differ[0]) if differ.size else n


class PromptCache:
    """KV states by the tokens they hold, least recently used evicted first, at most `max_bytes` in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self._entries: OrderedDict[int, SavedState] = OrderedDict()
        self._next = 0
        self.bytes = 0
        self.hits = 0
        self.saves = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def best(self, tokens: Sequence[int] | np.ndarray) -> tuple[int, int]:
        """(key, shared tokens) of the entry sharing the longest prefix with `tokens`; (-1, 0) if none."""
        best_key, best_n = -1, 0
        for key, entry in self._entries.items():
            n = common_prefix(entry.tokens, tokens)
            if n > best_n:
                best_key, best_n = key, n
        return best_key, best_n

    def take(self, key: int) -> SavedState:
        """The entry, marked as just used."""
        self._entries.move_to_end(key)
        self.hits += 1
        return self._entries[key]

    def covers(self, tokens: Sequence[int] | np.ndarray) -> bool:
        """Whether a saved entry already holds all of `tokens` (saving them again would add nothing)."""
        return any(
            len(e.tokens) >= len(tokens) and common_prefix(e.tokens, tokens) == len(tokens)
            for e in self._entries.values()
        )

    def put(self, tokens: Sequence[int] | np.ndarray, data: bytes | mmap.mmap) -> bool:
        """Keep a state; entries it extends (their tokens are a prefix of these) go. False if it cannot fit."""
        entry = SavedState(np.array(tokens, dtype=np.int32), data)
        if not self.enabled or entry.size > self.max_bytes:
            return False
        for key in [k for k, e in self._entries.items() if common_prefix(e.tokens, entry.tokens) == len(e.tokens)]:
            self._drop(key)
        while self._entries and self.bytes + entry.size > self.max_bytes:
            self._drop(next(iter(self._entries)))
        self._entries[self._next] = entry
        self._next += 1
        self.bytes += entry.size
        self.saves += 1
        return True

    def _drop(self, key: int) -> None:
        self.bytes -= self._entries.pop(key).size

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0
