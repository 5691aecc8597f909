"""Multi-line infilling items: 2 to 12 whole lines masked in real functions, in two request forms.

Masks are cut where an editor user would ask for lines: a block's body, a branch (`elif`/`else`
with its body), or the rest of a function. Two sets from code no one here wrote:
- `humaneval`: HumanEval's canonical solutions (the problems' own tests score them by execution);
- `repo`: functions of real Python modules (the standard library and installed packages), scored by
  exact match and edit similarity.
Two request forms for each mask:
- `boundary`: the prompt ends at the end of a line and the suffix starts on the next line, as a FIM
  API client asks for lines to insert between two lines; the answer ends with a newline;
- `empty-line`: the cursor sits on an empty line indented like the mask's first line, the suffix
  starts with the newline that ends it (an editor after Enter); the answer has no final newline.
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "bench-data" / "human-eval-infilling"
FORMS = ("boundary", "empty-line")

# Modules whose functions make the `repo` set: real code of several styles, none of them the files
# the keystroke benchmark types (json/decoder.py, textwrap.py, statistics.py).
REPO_MODULES = (
    "shlex",
    "fnmatch",
    "ipaddress",
    "csv",
    "difflib",
    "configparser",
    "click.parser",
    "httpx._urlparse",
    "rich.markup",
    "yaml.emitter",
)
CONTEXT_BEFORE, CONTEXT_AFTER = 60, 24  # lines of the file around a `repo` mask that a request carries


@dataclass(frozen=True)
class Span:
    """One masked span of whole lines in one file's text."""

    id: str
    set: str
    kind: str  # body | branch | rest
    lines: list[str]  # the file's lines, each with its newline
    start: int  # first masked line (0-based)
    end: int  # one past the last masked line
    test: str = ""  # HumanEval's check program
    entry_point: str = ""


@dataclass(frozen=True)
class Item:
    """A request built from a span: what the client sends and what the true middle is."""

    span: Span
    form: str
    prefix: str
    suffix: str
    truth: str

    @property
    def id(self) -> str:
        return f"{self.span.id}:{self.form}"


def _masks(func: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) candidates of 2-12 lines inside one function (0-based, end exclusive)."""
    body = list(func.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]  # the docstring is not code to write
    if not body:
        return
    end_of_func = func.end_lineno or body[-1].end_lineno or 0
    for node in ast.walk(func):
        if node is func or not isinstance(node, ast.For | ast.While | ast.If | ast.With | ast.Try):
            continue
        inner = node.body
        yield "body", inner[0].lineno - 1, inner[-1].end_lineno or inner[-1].lineno
        if isinstance(node, ast.If) and node.orelse:
            first = node.orelse[0].lineno - 1
            if not lines[first].lstrip().startswith("elif"):
                first -= 1  # the `else:` line
            yield "branch", first, node.orelse[-1].end_lineno or node.orelse[-1].lineno
    for stmt in body:
        yield "rest", stmt.lineno - 1, end_of_func


def _pick(func: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str], turn: int) -> tuple[str, int, int] | None:
    """One mask for a function, the kind chosen in turn so the set mixes bodies, branches and rests."""
    found = [
        (kind, a, b)
        for kind, a, b in _masks(func, lines)
        if 2 <= b - a <= 12 and all(lines[i].strip() for i in (a, b - 1)) and '"""' not in "".join(lines[a:b])
    ]
    if not found:
        return None
    kinds = ("body", "branch", "rest")
    for k in range(3):
        wanted = kinds[(turn + k) % 3]
        same = [m for m in found if m[0] == wanted]
        if same:
            return same[len(same) // 2]
    return None


def humaneval_spans(limit: int) -> list[Span]:
    """One mask per HumanEval problem (whole canonical solution rebuilt from the single-line set)."""
    path = DATA / "HumanEval-SingleLineInfilling.jsonl.gz"
    problems: dict[str, dict[str, str]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for row in map(json.loads, fh):
            problems.setdefault(row["task_id"].rsplit("/", 1)[0], row)
    spans: list[Span] = []
    for turn, (task, row) in enumerate(problems.items()):
        text = row["prompt"] + row["canonical_solution"] + row["suffix"]
        lines = text.splitlines(keepends=True)
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        func = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == row["entry_point"]), None)
        mask = _pick(func, lines, turn) if func else None
        if mask:
            spans.append(Span(task, "humaneval", mask[0], lines, mask[1], mask[2], row["test"], row["entry_point"]))
    return _spread(spans, limit)


def repo_spans(limit: int) -> list[Span]:
    """One mask per function of the modules in REPO_MODULES, spread over them."""
    spans: list[Span] = []
    turn = 0
    for module in REPO_MODULES:
        try:
            spec = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            continue
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        text = Path(spec.origin).read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                mask = _pick(node, lines, turn)
                if mask:
                    turn += 1
                    spans.append(Span(f"{module}:{node.name}:{mask[1] + 1}", "repo", mask[0], lines, mask[1], mask[2]))
    return _spread(spans, limit)


def _spread(spans: list[Span], limit: int) -> list[Span]:
    if not limit or limit >= len(spans):
        return spans
    step = len(spans) / limit
    return [spans[int(i * step)] for i in range(limit)]


def request(span: Span, form: str) -> Item:
    """The request for one span in one form; a `repo` span carries only the lines around it."""
    lo = 0 if span.set == "humaneval" else max(0, span.start - CONTEXT_BEFORE)
    hi = len(span.lines) if span.set == "humaneval" else min(len(span.lines), span.end + CONTEXT_AFTER)
    before = "".join(span.lines[lo : span.start])
    masked = "".join(span.lines[span.start : span.end])
    after = "".join(span.lines[span.end : hi])
    if form == "boundary":
        return Item(span, form, before, after, masked)
    first = span.lines[span.start]
    indent = first[: len(first) - len(first.lstrip())]
    return Item(span, form, before + indent, "\n" + after, masked[len(indent) :].removesuffix("\n"))


def build(limit: int) -> list[Item]:
    """Both sets in both forms, the forms of one span next to each other (they share a cached prefix)."""
    spans = humaneval_spans(limit) + repo_spans(limit)
    return [request(span, form) for span in spans for form in FORMS]
