"""Lone surrogates: the one kind of JSON string that is not text.

JSON's escape "\\ud800" decodes, in Python, to a str holding half of a UTF-16 pair. It cannot be encoded
as UTF-8, so it fails wherever it goes next (the tokenizer, a config file, a JSON response). Requests and
config updates are checked here, at the edge, and refused with the key that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class LoneSurrogate:
    """Where one was found: the dotted key ("messages.0.content"), the code point and its index there."""

    where: str
    code_point: int
    index: int
    in_key: bool = False

    def describe(self) -> str:
        place = f"the key '{self.where}'" if self.in_key else f"'{self.where or 'the value'}'"
        return (
            f"{place} contains a lone surrogate (U+{self.code_point:04X} at character {self.index}), "
            "which is not text: send valid Unicode"
        )


def printable(text: str) -> str:
    """`text` with any surrogate shown as an escape, so it can be logged or put in a message."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def find_lone_surrogate(data: Any, where: str = "") -> LoneSurrogate | None:
    """The first lone surrogate in a string, or in the keys and values of nested mappings and lists."""
    if isinstance(data, str):
        found = LONE_SURROGATE.search(data)
        return LoneSurrogate(where, ord(found.group()), found.start()) if found else None
    if isinstance(data, Mapping):
        for key, value in data.items():
            name = printable(str(key))
            path = f"{where}.{name}" if where else name
            if name != str(key):
                found = LONE_SURROGATE.search(str(key))
                assert found is not None
                return LoneSurrogate(path, ord(found.group()), found.start(), in_key=True)
            if (inner := find_lone_surrogate(value, path)) is not None:
                return inner
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            if (inner := find_lone_surrogate(value, f"{where}.{index}" if where else str(index))) is not None:
                return inner
    return None
