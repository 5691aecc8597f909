"""Token healing: let a model continue text that ends in the middle of what would be one token.

An editor's cursor is usually inside a word ("os.path.jo") or after a space ("return "). Tokenized as
is, the text ends in a token the model rarely saw there in training (it saw ".join", " a"), and it
goes astray: "os.path.jo" becomes "os.path.jo('path')". Healing takes that last piece back out of the
prompt and lets the model write it again, allowing at each step only tokens that agree with it; what
the model writes past the piece is the continuation.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

import numpy as np

# What a BPE pre-tokenizer may merge with the next characters: a word with one leading space or mark,
# a run of spaces, or a run of punctuation with an optional leading space.
_TAIL = re.compile(r"(?:[^\r\n\w]?\w+|[^\S\r\n]+| ?[^\s\w]+)\Z")
MAX_TAIL_CHARS = 32


def split_tail(text: str) -> tuple[str, str]:
    """(head, tail): the tail is the last piece of `text` a tokenizer could merge with what follows."""
    match = _TAIL.search(text[-MAX_TAIL_CHARS:])
    if match is None:
        return text, ""
    cut = len(text) - len(match.group())
    return text[:cut], text[cut:]


class PieceIndex:
    """Every token's bytes, sorted, to find the tokens that agree with some text quickly."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.n_vocab = len(pieces)
        order = sorted((i for i, p in enumerate(pieces) if p), key=pieces.__getitem__)
        self._sorted = [pieces[i] for i in order]
        self._ids = np.array(order, dtype=np.intc)
        self._exact: dict[bytes, list[int]] = {}
        for i, p in enumerate(pieces):
            if p:
                self._exact.setdefault(p, []).append(i)

    def agreeing(self, text: bytes) -> np.ndarray:
        """Ids of the tokens whose bytes start with `text` or are a proper start of it."""
        lo = bisect_left(self._sorted, text)
        upper = _successor(text)
        hi = bisect_left(self._sorted, upper, lo) if upper is not None else len(self._sorted)
        starts = [i for k in range(1, len(text)) for i in self._exact.get(text[:k], ())]
        return np.concatenate([self._ids[lo:hi], np.array(starts, dtype=np.intc)])


def _successor(text: bytes) -> bytes | None:
    """The smallest byte string greater than every string that starts with `text` (None if unbounded)."""
    stripped = text.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


class Healer:
    """One generation's healing: masks the logits until the model has rewritten `forced`, and takes the
    rewritten bytes out of what it produces."""

    def __init__(self, index: PieceIndex, forced: bytes) -> None:
        self._index = index
        self.remaining = forced

    def can_start(self) -> bool:
        """Some token agrees with the text to heal (byte-level vocabularies always have one)."""
        return bool(self._index.agreeing(self.remaining).size)

    def __call__(self, input_ids: Any, logits: np.ndarray) -> np.ndarray:
        """A llama-cpp-python logits processor (logits in token-id order)."""
        if not self.remaining:
            return logits
        allowed = self._index.agreeing(self.remaining)
        if not allowed.size:  # no token spells it (a vocabulary without byte tokens): let the model write on
            self.remaining = b""
            return logits
        masked = np.full_like(logits, -np.inf)
        masked[allowed] = logits[allowed]
        return masked

    def consume(self, piece: bytes) -> bytes:
        """The part of a generated token's bytes that comes after the healed text."""
        if not self.remaining:
            return piece
        n = min(len(piece), len(self.remaining))
        self.remaining = self.remaining[n:]
        return piece[n:]
