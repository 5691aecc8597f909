"""CodeParser: symbols, imports and syntax errors of source files in eleven languages, via tree-sitter."""

from __future__ import annotations

import hashlib
import inspect
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tree_sitter

from pylot.bridge.policy import Policy
from pylot.bridge.tool_manager import Tool
from pylot.bridge.tool_schema import jsonable
from pylot.bridge.tools.languages import detect_language, parser
from pylot.errors import ToolError

_JS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "class_declaration": "class",
    "method_definition": "method",
    "variable_declarator": "function",  # only when its value is a function (see _name)
}
_TS = {
    **_JS,
    "abstract_class_declaration": "class",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
    "internal_module": "namespace",
    "function_signature": "function",
}
_C = {
    "function_definition": "function",
    "struct_specifier": "struct",
    "union_specifier": "struct",
    "enum_specifier": "enum",
    "type_definition": "type",
}
DEFINITIONS: dict[str, dict[str, str]] = {
    "python": {"function_definition": "function", "class_definition": "class"},
    "javascript": _JS,
    "typescript": _TS,
    "tsx": _TS,
    "go": {"function_declaration": "function", "method_declaration": "method", "type_spec": "type"},
    "rust": {
        "function_item": "function",
        "function_signature_item": "function",
        "struct_item": "struct",
        "enum_item": "enum",
        "trait_item": "trait",
        "impl_item": "impl",
        "mod_item": "module",
    },
    "java": {
        "class_declaration": "class",
        "record_declaration": "class",
        "interface_declaration": "interface",
        "annotation_type_declaration": "interface",
        "enum_declaration": "enum",
        "method_declaration": "method",
        "constructor_declaration": "constructor",
    },
    "c": _C,
    "cpp": {**_C, "class_specifier": "class", "namespace_definition": "namespace"},
    "csharp": {
        "class_declaration": "class",
        "record_declaration": "class",
        "struct_declaration": "struct",
        "interface_declaration": "interface",
        "enum_declaration": "enum",
        "method_declaration": "method",
        "constructor_declaration": "constructor",
        "namespace_declaration": "namespace",
        "file_scoped_namespace_declaration": "namespace",
    },
    "ruby": {"method": "function", "singleton_method": "function", "class": "class", "module": "module"},
}
CONTAINERS = frozenset({"class", "interface", "struct", "trait", "impl", "enum", "module"})
FUNCTIONS = frozenset({"function", "method", "constructor"})
_WRAPPERS = frozenset({"decorated_definition", "export_statement", "template_declaration", "lexical_declaration"})
_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function", "generator_function"})
_NAME_LEAVES = frozenset(
    {"identifier", "field_identifier", "qualified_identifier", "destructor_name", "operator_name", "type_identifier"}
)
_RUBY_LOADS = ("require", "require_relative", "load")
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
_DESCRIPTION = (
    "Parse source code given as text: its functions, classes and methods (line ranges, signatures, "
    "docstrings), imports and syntax errors; the language is detected when not given."
)


@dataclass(frozen=True)
class Symbol:
    """A function, method, class or other definition; lines are 1-based and inclusive."""

    name: str
    kind: str
    start_line: int
    end_line: int
    start_byte: int
    end_byte: int
    signature: str
    parent: str | None = None
    docstring: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.parent}.{self.name}" if self.parent else self.name


@dataclass(frozen=True)
class Import:
    """One import, include, use or require, as written."""

    module: str
    line: int


@dataclass(frozen=True)
class SyntaxIssue:
    """A place the grammar could not parse; line and column are 1-based."""

    line: int
    column: int
    message: str


@dataclass(frozen=True)
class ParseResult:
    """Everything CodeParser found in one source."""

    language: str
    content_hash: str
    symbols: list[Symbol] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    errors: list[SyntaxIssue] = field(default_factory=list)
    path: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def find(self, name: str) -> list[Symbol]:
        """Symbols whose name or qualified name is `name`."""
        return [s for s in self.symbols if name in (s.name, s.qualified_name)]


