"""DocumentationGenerator: docstrings by the real Qwen model inserted with libcst; API reference without a model."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylot.bridge.policy import Policy
from pylot.bridge.tools.code_parser import CodeParser
from pylot.bridge.tools.doc_generator import DocumentationGenerator, clean_docstring
from pylot.errors import ToolError


@pytest.mark.model
def test_docstrings_are_added_without_disturbing_the_file(qwen: object, project: Path) -> None:
    path = project / "inventory/pricing.py"
    before = path.read_text()
    docs = DocumentationGenerator(Policy(project), qwen)  # type: ignore[arg-type]
    result = docs.add_docstrings("inventory/pricing.py", functions=["clamp", "price_label"], apply=True)
    after = path.read_text()
    assert {a.function for a in result.added} == {"clamp", "price_label"}
    assert result.applied
    # Only lines were added: every original line is still there, in order, untouched.
    added_lines = [x for x in result.diff.splitlines() if x.startswith("+") and not x.startswith("+++")]
    assert not [x for x in result.diff.splitlines() if x.startswith("-") and not x.startswith("---")]
    assert len(added_lines) == 2
    assert after.count("\n") == before.count("\n") + 2
    for line in added_lines:
        assert line.startswith('+    """') and line.endswith('."""')
    parsed = CodeParser().parse(after, path="inventory/pricing.py")
    assert parsed.errors == []
    docstrings = {s.name: s.docstring for s in parsed.symbols}
    assert docstrings["clamp"] and docstrings["price_label"]
    assert docstrings["apply_discount"].startswith("Take `percent` off")  # type: ignore[union-attr]


def test_documented_private_and_one_line_functions_are_left_alone(project: Path) -> None:
    (project / "inventory/extra.py").write_text(
        'def documented():\n    """Already here."""\n    return 1\n\n\ndef _private():\n    return 2\n\n\n'
        "def one_liner(): return 3\n"
    )
    docs = DocumentationGenerator(Policy(project), llm=None)
    result = docs.add_docstrings("inventory/extra.py")
    assert result.added == []
    assert result.skipped == {"_private": "private or dunder", "one_liner": "body on the same line as def"}


def test_model_replies_become_safe_one_line_docstrings() -> None:
    assert clean_docstring('"""Clamp value between low and high"""') == "Clamp value between low and high."
    assert clean_docstring("Docstring: return the price label.\nMore text") == "Return the price label."
    assert clean_docstring("def clamp(value):") is None
    assert clean_docstring('Say "hi" \\ there') == 'Say "hi"  there.'


def test_api_reference_in_markdown_for_every_language(project: Path) -> None:
    docs = DocumentationGenerator(Policy(project), llm=None)
    markdown = docs.api_reference(".", output="docs/API.md")
    assert (project / "docs/API.md").read_text() == markdown
    for needle in (
        "## inventory/pricing.py (python)",
        "### function `apply_discount`",
        "Take `percent` off a price in cents",
        "## go/stock.go (go)",
        "method `Stock.Add`",
        "## rust/lib.rs (rust)",
        "## csharp/Ledger.cs (csharp)",
        "Record an amount.",
        "## ruby/report.rb (ruby)",
        "## cpp/matrix.cpp (cpp)",
        "## web/format.ts (typescript)",
    ):
        assert needle in markdown, needle
    assert "`_private" not in markdown


def test_api_reference_of_this_repository_and_symlinks_stay_inside(project: Path) -> None:
    from tests.bridge.tools.conftest import REPO

    markdown = DocumentationGenerator(Policy(REPO), llm=None).api_reference("src/pylot/engines/interface.py")
    assert "### class `LLMInterface`" in markdown
    assert "#### method `LLMInterface.embed`" in markdown
    outside = project.parent / "secret.py"
    outside.write_text("def leaked():\n    pass\n")
    (project / "inventory" / "link.py").symlink_to(outside)
    assert "leaked" not in DocumentationGenerator(Policy(project), llm=None).api_reference(".")


def test_add_docstrings_needs_a_model_and_a_python_file(project: Path) -> None:
    docs = DocumentationGenerator(Policy(project), llm=None)
    with pytest.raises(ToolError, match="needs a model"):
        docs.add_docstrings("inventory/pricing.py", functions=["clamp"])
    with pytest.raises(ToolError, match="Python files only"):
        docs.add_docstrings("go/stock.go")
