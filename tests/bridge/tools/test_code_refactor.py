"""CodeRefactor on a copy of the polyglot fixture: checked by re-parsing and by the fixture's own tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pylot.bridge.policy import Policy
from pylot.bridge.tools.code_parser import CodeParser
from pylot.bridge.tools.code_refactor import CodeRefactor
from pylot.bridge.tools.pytest_runner import TestRunner
from pylot.errors import ToolError


def run_fixture_tests(policy: Policy) -> None:
    result = TestRunner(policy).run_tests("tests")
    assert (result.passed, result.failed) == (3, 0), result.output_tail


def test_python_rename_reaches_every_module_and_the_tests_still_pass(project: Path, policy: Policy) -> None:
    refactor = CodeRefactor(policy)
    preview = refactor.rename_symbol("inventory/pricing.py", "apply_discount", "discount_price")
    assert not preview.applied
    assert "apply_discount" in (project / "inventory/pricing.py").read_text(), "a preview writes nothing"
    assert set(preview.files) == {"inventory/pricing.py", "inventory/__init__.py", "tests/test_pricing.py"}
    assert "-def apply_discount(cents: int, percent: int) -> int:" in preview.diff
    assert "+def discount_price(cents: int, percent: int) -> int:" in preview.diff

    applied = refactor.rename_symbol("inventory/pricing.py", "apply_discount", "discount_price", apply=True)
    assert applied.applied
    parser = CodeParser()
    for relative in applied.files:
        source = (project / relative).read_text()
        assert parser.parse(source, path=relative).errors == []
        assert "apply_discount(" not in source
    # Scope-aware: the test function's own name contains the old name and is left alone.
    assert "def test_apply_discount_rounds_down" in (project / "tests/test_pricing.py").read_text()
    run_fixture_tests(policy)


def test_python_rename_of_a_method(project: Path, policy: Policy) -> None:
    result = CodeRefactor(policy).rename_symbol("inventory/models.py", "subtotal", "line_total", apply=True)
    assert set(result.files) == {"inventory/models.py", "inventory/pricing.py"}
    assert "item.line_total()" in (project / "inventory/pricing.py").read_text()
    run_fixture_tests(policy)


def test_extract_method_and_extract_variable(project: Path, policy: Policy) -> None:
    refactor = CodeRefactor(policy)
    lines = (project / "inventory/pricing.py").read_text().splitlines()
    start = lines.index("    subtotal = sum(item.subtotal() for item in items)") + 1
    result = refactor.extract_method("inventory/pricing.py", start, start + 1, "discounted_subtotal", apply=True)
    text = (project / "inventory/pricing.py").read_text()
    assert "def discounted_subtotal(items, percent):" in text
    assert "discounted = discounted_subtotal(items, percent)" in text
    assert result.files == ["inventory/pricing.py"]
    run_fixture_tests(policy)

    line = next(n for n, x in enumerate(text.splitlines(), 1) if "int(discounted * TAX_RATE)" in x)
    refactor.extract_variable("inventory/pricing.py", line, "int(discounted * TAX_RATE)", "tax", apply=True)
    text = (project / "inventory/pricing.py").read_text()
    assert "    tax = int(discounted * TAX_RATE)\n    taxed = discounted + tax\n" in text
    run_fixture_tests(policy)


@pytest.mark.parametrize(
    ("relative", "old", "new", "untouched"),
    [
        ("web/cart.js", "cartTotal", "sumCart", ['"cartTotal: "', "// cartTotal is mentioned", "cartTotalCents"]),
        ("web/format.ts", "formatPrice", "formatCents", ["// Formatting helpers"]),
        ("go/stock.go", "Count", "Quantity", ['"Count of %s: %d"', "// the word Count here"]),
        ("rust/lib.rs", "histogram", "byte_counts", ['"histogram"', '"histogram" in a string']),
        ("java/Inventory.java", "addItem", "add", ["Add an item if there is room."]),
        ("c/checksum.c", "checksum", "sum_bytes", ["/* checksum parity helper */", '"checksum.h"']),
        ("cpp/matrix.cpp", "determinant", "det", ["/// The determinant."]),
        ("csharp/Ledger.cs", "Balance", "Total", ["long balance = 0;"]),
        ("ruby/report.rb", "summarize", "summary", ["# summarize is described in this comment"]),
    ],
)
def test_identifier_rename_in_other_languages_skips_strings_and_comments(
    project: Path, policy: Policy, relative: str, old: str, new: str, untouched: list[str]
) -> None:
    before = (project / relative).read_text()
    result = CodeRefactor(policy).rename_symbol(relative, old, new, apply=True)
    after = (project / relative).read_text()
    assert result.files == [relative]
    assert new in after
    for text in untouched:
        assert text in after, f"{text!r} must not change"
    parsed = CodeParser().parse(after, path=relative)
    assert parsed.errors == []
    assert any(s.name == new for s in parsed.symbols)
    assert after.count("\n") == before.count("\n")


def test_refuses_files_that_do_not_parse(project: Path, policy: Policy) -> None:
    (project / "web/broken.js").write_text("function broken( {\n  return 1;\n")
    with pytest.raises(ToolError, match="does not parse"):
        CodeRefactor(policy).rename_symbol("web/broken.js", "broken", "fixed")


def test_refuses_bad_names_and_missing_symbols(policy: Policy) -> None:
    refactor = CodeRefactor(policy)
    with pytest.raises(ToolError, match="not a valid python identifier"):
        refactor.rename_symbol("inventory/pricing.py", "clamp", "class")
    with pytest.raises(ToolError, match="no identifier 'nothing_like_this'"):
        refactor.rename_symbol("go/stock.go", "nothing_like_this", "x")


def test_all_files_or_none_when_one_may_not_be_written(project: Path) -> None:
    # The tests may not be written: the rename touches them too, so nothing is written at all.
    policy = Policy(project, writable=["inventory/**"])
    before = {p: p.read_text() for p in project.rglob("*.py")}
    with pytest.raises(ToolError, match="not writable"):
        CodeRefactor(policy).rename_symbol("inventory/pricing.py", "apply_discount", "discount_price", apply=True)
    assert {p: p.read_text() for p in project.rglob("*.py")} == before


def test_all_files_or_none_when_a_write_fails_half_way(
    project: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {p: p.read_text() for p in project.rglob("*.py")}
    real_replace = os.replace
    calls = {"n": 0}

    def failing_replace(src: str | Path, dst: str | Path, **dir_fds: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst, **dir_fds)

    monkeypatch.setattr("pylot.bridge.safe_io.os.replace", failing_replace)
    with pytest.raises(ToolError, match="no file was changed"):
        CodeRefactor(policy).rename_symbol("inventory/pricing.py", "apply_discount", "discount_price", apply=True)
    assert {p: p.read_text() for p in project.rglob("*.py")} == before
    assert not [p for p in project.rglob("*.pylot")], "staged files are cleaned up"


def test_read_only_workspace_previews_but_never_writes(project: Path) -> None:
    refactor = CodeRefactor(Policy(project, read_only=True))
    assert refactor.rename_symbol("ruby/report.rb", "summarize", "summary").diff
    with pytest.raises(ToolError, match="read-only"):
        refactor.rename_symbol("ruby/report.rb", "summarize", "summary", apply=True)
