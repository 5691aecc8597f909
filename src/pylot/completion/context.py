"""What the model sees: a stable window around the cursor, and whether to suggest a line or a block."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pylot.engines.interface import estimate_tokens

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
    scope: int = -1  # a suggested line indented this much or less ends a block

    @property
    def indent(self) -> str:
        return self.line_prefix[: len(self.line_prefix) - len(self.line_prefix.lstrip())]

    @property
    def at_line_start(self) -> bool:
        return not self.line_prefix.strip()

    @property
    def at_boundary(self) -> bool:
        """The cursor at column 0 before a line with text: a FIM client asking for lines to insert there."""
        return not self.line_prefix and bool(self.line_suffix.strip())

    @property
    def following_lines(self) -> list[str]:
        """The lines after the suggestion: the suffix after the cursor's line, or all of it at a boundary."""
        lines = self.suffix.split("\n")
        return lines if self.at_boundary else lines[1:]


def _indent_width(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


class TokenCounter:
    """Remembers lines' token counts: while the user types, only the cursor's line is new, so a window
    of 200 lines costs one tokenizer call per keystroke. One counter per tokenizer."""

    def __init__(self, capacity: int = 8192) -> None:
        self._capacity = capacity
        self._known: dict[str, int] = {}

    def count(self, line: str, tokenize: Callable[[str], int]) -> int:
        n = self._known.get(line)
        if n is None:
            if len(self._known) >= self._capacity:
                self._known.clear()
            n = self._known[line] = tokenize(line) if line else 0
        return n


def window_prefix(
    prefix: str, max_lines: int, max_tokens: int, count: Callable[[str], int] = estimate_tokens, snap: int = 32
) -> str:
    """The last lines before the cursor within both budgets, starting at a line number that is a multiple of `snap`.

    Snapping keeps the window's first line fixed while the user types on, so the prompt's beginning
    (and the model's KV cache for it) stays the same from one keystroke to the next. The line budget
    snaps down (a few lines more), the token budget snaps up (never more tokens than allowed).
    """
    lines = prefix.split("\n")
    cursor_line = len(lines) - 1
    start = max(0, (cursor_line - max_lines) // snap * snap)
    used, first = 0, cursor_line + 1  # `first`: the earliest line that still fits the token budget
    while first > start:
        cost = count(lines[first - 1]) + (1 if first - 1 < cursor_line else 0)  # each line's newline
        if used + cost > max_tokens:
            break
        used += cost
        first -= 1
    if first > cursor_line:  # the cursor's line alone is over budget: keep its end
        return _part_within(lines[cursor_line], max_tokens, count, end=True)
    if first > start:
        snapped = -(-first // snap) * snap
        start = snapped if snapped <= cursor_line else first
    return "\n".join(lines[start:])


def window_suffix(suffix: str, max_lines: int, max_tokens: int, count: Callable[[str], int] = estimate_tokens) -> str:
    """The first lines after the cursor within both budgets; short, because every keystroke re-evaluates them."""
    lines = suffix.split("\n")[: max_lines + 1]
    used = 0
    for i, line in enumerate(lines):
        cost = count(line) + (1 if i else 0)
        if used + cost > max_tokens:
            if i == 0:
                return _part_within(line, max_tokens, count, end=False)
            return "\n".join(lines[:i])
        used += cost
    return "\n".join(lines)


def _part_within(text: str, max_tokens: int, count: Callable[[str], int], end: bool) -> str:
    """The longest start (or, with `end`, end) of one over-long line that fits the budget: minified
    code, a data blob."""
    keep = len(text)
    while keep and count(text[len(text) - keep :] if end else text[:keep]) > max_tokens:
        keep = keep * 3 // 4
    return text[len(text) - keep :] if end else text[:keep]


def choose_mode(prefix: str, suffix: str, multiline: bool = True) -> Mode:
    """A block on an empty line, at the end of a line that opens one, or at a line boundary; else the
    rest of the line.

    On an empty line the model may write several statements; after `for x in xs:|` it writes the body;
    with the cursor at column 0 before a line of text (a FIM client asking for the lines between two
    lines) it writes whole lines. Text typed on the line, or text after the cursor, asks for the rest
    of one line (a guess at the rest of a half-typed line is not worth the time its body would take).
    """
    line_prefix = prefix.rsplit("\n", 1)[-1]
    line_suffix = suffix.split("\n", 1)[0]
    if not multiline:
        return "line"
    if not line_prefix and line_suffix.strip():
        return "block"
    if line_suffix.strip():
        return "line"
    if not line_prefix.strip() or line_prefix.rstrip().endswith(BLOCK_OPENERS):
        return "block"
    return "line"


def block_scope(prefix: str) -> int:
    """The indentation at or below which a suggested block ends.

    A block opened on the cursor's line, or on the line before an empty cursor line, ends at a line no
    deeper than the opener. Elsewhere the block holds statements at the cursor's level (its typed
    indentation, or the previous line's when none is typed).
    """
    lines = prefix.split("\n")
    if lines[-1].strip():
        return _indent_width(lines[-1])
    previous = next((ln for ln in reversed(lines[:-1]) if ln.strip()), None)
    if previous is None:
        return -1
    if previous.rstrip().endswith(BLOCK_OPENERS):
        return _indent_width(previous)
    return (_indent_width(lines[-1]) if lines[-1] else _indent_width(previous)) - 1


def build_context(
    prefix: str,
    suffix: str,
    *,
    prefix_lines: int,
    prefix_tokens: int,
    suffix_lines: int,
    suffix_tokens: int,
    multiline: bool = True,
    count: Callable[[str], int] = estimate_tokens,
) -> CursorContext:
    """The windows the model sees; `count` is the engine's tokenizer where it has one in process."""
    line_prefix = prefix.rsplit("\n", 1)[-1]
    line_suffix = suffix.split("\n", 1)[0]
    return CursorContext(
        prefix=window_prefix(prefix, prefix_lines, prefix_tokens, count),
        suffix=window_suffix(suffix, suffix_lines, suffix_tokens, count),
        line_prefix=line_prefix,
        line_suffix=line_suffix,
        mode=choose_mode(prefix, suffix, multiline),
        scope=block_scope(prefix),
    )
