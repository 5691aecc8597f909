"""Shaping raw model output into a suggestion: where to stop, what to cut, what to drop."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pylot.completion.context import CursorContext, _indent_width

# Special-token text a model may spell out in plain text; never shown to the user.
SPECIAL = re.compile(r"<\|[a-z_]+\|>|<(?:fim_[a-z]+|file_sep|repo_name|PRE|SUF|MID|EOT)>|<｜[^｜]+｜>")
OPENERS, CLOSERS = "([{", ")]}"
PAIRS = dict(zip(CLOSERS, OPENERS, strict=True))


def stop_at(text: str, stop: Sequence[str]) -> int | None:
    """Where the first of a client's stop strings starts in the text, or None when none occurs."""
    found = [i for s in stop if s and (i := text.find(s)) >= 0]
    return min(found) if found else None


def should_stop(text: str, ctx: CursorContext, max_lines: int) -> bool:
    """Called as text streams in: True once the suggestion is complete and generation can end."""
    if ctx.mode == "line":
        head, sep, _ = text.partition("\n")
        return bool(sep) and (bool(head.strip()) or not ctx.at_line_start)
    return _block_end(text, ctx, max_lines) is not None


def _block_end(text: str, ctx: CursorContext, max_lines: int) -> int | None:
    """Index where a block ends: at a line indented `ctx.scope` or less, a line that repeats the suffix,
    two blank lines, or after max_lines lines; None while the block may go on."""
    next_suffix_line = next((ln.strip() for ln in ctx.following_lines if ln.strip()), None)
    lines = text.split("\n")
    offset = 0
    body = 0
    for i, line in enumerate(lines[:-1]):  # only finished lines count
        full = (ctx.line_prefix + line) if i == 0 else line
        if line.strip():
            if body and _indent_width(full) <= ctx.scope:
                return offset + len(line) if _closes_block(full, next_suffix_line) else offset
            if next_suffix_line is not None and full.strip() == next_suffix_line:
                return offset
            body += 1
            if body >= max_lines:
                return offset + len(line)
        elif i > 0 and not lines[i - 1].strip() and body:
            return offset  # two blank lines end a block
        offset += len(line) + 1
    last = lines[-1]
    if (
        body
        and len(lines) > 1
        and last.strip()
        and _indent_width(last) <= ctx.scope
        and last.lstrip()[0] not in CLOSERS
    ):
        return offset  # a dedent shows with the line's first character: no need to wait for its end
    return None


def _closes_block(line: str, next_suffix_line: str | None) -> bool:
    """A dedented line of closing brackets (`}`, `)`) belongs to the block, unless the suffix already has it."""
    stripped = line.strip()
    return stripped[0] in CLOSERS and not (next_suffix_line or "").startswith(stripped[0])


def finalize(text: str, ctx: CursorContext, finish_reason: str, max_lines: int) -> str:
    """The suggestion to show: cut to a line or block, de-duplicated against the suffix, brackets kept balanced."""
    text = SPECIAL.split(text, maxsplit=1)[0]
    if ctx.mode == "line":
        head, sep, _ = text.partition("\n")
        if not head.strip() and sep and ctx.at_line_start:
            text = text.lstrip("\n").partition("\n")[0]
            stopped_at_newline = "\n" in text or bool(sep)
        else:
            text, stopped_at_newline = head, bool(sep)
        if finish_reason == "time_limit" and not stopped_at_newline:
            return ""  # an unfinished line is not worth showing
        text = text.rstrip()
        text = _trim_line_suffix_overlap(text, ctx)
        text = _balance_brackets(text, ctx)
        if not text.strip() or text.strip() == ctx.line_suffix.strip():
            return ""
        if ctx.at_line_start and ctx.line_suffix.strip() and stopped_at_newline:
            text += "\n"  # the cursor is before existing text: insert a whole new line
        return text
    end = _block_end(text + "\n", ctx, max_lines)
    if end is not None:
        text = text[:end]
    elif finish_reason in ("time_limit", "length"):
        # keep only the lines finished so far (a block cut short by the token limit keeps its one line)
        text = text[: text.rfind("\n")] if "\n" in text else (text if finish_reason == "length" else "")
    lines = [ln.rstrip() for ln in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    text = "\n".join(lines)
    text = _trim_suffix_lines(text, ctx)
    if not text.strip():
        return ""
    return text + "\n" if ctx.at_boundary else text  # whole lines before the line at the cursor


def _trim_line_suffix_overlap(text: str, ctx: CursorContext) -> str:
    """Drop a tail the model wrote that is already after the cursor (a closing ')' or '"', say)."""
    rest = ctx.line_suffix.strip()
    if not rest:
        return text
    for k in range(len(rest), 0, -1):
        if text.endswith(rest[:k]):
            candidate = text[: len(text) - k]
            if _balance(ctx.line_prefix + candidate + ctx.line_suffix) >= _balance(
                ctx.line_prefix + text + ctx.line_suffix
            ):
                return candidate.rstrip() if k == len(rest) else candidate
    return text


def _balance(line: str) -> int:
    """Brackets opened minus closed, ignoring what sits inside simple string literals."""
    depth, quote = 0, ""
    for ch in line:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth -= 1
    return -abs(depth)


def _balance_brackets(text: str, ctx: CursorContext) -> str:
    """When the text after the cursor closes brackets, cut the suggestion at a closer that does not match
    one of its own openers: the suffix already closes the line's brackets, so the model would close twice."""
    if not any(c in ctx.line_suffix for c in CLOSERS):
        return text
    own: list[str] = []
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in OPENERS:
            own.append(ch)
        elif ch in CLOSERS:
            if own and own[-1] == PAIRS[ch]:
                own.pop()
            else:
                return text[:i].rstrip()
    return text


def _trim_suffix_lines(text: str, ctx: CursorContext) -> str:
    """Drop trailing lines that repeat the lines right after the cursor."""
    following = [ln.rstrip() for ln in ctx.following_lines if ln.strip()]
    lines = text.split("\n")
    if not following:
        return text
    for i, line in enumerate(lines):
        if (i > 0 or ctx.at_boundary) and line.rstrip() == following[0] and line.strip():
            return "\n".join(lines[:i]).rstrip()
    return text
