"""CodeRefactor: rename, extract method and extract variable, previewed as a diff and applied atomically.

Python goes through rope, which knows scopes and imports, so a rename reaches every module of the
workspace that uses the symbol. The other languages get an identifier-aware rename within one file with
tree-sitter: only identifier nodes change, never text inside strings or comments. Every refactoring refuses
a file that does not parse, and refuses a result that does not parse.
"""

from __future__ import annotations

import contextlib
import difflib
import keyword
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tree_sitter

from pylot.bridge.policy import Policy
from pylot.bridge.tool_manager import Tool
from pylot.bridge.tools.code_parser import CodeParser, content_hash
from pylot.bridge.tools.languages import detect_language
from pylot.errors import ToolError

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*[?!]?$")
_ROPE_IGNORED = [".git", ".venv", "venv", "node_modules", "__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache"]


@dataclass(frozen=True)
class FileChange:
    """New content for one file, with the content it was computed from."""

    path: Path
    before: str
    after: str


@dataclass(frozen=True)
class RefactorResult:
    """What a refactoring changes: a unified diff to preview, the files, and whether it was written."""

    operation: str
    diff: str
    files: list[str]
    applied: bool


def unified_diff(relative: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{relative}", f"b/{relative}"
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def apply_atomically(policy: Policy, changes: list[FileChange]) -> None:
    """Write every change or none: stage all files beside their targets, then swap them in, undoing on failure."""
    for change in changes:
        if content_hash(policy.read_text(change.path)) != content_hash(change.before):
            raise ToolError(f"{change.path.name} changed since the refactoring was computed; run it again")
    with contextlib.ExitStack() as stack:
        staged = [(change, stack.enter_context(policy.stage_text(change.path, change.after))) for change in changes]
        done: list[FileChange] = []
        try:
            for change, staged_file in staged:
                staged_file.commit()
                done.append(change)
        except ToolError as exc:
            for undo in done:
                policy.write_text(undo.path, undo.before)
            raise ToolError(f"{exc}; no file was changed") from exc


class CodeRefactor:
    """Refactorings on the files of a workspace, within the permission policy.

    Args:
        policy: The workspace and what may be written.
        parser: A shared CodeParser (its cache), or a new one.
    """

    def __init__(self, policy: Policy, parser: CodeParser | None = None) -> None:
        self.policy = policy
        self.parser = parser or CodeParser(policy)

    def tools(self) -> list[Tool]:
        return [
            Tool.from_function(self.rename_symbol, timeout_s=120),
            Tool.from_function(self.extract_method, timeout_s=60),
            Tool.from_function(self.extract_variable, timeout_s=60),
        ]

    # ---- the tools ----------------------------------------------------------------------------------

    def rename_symbol(
        self,
        path: str,
        old_name: str,
        new_name: str,
        line: int | None = None,
        apply: bool = False,
        include_unsure: bool = True,
    ) -> RefactorResult:
        """Rename a symbol. In Python the rename is scope-aware and reaches every module of the workspace;
        in other languages it renames the identifier within the file, never inside strings or comments.

        Args:
            path: File where the symbol is defined or used.
            old_name: The current name.
            new_name: The new name.
            line: A 1-based line where old_name occurs, to pick one of several symbols with that name.
            apply: Write the change; otherwise only return the diff.
            include_unsure: Python: also rename uses whose type cannot be inferred (such as `x.name()` on an
                untyped x); without them a method rename can miss its callers.
        """
        file, source, language = self._load(path)
        _check_identifier(new_name, language)
        if language == "python":
            changes = self._rope_rename(file, source, old_name, new_name, line, include_unsure)
        else:
            changes = [FileChange(file, source, self._rename_in_file(source, language, old_name, new_name, line))]
        return self._finish(f"rename {old_name} -> {new_name}", changes, apply)

    def extract_method(
        self, path: str, start_line: int, end_line: int, new_name: str, apply: bool = False
    ) -> RefactorResult:
        """Move whole lines of a Python function into a new function or method and call it in their place.

        Args:
            path: A Python file.
            start_line: First line to extract (1-based).
            end_line: Last line to extract (inclusive).
            new_name: Name of the new function.
            apply: Write the change; otherwise only return the diff.
        """
        from rope.refactor.extract import ExtractMethod  # noqa: PLC0415 - rope loads only for a refactoring

        file, source, language = self._load(path, python_only=True)
        _check_identifier(new_name, language)
        lines = source.splitlines(keepends=True)
        if not 1 <= start_line <= end_line <= len(lines):
            raise ToolError(f"lines {start_line}-{end_line} are not inside {path} (1-{len(lines)})")
        start = sum(len(x) for x in lines[: start_line - 1])
        end = sum(len(x) for x in lines[:end_line])
        changes = self._rope(file, source, lambda p, res: ExtractMethod(p, res, start, end).get_changes(new_name))
        return self._finish(f"extract method {new_name}", changes, apply)

    def extract_variable(
        self, path: str, line: int, expression: str, new_name: str, apply: bool = False
    ) -> RefactorResult:
        """Put a Python expression in a new variable assigned just before its statement.

        Args:
            path: A Python file.
            line: The 1-based line where the expression starts.
            expression: The expression's text, exactly as written in the file.
            new_name: Name of the new variable.
            apply: Write the change; otherwise only return the diff.
        """
        from rope.refactor.extract import ExtractVariable  # noqa: PLC0415 - rope loads only for a refactoring

        file, source, language = self._load(path, python_only=True)
        _check_identifier(new_name, language)
        lines = source.splitlines(keepends=True)
        if not 1 <= line <= len(lines):
            raise ToolError(f"line {line} is not inside {path} (1-{len(lines)})")
        line_start = sum(len(x) for x in lines[: line - 1])
        index = source.find(expression, line_start, line_start + len(lines[line - 1]) + len(expression))
        if not expression.strip() or index < 0:
            raise ToolError(f"'{expression}' does not start on line {line} of {path}")
        end = index + len(expression)
        changes = self._rope(file, source, lambda p, res: ExtractVariable(p, res, index, end).get_changes(new_name))
        return self._finish(f"extract variable {new_name}", changes, apply)

    # ---- helpers -------------------------------------------------------------------------------------

    def _load(self, path: str, python_only: bool = False) -> tuple[Path, str, str]:
        file = self.policy.read_path(path)
        source = self.policy.read_text(file)
        language = detect_language(file, source)
        if language is None:
            raise ToolError(f"{path}: unknown language")
        if python_only and language != "python":
            raise ToolError(f"{path}: this refactoring is for Python only (the file is {language})")
        self._require_parses(file, source, language, "does not parse")
        return file, source, language

    def _require_parses(self, file: Path, source: str, language: str, what: str) -> None:
        result = self.parser.parse(source, language=language)
        if result.errors:
            first = result.errors[0]
            rel = self.policy.relative(file)  # the parser's message quotes the code, so it stays out
            raise ToolError(f"{rel} {what}: a syntax error at line {first.line}, column {first.column}; refused")

    def _finish(self, operation: str, changes: list[FileChange], apply: bool) -> RefactorResult:
        changes = [c for c in changes if c.after != c.before]
        if not changes:
            raise ToolError(f"{operation}: nothing to change")
        for change in changes:
            language = detect_language(change.path, change.after) or "python"
            self._require_parses(change.path, change.after, language, "would not parse after the change")
        diff = "".join(unified_diff(self.policy.relative(c.path), c.before, c.after) for c in changes)
        if apply:
            for change in changes:
                self.policy.write_path(change.path)  # refuse before anything is staged
            apply_atomically(self.policy, changes)
        return RefactorResult(operation, diff, [self.policy.relative(c.path) for c in changes], apply)

    def _rope(self, file: Path, source: str, compute: Callable[[Any, Any], Any]) -> list[FileChange]:
        """Run a rope refactoring (compute(project, resource) -> ChangeSet) and collect its new contents."""
        with warnings.catch_warnings():
            # rope calls its own deprecated helpers; that is rope's business, not the user's
            warnings.simplefilter("ignore", DeprecationWarning)
            return self._rope_changes(file, source, compute)

    def _rope_changes(self, file: Path, source: str, compute: Callable[[Any, Any], Any]) -> list[FileChange]:
        from rope.base import exceptions, libutils  # noqa: PLC0415 - rope loads only for a refactoring
        from rope.base.project import Project  # noqa: PLC0415 - rope loads only for a refactoring

        project = Project(str(self.policy.root), ropefolder=None, ignored_resources=_ROPE_IGNORED)
        try:
            resource = libutils.path_to_resource(project, str(file))
            changeset = compute(project, resource)
            out: list[FileChange] = []
            for change in changeset.changes:
                target = self.policy.root / change.resource.path
                before = source if target == file else self.policy.read_text(target)
                out.append(FileChange(target, before, change.new_contents))
            return out
        except exceptions.RopeError as exc:
            raise ToolError(f"rope refused: {exc}") from exc
        finally:
            project.close()

    def _rope_rename(
        self, file: Path, source: str, old: str, new: str, line: int | None, include_unsure: bool
    ) -> list[FileChange]:
        from rope.refactor.rename import Rename  # noqa: PLC0415 - rope loads only for a refactoring

        node = _find_identifier(self.parser.tree(source, "python").root_node, old, line, prefer_definition=True)
        offset = len(source.encode("utf-8")[: node.start_byte].decode("utf-8"))
        unsure = (lambda occurrence: True) if include_unsure else None
        return self._rope(file, source, lambda p, res: Rename(p, res, offset).get_changes(new, unsure=unsure))

    def _rename_in_file(self, source: str, language: str, old: str, new: str, line: int | None) -> str:
        data = source.encode("utf-8")
        root = self.parser.tree(data, language).root_node
        _find_identifier(root, old, line, prefer_definition=False)  # says so if old is not there at all
        spans = [(n.start_byte, n.end_byte) for n in _identifiers(root) if n.text == old.encode("utf-8")]
        replacement = new.encode("utf-8")
        for start, end in sorted(spans, reverse=True):
            data = data[:start] + replacement + data[end:]
        return data.decode("utf-8")


def _check_identifier(name: str, language: str) -> None:
    if not _IDENTIFIER.match(name) or (language == "python" and (not name.isidentifier() or keyword.iskeyword(name))):
        raise ToolError(f"'{name}' is not a valid {language} identifier")


def _identifiers(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    """Leaf identifier nodes: names in code, never the text of comments or string literals."""
    found: list[tree_sitter.Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.child_count == 0:
            if node.is_named and (node.type.endswith("identifier") or node.type == "constant"):
                found.append(node)
            continue
        if "comment" in node.type:
            continue
        stack.extend(node.children)
    found.sort(key=lambda n: n.start_byte)
    return found


def _find_identifier(
    root: tree_sitter.Node, name: str, line: int | None, *, prefer_definition: bool
) -> tree_sitter.Node:
    matches = [n for n in _identifiers(root) if n.text == name.encode("utf-8")]
    if line is not None:
        matches = [n for n in matches if n.start_point[0] + 1 == line]
    if not matches:
        where = f" on line {line}" if line is not None else ""
        raise ToolError(f"no identifier '{name}'{where} in the file")
    if prefer_definition:
        for node in matches:
            parent = node.parent
            if parent is not None and parent.child_by_field_name("name") == node:
                return node
    return matches[0]
