"""DocumentationGenerator: docstrings written by the model for undocumented Python functions, inserted with
libcst so that every other byte of the file stays as it was; and a Markdown API reference built from the
parsed symbols of any supported language, without the model."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from pylot.bridge.policy import Policy
from pylot.bridge.tool_manager import Tool
from pylot.bridge.tools.code_parser import CodeParser, ParseResult
from pylot.bridge.tools.code_refactor import FileChange, apply_atomically, unified_diff
from pylot.bridge.tools.languages import detect_language
from pylot.engines.interface import LLMInterface
from pylot.errors import ToolError
from pylot.types import GenerationParams

log = logging.getLogger(__name__)

PROMPT = (
    "Write a one-line docstring for this Python function: what it does or returns, in the imperative mood, "
    "under 80 characters. Reply with the sentence only.\n\n```python\n{code}\n```"
)


@dataclass(frozen=True)
class DocstringAdded:
    """A docstring the generator wrote."""

    function: str
    line: int
    docstring: str


@dataclass(frozen=True)
class DocstringResult:
    """The docstrings added, the functions left alone and why, the diff, and whether it was written."""

    path: str
    added: list[DocstringAdded]
    skipped: dict[str, str] = field(default_factory=dict)
    diff: str = ""
    applied: bool = False


@dataclass
class _Target:
    qualified: str
    line: int
    code: str


class _Finder(cst.CSTVisitor):
    """Collects functions without a docstring (with their qualified names and lines)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.scope: list[str] = []
        self.missing: list[_Target] = []
        self.one_liners: list[str] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scope.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        qualified = ".".join([*self.scope, node.name.value])
        self.scope.append(node.name.value)
        if node.get_docstring() is not None:
            return
        if not isinstance(node.body, cst.IndentedBlock):
            self.one_liners.append(qualified)
            return
        line = self.get_metadata(PositionProvider, node).start.line
        self.missing.append(_Target(qualified, line, self.module.code_for_node(node)))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scope.pop()


class _Inserter(cst.CSTTransformer):
    """Puts each new docstring as the first statement of its function's block; the block keeps its indent."""

    def __init__(self, docstrings: dict[str, str]) -> None:
        self.docstrings = docstrings
        self.scope: list[str] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.scope.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        qualified = ".".join(self.scope)
        self.scope.pop()
        text = self.docstrings.get(qualified)
        if text is None or not isinstance(updated_node.body, cst.IndentedBlock):
            return updated_node
        doc = cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{text}"""'))])
        body = updated_node.body
        return updated_node.with_changes(body=body.with_changes(body=[doc, *body.body]))


def clean_docstring(reply: str) -> str | None:
    """The model's reply as a safe one-line docstring, or None when nothing usable is left."""
    text = reply.strip().strip("`").strip()
    text = re.sub(r"^(python\s*)?(docstring:\s*)?", "", text, flags=re.I).strip()
    text = text.splitlines()[0].strip() if text else ""
    text = text.strip("\"'").replace('"""', "").replace("\\", "").strip()
    if len(text) < 8 or text.startswith(("def ", "class ", "#", ">>>")):
        return None
    if len(text) > 100:
        text = text[:97].rsplit(" ", 1)[0] + "..."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "...", "!", "?")) else text + "."


