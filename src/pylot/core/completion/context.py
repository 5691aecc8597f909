"""What the model sees: a stable window around the cursor, and whether to suggest a line or a block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["line", "block"]

# Line endings that open a block in the languages editors see most.
BLOCK_OPENERS = (":", "{", "(", "[", "=>", "->", " do", " then", "\\")


@dataclass(frozen=True)
class CursorContext:
    """The text around the cursor, already cut to the windows the model will see."""

    prefix: str  # window before the cursor
    suffix: str  # window after the cursor
    line_prefix: str  # the cursor's line, up to the cursor
    line_suffix: str  # the cursor's line, after the cursor
    mode: Mode

    @property
    def indent(self) -> str:
        return self.line_prefix[: len(self.line_prefix) - len(self.line_prefix.lstrip())]

    @property
    def at_line_start(self) -> bool:
        return not self.line_prefix.strip()


def _indent_width(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def window_prefix(prefix: str, max_lines: int, max_chars: int, snap: int = 32) -> str:
    """The last lines before the cursor, starting at a line number that is a multiple of `snap`.

    Snapping keeps the window's first line fixed while the user types on, so the prompt's beginning
    (and the model's KV cache for it) stays the same from one keystroke to the next.
    """
    lines = prefix.split("\n")
    cursor_line = len(lines) - 1
    start = 0
    if cursor_line > max_lines:
        start = (cursor_line - max_lines) // snap * snap
    text = "\n".join(lines[start:])
    while len(text) > max_chars and start < cursor_line:
        start += snap if start + snap < cursor_line else 1
        text = "\n".join(lines[start:])
    return text


def window_suffix(suffix: str, max_lines: int, max_chars: int) -> str:
    """The first lines after the cursor; short, because every keystroke re-evaluates all of them."""
    lines = suffix.split("\n")
    text = "\n".join(lines[: max_lines + 1])
    return text[:max_chars]


def choose_mode(prefix: str, suffix: str, multiline: bool = True) -> Mode:
    """A block when the cursor sits on an empty line inside a block that has no body yet, else a line.

    "def f(x):\\n    |" followed by a dedent (or nothing) asks for the body; anything typed on the
    line, or a body that already continues below, asks for the rest of one line.
    """
    line_prefix = prefix.rsplit("\n", 1)[-1]
    line_suffix = suffix.split("\n", 1)[0]
    if not multiline or line_prefix.strip() or line_suffix.strip():
        return "line"
    previous = next((ln for ln in reversed(prefix.split("\n")[:-1]) if ln.strip()), None)
    if previous is None or not previous.rstrip().endswith(BLOCK_OPENERS):
        return "line"
    following = next((ln for ln in suffix.split("\n")[1:] if ln.strip()), None)
    if following is not None and _indent_width(following) > _indent_width(previous):
        return "line"  # the block already has a body below the cursor
    return "block"


def build_context(
    prefix: str,
    suffix: str,
    *,
    prefix_lines: int,
    prefix_chars: int,
    suffix_lines: int,
    suffix_chars: int,
    multiline: bool = True,
) -> CursorContext:
    line_prefix = prefix.rsplit("\n", 1)[-1]
    line_suffix = suffix.split("\n", 1)[0]
    return CursorContext(
        prefix=window_prefix(prefix, prefix_lines, prefix_chars),
        suffix=window_suffix(suffix, suffix_lines, suffix_chars),
        line_prefix=line_prefix,
        line_suffix=line_suffix,
        mode=choose_mode(prefix, suffix, multiline),
    )
