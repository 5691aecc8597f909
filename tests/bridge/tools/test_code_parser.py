"""CodeParser on the polyglot fixture project (one file per language) and on this repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylot.bridge.policy import Policy
from pylot.bridge.tool_manager import Tool
from pylot.bridge.tools import create_tool_manager
from pylot.bridge.tools.code_parser import CodeParser, Symbol
from pylot.bridge.tools.languages import detect_language
from pylot.errors import ToolError
from tests.bridge.tools.conftest import FIXTURE, REPO

# file -> (language, {qualified name: kind}, imports, {qualified name: docstring})
EXPECTED = {
    "inventory/pricing.py": (
        "python",
        {"apply_discount": "function", "total_price": "function", "clamp": "function"},
        ["inventory.models"],
        {"apply_discount": "Take `percent` off a price in cents, rounding down; percent must be between 0 and 100."},
    ),
    "inventory/models.py": (
        "python",
        {"Item": "class", "Item.subtotal": "method", "Item.is_empty": "method", "restock": "function"},
        ["dataclasses"],
        {"Item.subtotal": "Price of the whole line in cents."},
    ),
    "web/cart.js": (
        "javascript",
        {"cartTotal": "function", "Cart": "class", "Cart.add": "method", "emptyCart": "function"},
        ["./format.js"],
        {"cartTotal": "Sum the cart lines in cents.", "Cart.add": "Add one line to the cart."},
    ),
    "web/format.ts": (
        "typescript",
        {"Money": "interface", "formatPrice": "function", "Formatter.format": "method", "Rounding": "enum"},
        ["./currency"],
        {"formatPrice": 'Format a price in cents as "12.34".'},
    ),
    "go/stock.go": (
        "go",
        {"Stock": "struct", "Counter": "interface", "NewStock": "function", "Stock.Add": "method"},
        ["errors", "fmt"],
        {"Stock.Count": "Count says how many of name are in stock."},
    ),
    "rust/lib.rs": (
        "rust",
        {"Checksum": "struct", "Kind": "enum", "Digest": "trait", "Checksum.update": "method", "histogram": "function"},
        ["std::collections::HashMap"],
        {"Checksum.update": "Feed bytes into the checksum."},
    ),
    "java/Inventory.java": (
        "java",
        {"Inventory": "class", "Inventory.addItem": "method", "Countable": "interface", "Status": "enum"},
        ["java.util.ArrayList", "java.util.List"],
        {"Inventory.addItem": "Add an item if there is room."},
    ),
    "c/checksum.c": (
        "c",
        {"counter": "struct", "checksum": "function", "is_even": "function"},
        ["stddef.h", "checksum.h"],
        {"checksum": "Sum of the bytes, wrapping."},
    ),
    "cpp/matrix.cpp": (
        "cpp",
        {"linalg": "namespace", "linalg.Matrix": "class", "linalg.Matrix.determinant": "method", "trace": "function"},
        ["array", "string"],
        {"linalg.Matrix.determinant": "The determinant."},
    ),
    "csharp/Ledger.cs": (
        "csharp",
        {"Shop.Ledger": "class", "Shop.Ledger.Record": "method", "Shop.IAccount": "interface", "Shop.Side": "enum"},
        ["System", "System.Collections.Generic"],
        {"Shop.Ledger.Record": "Record an amount."},
    ),
    "ruby/report.rb": (
        "ruby",
        {"Report": "class", "Report.total": "method", "Formatting": "module", "summarize": "function"},
        ["json", "helpers"],
        {"Report.total": "Total of all orders in cents."},
    ),
}


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_symbols_imports_and_docstrings_in_every_language(relative: str) -> None:
    language, kinds, imports, docs = EXPECTED[relative]
    result = CodeParser(Policy(FIXTURE)).parse_file(relative)
    assert result.language == language
    assert result.errors == []
    found: dict[str, Symbol] = {}
    for symbol in result.symbols:  # `impl Checksum` shares its name with `struct Checksum`: keep the first
        found.setdefault(symbol.qualified_name, symbol)
    for name, kind in kinds.items():
        assert name in found, f"{name} not among {sorted(found)}"
        assert found[name].kind == kind
        assert 1 <= found[name].start_line <= found[name].end_line
    for name, doc in docs.items():
        assert found[name].docstring == doc
    assert [i.module for i in result.imports] == imports


def test_line_ranges_cover_the_definition() -> None:
    result = CodeParser(Policy(FIXTURE)).parse_file("inventory/pricing.py")
    (clamp,) = result.find("clamp")
    lines = (FIXTURE / "inventory/pricing.py").read_text().splitlines()
    assert lines[clamp.start_line - 1].startswith("def clamp(")
    assert lines[clamp.end_line - 1].strip() == "return value"
    assert clamp.signature == "def clamp(value: int, low: int, high: int) -> int"


@pytest.mark.parametrize(
    ("name", "source", "line", "column"),
    [
        ("broken.py", "def ok():\n    return 1\n\ndef f(x:\n    return x\n", 4, 6),
        ("broken.js", "function f() {\n  return [1, 2;\n}\n", 2, 10),
        ("broken.go", "package main\n\nfunc main() {\n\tx := \n}\n", 4, 0),
    ],
)
def test_syntax_errors_come_with_positions(name: str, source: str, line: int, column: int) -> None:
    result = CodeParser().parse(source, path=name)
    assert result.errors, "a broken file must report an error"
    first = result.errors[0]
    assert first.line == line
    if column:
        assert first.column >= 1
    assert first.message


def test_language_from_the_name_then_from_the_content() -> None:
    assert detect_language("a/b/c.tsx") == "tsx"
    assert detect_language("Rakefile") == "ruby"
    assert detect_language("script", "#!/usr/bin/env python3\nprint(1)\n") == "python"
    assert detect_language("x", "package main\n\nfunc main() {}\n") == "go"
    assert detect_language("x", "fn main() {\n    let mut v = 1;\n}\n") == "rust"
    assert detect_language("x", "#include <stdio.h>\nint main(void) { return 0; }\n") == "c"
    assert detect_language("x.h", "namespace a { class B {}; }\n") == "cpp"
    assert detect_language("x", "using System;\nclass A {}\n") == "csharp"
    assert detect_language("x", "def hello\n  puts 1\nend\n") == "ruby"
    assert detect_language(None, "class Circle:\n    r = 1\n") == "python"  # not C++'s `class X : public Y`
    assert detect_language(None, "class Circle : public Shape {\n};\n") == "cpp"
    assert detect_language("notes.txt", "just words") is None


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(ToolError, match="language"):
        CodeParser().parse("just some words", path="notes")


def test_results_are_cached_by_content_hash() -> None:
    parser = CodeParser()
    source = (FIXTURE / "go/stock.go").read_text()
    first = parser.parse(source, path="go/stock.go")
    second = parser.parse(source, path="go/stock.go")
    assert second is first
    assert (parser.hits, parser.misses) == (1, 1)
    parser.parse(source + "\n// changed\n", path="go/stock.go")
    assert parser.misses == 2


def test_parse_file_stays_inside_the_workspace() -> None:
    with pytest.raises(ToolError, match=r"outside|not allowed"):
        CodeParser(Policy(FIXTURE)).parse_file("../../conftest.py")


def test_every_python_file_of_this_repository_parses() -> None:
    parser = CodeParser()
    files = sorted((REPO / "src" / "pylot").rglob("*.py"))
    assert len(files) > 30
    for file in files:
        result = parser.parse(file.read_text(encoding="utf-8"), path=str(file.relative_to(REPO)))
        assert result.errors == [], f"{file}: {result.errors[:2]}"
    interface = parser.parse((REPO / "src/pylot/engines/interface.py").read_text(), path="llm_interface.py")
    assert {"LLMInterface", "LLMInterface.embed", "CancelToken.cancel"} <= {s.qualified_name for s in interface.symbols}
    (embed,) = interface.find("LLMInterface.embed")
    assert embed.kind == "method"


def test_parsing_this_repository_as_a_tool(tmp_path: Path) -> None:
    from pylot.bridge.tool_manager import ToolManager

    manager = ToolManager(CodeParser(Policy(REPO)).tools())
    result = manager.call("parse_file", {"path": "src/pylot/errors.py"})
    names = [s["name"] for s in result["symbols"]]
    assert "ToolError" in names
    assert result["language"] == "python"


# ---- the code_parser tool (the specification's CodeParser(Tool).execute) ------------------------------


def test_code_parser_is_a_tool_that_parses_text() -> None:
    parser = CodeParser()
    assert isinstance(parser, Tool) and parser.name == "code_parser" and parser.description
    assert parser.parameters["required"] == ["code"]
    view = parser.execute("import os\n\ndef f(x):\n    '''Add one.'''\n    return x + 1\n")
    assert view["language"] == "python" and view["ok"] is True  # detected from the content
    assert [(s["name"], s["kind"], s["start_line"], s["docstring"]) for s in view["symbols"]] == [
        ("f", "function", 3, "Add one.")
    ]
    assert view["imports"] == [{"module": "os", "line": 1}]


def test_code_parser_with_a_language_and_syntax_errors() -> None:
    view = CodeParser().execute("function f( {\n", language="javascript")
    assert view["language"] == "javascript" and view["ok"] is False
    assert view["errors"] and view["errors"][0]["line"] == 1
    assert CodeParser().execute("x = 1\n", filename="script.rb")["language"] == "ruby"


def test_code_parser_refuses_what_it_cannot_do_by_name() -> None:
    with pytest.raises(ToolError, match="unknown argument 'path'"):
        CodeParser().execute("x = 1\n", path="a.py")
    with pytest.raises(ToolError, match="unsupported language 'cobol'"):
        CodeParser().execute("x = 1\n", language="cobol")
    with pytest.raises(ToolError, match="cannot tell the language"):
        CodeParser().execute("hello")


def test_the_tool_manager_has_code_parser_and_parse_file_once_each(tmp_path: Path) -> None:
    manager = create_tool_manager(Policy(FIXTURE), embedder=lambda: pytest.fail("no model"), index_path=tmp_path / "i")
    names = [t.name for t in manager.list_tools()]
    assert names.count("code_parser") == 1 and names.count("parse_file") == 1
    result = manager.call("code_parser", '{"code": "package main\\n\\nfunc Add(a int) int { return a }\\n"}')
    assert result["language"] == "go" and result["symbols"][0]["name"] == "Add"
    with pytest.raises(ToolError, match="unknown argument 'bogus'"):
        manager.call("code_parser", {"code": "x = 1", "bogus": 1})
