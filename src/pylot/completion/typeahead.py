"""Type-ahead: when the user types the characters of the suggestion on screen, answer with the rest at once."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Suggestion:
    prefix: str
    suffix: str
    text: str
    completion_id: str


class TypeaheadCache:
    """Recent suggestions, looked up by 'the new prefix is an old prefix plus the start of its suggestion'."""

    def __init__(self, max_entries: int = 128) -> None:
        self._entries: deque[Suggestion] = deque(maxlen=max_entries)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def remember(self, prefix: str, suffix: str, text: str, completion_id: str) -> None:
        if text:
            with self._lock:
                self._entries.append(Suggestion(prefix, suffix, text, completion_id))

    def lookup(self, prefix: str, suffix: str) -> Suggestion | None:
        """The rest of a suggestion the user is typing into, or the same suggestion for the same place."""
        with self._lock:
            entries = list(self._entries)
        for entry in reversed(entries):
            if entry.suffix != suffix or not prefix.startswith(entry.prefix):
                continue
            typed = prefix[len(entry.prefix) :]
            if entry.text.startswith(typed) and len(typed) < len(entry.text):
                with self._lock:
                    self.hits += 1
                return Suggestion(prefix, suffix, entry.text[len(typed) :], entry.completion_id)
        with self._lock:
            self.misses += 1
        return None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