def content_hash(source: str | bytes) -> str:
    data = source.encode("utf-8") if isinstance(source, str) else source
    return hashlib.sha256(data).hexdigest()


class CodeParser(Tool):
    """Parses source with tree-sitter; results are cached by content hash, so re-parsing is free.

    A CodeParser is itself the `code_parser` tool (`execute(code, language=None)` -> a dict), and offers
    `parse_file` for files of the workspace through `tools()`.

    Args:
        policy: Where parse_file may read; without one, parse_file reads any path.
        cache_size: How many parse results to keep.
    """

    def __init__(self, policy: Policy | None = None, *, cache_size: int = 512) -> None:
        super().__init__(**Tool.fields_of(self.execute, name="code_parser", description=_DESCRIPTION, timeout_s=30))
        self.policy = policy
        self._cache: OrderedDict[tuple[str, str], ParseResult] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"CodeParser(policy={self.policy!r})"

    # ---- the tools ----------------------------------------------------------------------------------

    def execute(self, code: str, language: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Parse source text: its functions, classes and methods (with line ranges and docstrings),
        imports, and syntax errors with positions.

        Args:
            code: The source text.
            language: The language name (python, javascript, typescript, go, rust, java, c, cpp, ...); detected
                from the content (or `filename`) when not given.
            filename: A name for the source (keyword; used to detect the language, never read).
        """
        unknown = [k for k in kwargs if k != "filename"]
        if unknown:
            raise ToolError(f"code_parser: unknown argument '{unknown[0]}' (expected: code, language, filename)")
        filename = kwargs.get("filename")
        if filename is not None and not isinstance(filename, str):
            raise ToolError(f"code_parser: filename must be a string, got {type(filename).__name__}")
        result = self.parse(code, language, filename)
        view: dict[str, Any] = jsonable(result)
        view["ok"] = result.ok
        return view

    def parse_file(self, path: str) -> ParseResult:
        """Parse a source file: its functions, classes and methods (with line ranges and docstrings), imports,
        and syntax errors with positions.

        Args:
            path: File inside the workspace.
        """
        if self.policy is not None:
            return self.parse(self.policy.read_text(path, errors="replace"), path=self.policy.relative(path))
        try:
            source = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ToolError(f"cannot read {path}: {exc.strerror or exc}") from exc
        return self.parse(source, path=Path(path).as_posix())

    def tools(self) -> list[Tool]:
        """parse_file; register the parser itself for code_parser (create_tool_manager does both)."""
        return [Tool.from_function(self.parse_file, timeout_s=30)]

    # ---- the library -------------------------------------------------------------------------------

    def parse(self, source: str, language: str | None = None, path: str | None = None) -> ParseResult:
        """Parse source text; the language comes from `language`, else the path, else the content."""
        lang = language or detect_language(path, source)
        if lang is None:
            raise ToolError(f"cannot tell the language of {path or 'this source'}; name it")
        key = (lang, content_hash(source))
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.hits += 1
        if cached is not None:
            return cached if cached.path == path else _with_path(cached, path)
        result = self._parse(source, lang, key[1], path)
        with self._lock:
            self.misses += 1
            self._cache[key] = result
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result

    def tree(self, source: str | bytes, language: str) -> tree_sitter.Tree:
        data = source.encode("utf-8") if isinstance(source, str) else source
        return parser(language).parse(data)

    def _parse(self, source: str, language: str, digest: str, path: str | None) -> ParseResult:
        data = source.encode("utf-8")
        root = self.tree(data, language).root_node
        symbols: list[Symbol] = []
        imports: list[Import] = []
        table = DEFINITIONS[language]
        stack: list[tuple[tree_sitter.Node, str | None, str | None]] = [(root, None, None)]
        while stack:
            node, parent, parent_kind = stack.pop()
            kind = table.get(node.type)
            name = _name(node, language) if kind else None
            child_parent, child_kind = parent, parent_kind
            if kind and name:
                kind = _refine(node, kind, language, parent_kind)
                owner = _receiver(node) or parent
                symbols.append(_symbol(node, name, kind, owner, language))
                if node.type == "impl_item":  # methods of `impl Trait for Type` belong to Type
                    name = _text(node.child_by_field_name("type"))
                child_parent, child_kind = (f"{owner}.{name}" if owner else name), kind
            module = _import(node, language)
            if module:
                imports.append(Import(module, node.start_point[0] + 1))
            stack.extend((c, child_parent, child_kind) for c in reversed(node.children))
        symbols.sort(key=lambda s: (s.start_byte, s.end_byte))
        return ParseResult(language, digest, symbols, imports, syntax_issues(root), path)


def _with_path(result: ParseResult, path: str | None) -> ParseResult:
    return ParseResult(result.language, result.content_hash, result.symbols, result.imports, result.errors, path)


def _text(node: tree_sitter.Node | None) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None and node.text is not None else ""


def _name(node: tree_sitter.Node, language: str) -> str | None:
    if node.type == "variable_declarator":
        value = node.child_by_field_name("value")
        return _text(node.child_by_field_name("name")) if value is not None and value.type in _FUNCTION_VALUES else None
    if node.type == "impl_item":
        trait, target = node.child_by_field_name("trait"), _text(node.child_by_field_name("type"))
        return f"{_text(trait)} for {target}" if trait is not None else target
    if node.type in ("struct_specifier", "union_specifier", "enum_specifier", "class_specifier"):
        return _text(node.child_by_field_name("name")) or None if node.child_by_field_name("body") else None
    if node.type in ("function_definition", "type_definition") and language in ("c", "cpp"):
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.type not in _NAME_LEAVES:
            declarator = declarator.child_by_field_name("declarator")
        return _text(declarator) or None
    name = node.child_by_field_name("name")
    return _text(name) or None


def _receiver(node: tree_sitter.Node) -> str | None:
    """The type a Go method is declared on (`func (s *Stock) Add` -> Stock)."""
    receiver = node.child_by_field_name("receiver") if node.type == "method_declaration" else None
    if receiver is None or receiver.type != "parameter_list":
        return None
    for param in receiver.named_children:
        shape = param.child_by_field_name("type")
        while shape is not None and shape.type in ("pointer_type", "generic_type"):
            shape = shape.named_children[0] if shape.named_child_count else None
        if shape is not None:
            return _text(shape)
    return None


def _refine(node: tree_sitter.Node, kind: str, language: str, parent_kind: str | None) -> str:
    if kind == "type" and language == "go":
        shape = node.child_by_field_name("type")
        return {"struct_type": "struct", "interface_type": "interface"}.get(shape.type if shape else "", "type")
    if kind == "function" and parent_kind in CONTAINERS:
        return "method"
    return kind


def _symbol(node: tree_sitter.Node, name: str, kind: str, parent: str | None, language: str) -> Symbol:
    outer = node
    while outer.parent is not None and outer.parent.type in _WRAPPERS:
        outer = outer.parent
    body = node.child_by_field_name("body")
    head_end = body.start_byte if body is not None else node.end_byte
    head = (node.text or b"")[: head_end - node.start_byte].decode("utf-8", errors="replace")
    if language == "ruby" or body is None:  # the body field may start after comments; the def line says it all
        head = head.split("\n", 1)[0]
    signature = " ".join(head.split()).rstrip(" {:")
    if len(signature) > 240:
        signature = signature[:237] + "..."
    doc = _python_docstring(body) if language == "python" else _comment_doc(outer)
    return Symbol(
        name=name,
        kind=kind,
        start_line=outer.start_point[0] + 1,
        end_line=outer.end_point[0] + 1,
        start_byte=outer.start_byte,
        end_byte=outer.end_byte,
        signature=signature,
        parent=parent,
        docstring=doc,
    )


def _python_docstring(body: tree_sitter.Node | None) -> str | None:
    if body is None or body.named_child_count == 0:
        return None
    first = body.named_children[0]
    if first.type != "expression_statement" or first.named_child_count != 1:
        return None
    string = first.named_children[0]
    if string.type != "string":
        return None
    content = "".join(_text(c) for c in string.named_children if c.type == "string_content")
    return inspect.cleandoc(content) or None


_COMMENT_MARKS = re.compile(r"^\s*(/\*\*?|\*/|\*(?!/)|///?!?|#|--)\s?")


def _comment_doc(node: tree_sitter.Node) -> str | None:
    """The comment block right above a definition (/** */, ///, //, #), markers stripped."""
    lines: list[str] = []
    line = node.start_point[0]
    prev = node.prev_sibling
    while prev is not None and prev.type in _COMMENTS and prev.end_point[0] >= line - 1:
        lines[:0] = _text(prev).splitlines()
        line = prev.start_point[0]
        prev = prev.prev_sibling
    if not lines:
        return None
    cleaned = []
    for raw in lines:
        text = raw.strip().removesuffix("*/").strip()
        text = _COMMENT_MARKS.sub("", text, count=1).strip()
        text = re.sub(r"</?summary>", "", text).strip()
        if text:
            cleaned.append(text)
    return "\n".join(cleaned) or None


def _import(node: tree_sitter.Node, language: str) -> str | None:
    t = node.type
    if language == "python":
        if t == "import_statement":
            return ", ".join(_text(n) for n in node.children_by_field_name("name"))
        if t == "import_from_statement":
            return _text(node.child_by_field_name("module_name"))
    elif language in ("javascript", "typescript", "tsx"):
        if t == "import_statement":
            return _text(node.child_by_field_name("source")).strip("'\"`")
        if t == "call_expression" and _text(node.child_by_field_name("function")) == "require":
            args = node.child_by_field_name("arguments")
            if args is not None and args.named_child_count and args.named_children[0].type == "string":
                return _text(args.named_children[0]).strip("'\"`")
    elif language == "go" and t == "import_spec":
        return _text(node.child_by_field_name("path")).strip('"`')
    elif language == "rust" and t == "use_declaration":
        return _text(node.child_by_field_name("argument"))
    elif language == "java" and t == "import_declaration":
        return _text(node).removeprefix("import").removesuffix(";").replace("static ", "", 1).strip()
    elif language in ("c", "cpp") and t == "preproc_include":
        return _text(node.child_by_field_name("path")).strip('<>"')
    elif language == "csharp" and t == "using_directive":
        return _text(node).removeprefix("global ").removeprefix("using").removesuffix(";").strip()
    elif language == "ruby" and t == "call" and _text(node.child_by_field_name("method")) in _RUBY_LOADS:
        args = node.child_by_field_name("arguments")
        if args is not None and args.named_child_count:
            return _text(args.named_children[0]).strip("'\"")
    return None


def syntax_issues(root: tree_sitter.Node, limit: int = 50) -> list[SyntaxIssue]:
    """ERROR and MISSING nodes of a tree, outermost first, with 1-based positions."""
    if not root.has_error:
        return []
    issues: list[SyntaxIssue] = []
    stack = [root]
    while stack and len(issues) < limit:
        node = stack.pop()
        line, column = node.start_point[0] + 1, node.start_point[1] + 1
        if node.is_missing:
            issues.append(SyntaxIssue(line, column, f"missing '{node.type}'"))
            continue
        if node.is_error:
            snippet = " ".join(_text(node).split())
            snippet = snippet if len(snippet) <= 30 else snippet[:27] + "..."
            issues.append(SyntaxIssue(line, column, f"syntax error near '{snippet}'"))
            continue
        stack.extend(c for c in reversed(node.children) if c.has_error or c.is_missing)
    issues.sort(key=lambda i: (i.line, i.column))
    return issues
