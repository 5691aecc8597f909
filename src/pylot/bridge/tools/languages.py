"""The languages the code tools understand: tree-sitter grammars from PyPI and language detection."""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import PurePath

import tree_sitter

from pylot.errors import ToolError

# language -> (module of the grammar wheel, function returning the language pointer)
GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
}
LANGUAGES = tuple(GRAMMARS)

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".rake": "ruby",
    ".gemspec": "ruby",
}
FILENAMES = {"Rakefile": "ruby", "Gemfile": "ruby", "SConstruct": "python", "SConscript": "python"}
SHEBANGS = {"python": "python", "node": "javascript", "deno": "typescript", "ruby": "ruby"}

# Content clues, tried in order, for files without a telling name (or a `.h` header).
_CLUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("go", re.compile(r"^package \w+\s*$", re.M)),
    ("rust", re.compile(r"^\s*(pub\s+)?(fn|impl|mod|use|struct|enum|trait)\b.*[{;]\s*$|^\s*let\s+mut\s", re.M)),
    ("csharp", re.compile(r"^using System|^\s*namespace [\w.]+\s*(\{|;)\s*$", re.M)),
    ("java", re.compile(r"^import java\.|^\s*public (final )?(class|interface) \w+", re.M)),
    (
        "cpp",
        re.compile(
            # `class X:` alone is Python; C++ has a brace or an access specifier after the name
            r"std::|^\s*(template\s*<|namespace \w+|class \w+\s*(\{|:\s*(public|protected|private|virtual)\b))"
            r"|#include <(iostream|vector|string)>",
            re.M,
        ),
    ),
    ("c", re.compile(r"^#include [<\"]|^\s*(static\s+)?(int|void|char|unsigned|struct \w+)\s+\**\w+\(", re.M)),
    ("python", re.compile(r"^\s*(def \w+\(.*\)\s*(->.*)?:|class \w+.*:|from [\w.]+ import |import \w+)\s*$", re.M)),
    (
        "ruby",
        re.compile(r"^\s*(def \w+[?!]?(\(.*\))?|class \w+( < \w+)?|module \w+|require(_relative)? ['\"])\s*$", re.M),
    ),
    ("typescript", re.compile(r"^\s*(export )?(interface|type) \w+|:\s*(string|number|boolean)\b", re.M)),
    ("javascript", re.compile(r"^\s*(export |import |const |let |function |module\.exports)", re.M)),
)


@cache
def grammar(language: str) -> tree_sitter.Language:
    """The tree-sitter Language for a language name (see LANGUAGES)."""
    try:
        module_name, function = GRAMMARS[language]
    except KeyError:
        raise ToolError(f"unsupported language '{language}' (supported: {', '.join(LANGUAGES)})") from None
    module = importlib.import_module(module_name)
    return tree_sitter.Language(getattr(module, function)())


def parser(language: str) -> tree_sitter.Parser:
    return tree_sitter.Parser(grammar(language))


def detect_language(path: str | PurePath | None = None, content: str | None = None) -> str | None:
    """The language of a file from its name, else from its content (shebang, then clues); None if unknown."""
    if path is not None:
        p = PurePath(path)
        if p.name in FILENAMES:
            return FILENAMES[p.name]
        suffix = p.suffix.lower()
        if suffix in EXTENSIONS:
            return EXTENSIONS[suffix]
        if suffix == ".h" and content is not None:
            return "cpp" if _CLUES[4][1].search(content) else "c"
        if suffix == ".h":
            return "c"
    if not content:
        return None
    first = content.split("\n", 1)[0]
    if first.startswith("#!"):
        for word, language in SHEBANGS.items():
            if word in first:
                return language
    for language, pattern in _CLUES:
        if pattern.search(content):
            return language
    return None
