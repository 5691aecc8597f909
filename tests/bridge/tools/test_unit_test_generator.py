"""TestGenerator: mutants and reply handling without a model, then the whole loop with the real Qwen model."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pylot.bridge.policy import Policy
from pylot.bridge.sandbox import Sandbox
from pylot.bridge.tools.mutation import mutants
from pylot.bridge.tools.unit_test_generator import TestGenerator, extract_code, split_tests
from pylot.errors import ToolError
from tests.bridge.tools.conftest import FIXTURE


def test_each_mutant_breaks_the_function_in_one_way() -> None:
    source = (FIXTURE / "inventory/pricing.py").read_text()
    broken = mutants(source, "apply_discount")
    assert [m.description.split(" on line")[0] for m in broken] == [
        "every return gives None",
        "comparison",
        "arithmetic",
    ]
    namespace: dict[str, object] = {}
    for mutant in broken:
        assert mutant.source != source
        ast.parse(mutant.source)
        module = mutant.source.replace("from inventory.models import Item\n", "")
        exec(compile(module, "pricing_mutant.py", "exec"), namespace)
        try:
            result = namespace["apply_discount"](999, 10)  # type: ignore[operator]
        except ValueError:
            result = "raised"
        assert result != 899, mutant.description
    # Only the function changes: everything else in the module is byte for byte the same.
    assert broken[0].source.split("def apply_discount")[0] == source.split("def apply_discount")[0]
    assert broken[0].source.split("def total_price")[1] == source.split("def total_price")[1]


def test_methods_can_be_mutated_too() -> None:
    source = (FIXTURE / "inventory/models.py").read_text()
    (first, *_) = mutants(source, "Item.subtotal")
    assert "return None" in first.source.split("def subtotal")[1].split("def is_empty")[0]


def test_replies_cut_short_are_trimmed_to_what_parses() -> None:
    reply = (
        "Here are the tests:\n```python\nimport pytest\nfrom m import f\n\ndef test_one():\n    assert f(1) == 2\n\n"
        "def test_two():\n    assert f(2) == 3\n\ndef test_three():\n    assert f(3) =="
    )
    code = extract_code(reply)
    preamble, tests = split_tests(code)
    assert list(tests) == ["test_one", "test_two"]
    assert "import pytest" in preamble


@pytest.mark.model
def test_generated_tests_are_kept_only_when_they_pass_and_catch_a_mutant(qwen: object, project: Path) -> None:
    generator = TestGenerator(Policy(project), qwen, Sandbox(timeout_s=60), max_tokens=150)  # type: ignore[arg-type]
    report = generator.generate_tests("inventory/pricing.py", "clamp", output="tests/test_clamp_generated.py", count=2)
    assert report.module == "inventory.pricing"
    assert len(report.mutants) == 3
    assert report.tests, "the model wrote at least one test"
    for verdict in report.tests:
        if verdict.kept:
            assert verdict.passed_original and verdict.killed, verdict
        else:
            assert verdict.reason
    # Greedy, so the same each run: at least one of the model's tests survives, and it is written out.
    assert report.kept, [(v.name, v.reason) for v in report.tests]
    written = project / "tests/test_clamp_generated.py"
    assert report.written_to == "tests/test_clamp_generated.py"
    assert written.read_text() == report.kept_source
    assert set(split_tests(report.kept_source)[1]) == set(report.kept)
    # The kept tests pass against the real code when the project's own runner runs them.
    from pylot.bridge.tools.pytest_runner import TestRunner

    run = TestRunner(Policy(project)).run_tests("tests/test_clamp_generated.py")
    assert (run.passed, run.failed) == (len(report.kept), 0), run.output_tail


def test_refuses_to_overwrite_and_to_leave_the_workspace(project: Path) -> None:
    generator = TestGenerator(Policy(project), llm=None)  # type: ignore[arg-type]
    with pytest.raises(ToolError, match="exists already"):
        generator.generate_tests("inventory/pricing.py", "clamp", output="tests/test_pricing.py")
    with pytest.raises(ToolError, match="no function nothing"):
        generator.generate_tests("inventory/pricing.py", "nothing")
    with pytest.raises(ToolError, match="outside"):
        generator.generate_tests(str(FIXTURE.parent / "x.py"), "f")
