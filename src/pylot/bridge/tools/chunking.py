"""Cutting source files into search chunks along tree-sitter symbols, and the words a chunk is searched by."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pylot.bridge.tools.code_parser import CONTAINERS, ParseResult, Symbol

MAX_LINES = 60  # a chunk longer than this is split; MiniLM reads only the first ~256 tokens anyway
MIN_GAP_LINES = 3  # module-level code shorter than this between symbols is not worth a chunk
_SPLIT_CONTAINERS = CONTAINERS | {"namespace"}


@dataclass(frozen=True)
class Chunk:
    """A piece of a file: whole lines, usually one symbol."""

    path: str
    start_line: int
    end_line: int
    symbol: str | None
    kind: str
    text: str
    summary: str = ""  # signature and docstring: what the chunk says about itself in words


def split_identifiers(text: str) -> str:
    """`parseConfig`, `parse_config` and `ParseConfig` also as the words `parse config`."""
    words = []
    for token in re.findall(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*", text):
        parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", token.replace("_", " "))
        words.append(" ".join(p.lower() for p in parts) if len(parts) > 1 else token)
    return " ".join(words)


def _windows(
    path: str, lines: list[str], start: int, end: int, symbol: str | None, kind: str, summary: str = ""
) -> list[Chunk]:
    """Lines start..end (1-based, inclusive) as chunks of at most MAX_LINES; the summary goes with the first."""
    out = []
    for lo in range(start, end + 1, MAX_LINES):
        hi = min(end, lo + MAX_LINES - 1)
        text = "".join(lines[lo - 1 : hi])
        if text.strip():
            first = lo == start
            out.append(
                Chunk(path, lo, hi, symbol, kind if first else f"{kind} (cont.)", text, summary if first else "")
            )
    return out


def _summary(symbol: Symbol) -> str:
    return f"{symbol.signature}\n{symbol.docstring}" if symbol.docstring else symbol.signature


def chunk_code(path: str, source: str, parsed: ParseResult) -> list[Chunk]:
    """Top-level symbols as chunks; big classes and namespaces split into their members; the code between
    symbols (imports, constants, scripts) in chunks of its own."""
    lines = source.splitlines(keepends=True)
    chunks: list[Chunk] = []
    covered = [False] * (len(lines) + 2)

    def take(symbol: Symbol) -> None:
        members = [s for s in parsed.symbols if s.parent == symbol.qualified_name and s.start_line > symbol.start_line]
        size = symbol.end_line - symbol.start_line + 1
        if symbol.kind in _SPLIT_CONTAINERS and members and (size > MAX_LINES or symbol.kind == "namespace"):
            header_end = max(symbol.start_line, members[0].start_line - 1)
            chunks.extend(
                _windows(
                    path, lines, symbol.start_line, header_end, symbol.qualified_name, symbol.kind, _summary(symbol)
                )
            )
            for line in range(symbol.start_line, header_end + 1):
                covered[line] = True
            for member in members:
                take(member)
            return
        chunks.extend(
            _windows(
                path, lines, symbol.start_line, symbol.end_line, symbol.qualified_name, symbol.kind, _summary(symbol)
            )
        )
        for line in range(symbol.start_line, symbol.end_line + 1):
            covered[line] = True

    for symbol in parsed.symbols:
        if symbol.parent is None:
            take(symbol)
    chunks.extend(_gaps(path, lines, covered))
    chunks.sort(key=lambda c: c.start_line)
    return chunks


def _gaps(path: str, lines: list[str], covered: list[bool]) -> list[Chunk]:
    out: list[Chunk] = []
    line = 1
    while line <= len(lines):
        if covered[line]:
            line += 1
            continue
        start = line
        while line <= len(lines) and not covered[line]:
            line += 1
        body = [x for x in lines[start - 1 : line - 1] if x.strip()]
        if len(body) >= MIN_GAP_LINES or (start == 1 and body):
            out.extend(_windows(path, lines, start, line - 1, None, "module"))
    return out


def chunk_text(path: str, source: str) -> list[Chunk]:
    """Documents: Markdown cut at headings, anything else in windows."""
    lines = source.splitlines(keepends=True)
    if not path.lower().endswith((".md", ".markdown", ".rst")):
        return _windows(path, lines, 1, len(lines), None, "text")
    heads = [i + 1 for i, x in enumerate(lines) if re.match(r"^#{1,6} ", x)] or [1]
    if heads[0] != 1:
        heads.insert(0, 1)
    out: list[Chunk] = []
    for n, start in enumerate(heads):
        end = heads[n + 1] - 1 if n + 1 < len(heads) else len(lines)
        title = lines[start - 1].lstrip("# ").strip() or None
        out.extend(_windows(path, lines, start, end, title, "section", title or ""))
    return out