class DocumentationGenerator:
    """Writes missing docstrings with the model, and API references from the parsed code.

    Args:
        policy: The workspace: files read and written.
        llm: The model that writes docstrings; without one, only api_reference is offered.
        parser: A shared CodeParser.
    """

    def __init__(self, policy: Policy, llm: LLMInterface | None, parser: CodeParser | None = None) -> None:
        self.policy = policy
        self.llm = llm
        self.parser = parser or CodeParser(policy)

    def tools(self) -> list[Tool]:
        tools = [Tool.from_function(self.api_reference, timeout_s=120)]
        if self.llm is not None:
            tools.append(Tool.from_function(self.add_docstrings, timeout_s=600))
        return tools

    def add_docstrings(
        self, path: str, functions: list[str] | None = None, include_private: bool = False, apply: bool = False
    ) -> DocstringResult:
        """Write one-line docstrings for the functions of a Python file that have none, without touching
        anything else in the file; returns the diff.

        Args:
            path: A Python file.
            functions: Only these functions (name or Class.method); default: every undocumented one.
            include_private: Also document _private functions and dunder methods.
            apply: Write the file; otherwise only return the diff.
        """
        file = self.policy.read_path(path)
        if detect_language(file) != "python":
            raise ToolError(f"{path}: docstrings are written for Python files only")
        source = self.policy.read_text(file)
        try:
            module = cst.parse_module(source)
        except cst.ParserSyntaxError as exc:  # its message quotes the code, so it stays out
            raise ToolError(f"{path} does not parse: a syntax error at line {exc.raw_line}") from None
        finder = _Finder(module)
        MetadataWrapper(module, unsafe_skip_copy=True).visit(finder)
        skipped = {name: "body on the same line as def" for name in finder.one_liners}
        written: dict[str, str] = {}
        added: list[DocstringAdded] = []
        for target in finder.missing:
            name = target.qualified.rsplit(".", 1)[-1]
            if functions is not None and target.qualified not in functions and name not in functions:
                continue
            if name.startswith("_") and not include_private:
                skipped[target.qualified] = "private or dunder"
                continue
            docstring = self._write(target.code)
            if docstring is None:
                skipped[target.qualified] = "the model gave no usable sentence"
                continue
            written[target.qualified] = docstring
            added.append(DocstringAdded(target.qualified, target.line, docstring))
        relative = self.policy.relative(file)
        if not added:
            return DocstringResult(relative, [], skipped)
        new_source = module.visit(_Inserter(written)).code
        if apply:
            apply_atomically(self.policy, [FileChange(file, source, new_source)])
        log.info("docstrings: %d added, %d skipped", len(added), len(skipped))
        return DocstringResult(relative, added, skipped, unified_diff(relative, source, new_source), apply)

    def _write(self, code: str) -> str | None:
        if self.llm is None:
            raise ToolError("add_docstrings needs a model, and none is loaded")
        if len(code) > 6000:
            code = code[:6000]
        params = GenerationParams(max_tokens=48, temperature=0.0, seed=0, stop=["\n"])
        reply = self.llm.chat([{"role": "user", "content": PROMPT.format(code=code)}], params).text
        return clean_docstring(reply)

    def api_reference(self, path: str = ".", output: str | None = None) -> str:
        """Build a Markdown API reference (signatures, line ranges and docstrings) of a file or a directory,
        from the parsed code, in any supported language.

        Args:
            path: A file or directory inside the workspace.
            output: A Markdown file to write the reference to.
        """
        target = self.policy.resolve(path)
        folder = target.is_dir()
        if output:
            self.policy.write_path(output)  # refused before any work
        if folder:
            files = sorted(p for p in target.rglob("*") if p.is_file() and _wanted(p, self.policy))
        else:
            files = [self.policy.read_path(path)]
        sections = [f"# API reference: {self.policy.relative(target) if target != self.policy.root else '.'}", ""]
        for file in files:
            try:
                source = self.policy.read_text(file, errors="replace")
            except ToolError:
                if not folder:
                    raise
                log.info("api_reference: left out a file the policy does not read")  # e.g. a hard link
                continue
            result = self.parser.parse(source, path=self.policy.relative(file))
            sections.extend(render_file(result))
        markdown = "\n".join(sections).rstrip() + "\n"
        if output:
            self.policy.write_text(output, markdown)
        return markdown


def _wanted(path: Path, policy: Policy) -> bool:
    parts = path.relative_to(policy.root).parts
    skip = {".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist"}
    if any(p in skip or p.startswith(".") for p in parts[:-1]) or detect_language(path) is None:
        return False
    try:
        policy.resolve(path)  # not through a symlink that leads out
    except ToolError:
        return False
    return True


def render_file(result: ParseResult, hide_private: Sequence[str] = ("_",)) -> list[str]:
    """The Markdown section of one parsed file: public symbols in source order."""
    symbols = [s for s in result.symbols if not s.name.startswith(tuple(hide_private)) or s.name.startswith("__init")]
    if not symbols:
        return []
    lines = [f"## {result.path} ({result.language})", ""]
    for symbol in symbols:
        depth = symbol.qualified_name.count(".") if symbol.parent else 0
        heading = "#" * min(6, 3 + depth)
        lines.append(f"{heading} {symbol.kind} `{symbol.qualified_name}`")
        lines.append("")
        lines.append(f"`{symbol.signature}` — lines {symbol.start_line}-{symbol.end_line}")
        if symbol.docstring:
            lines.extend(["", symbol.docstring])
        lines.append("")
    return lines
