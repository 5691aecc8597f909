"""TestGenerator: pytest tests written by the model, kept only when they pass and catch a broken copy.

The model writes a few tests for one Python function. They run in the sandbox against the real code;
those that fail there assert something false and go. The survivors run again against mutants of the
function (a return replaced by None, a comparison flipped, an operator swapped); a test that passes on
every mutant would pass on broken code too, so it goes as well. The report says, per test, why.
"""

from __future__ import annotations

import ast
import logging
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from pylot.bridge.policy import Policy
from pylot.bridge.sandbox import Sandbox, copy_workspace
from pylot.bridge.tool_manager import Tool
from pylot.bridge.tools.mutation import find_function, mutants
from pylot.engines.interface import LLMInterface
from pylot.errors import ToolError
from pylot.types import GenerationParams

log = logging.getLogger(__name__)

TEST_FILE = "test_generated.py"
SYSTEM = "You are an expert Python developer who writes small, precise pytest tests. Reply with one code block."


@dataclass(frozen=True)
class TestVerdict:
    """One generated test and what happened to it."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    kept: bool
    reason: str
    passed_original: bool
    killed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TestGenerationReport:
    """The tests kept (as a test module), every verdict, and the mutants they were judged against."""

    __test__ = False

    function: str
    module: str
    kept_source: str
    tests: list[TestVerdict]
    mutants: list[str]
    written_to: str | None
    network_isolated: bool
    seconds: float

    @property
    def kept(self) -> list[str]:
        return [t.name for t in self.tests if t.kept]


def extract_code(reply: str) -> str:
    """The first fenced code block of a reply (or the reply), cut back to the longest prefix that parses."""
    match = re.search(r"```(?:python|py)?\s*\n(.*?)(?:```|\Z)", reply, re.S)
    code = match.group(1) if match else reply
    lines = code.splitlines()
    while lines:
        candidate = "\n".join(lines) + "\n"
        try:
            ast.parse(candidate)
            return candidate
        except SyntaxError:
            lines.pop()  # a reply cut at max_tokens ends in the middle of a test
    return ""


def split_tests(code: str) -> tuple[str, dict[str, str]]:
    """(everything that is not a test: imports, helpers, fixtures), {test name: its source}."""
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    preamble: list[str] = []
    tests: dict[str, str] = {}
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        text = "".join(lines[start - 1 : node.end_lineno])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            tests.setdefault(node.name, text)
        elif not (isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)):
            preamble.append(text)
    return "".join(preamble), tests


def junit_outcomes(xml: str) -> dict[str, bool]:
    """{test name: passed} from pytest's --junitxml report."""
    outcomes: dict[str, bool] = {}
    for case in ET.fromstring(xml).iter("testcase"):
        failed = any(child.tag in ("failure", "error") for child in case)
        outcomes[case.get("name", "")] = not failed and not any(child.tag == "skipped" for child in case)
    return outcomes


def module_layout(file: Path) -> tuple[Path, str]:
    """(directory to copy, dotted module name): the topmost package holding the file, or the file alone."""
    top = file.parent
    while (top / "__init__.py").exists() and (top.parent / "__init__.py").exists():
        top = top.parent
    if (top / "__init__.py").exists():
        relative = file.relative_to(top.parent).with_suffix("")
        return top, ".".join(relative.parts)
    return file, file.stem


class TestGenerator:
    """Generates pytest tests for a Python function with the model and keeps those that earn their place.

    Args:
        policy: The workspace: where functions are read and kept tests may be written.
        llm: The model that writes the tests.
        sandbox: Where the tests run (a 60 s limit per run by default).
        max_tokens: Longest reply asked of the model.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self, policy: Policy, llm: LLMInterface, sandbox: Sandbox | None = None, *, max_tokens: int = 384
    ) -> None:
        self.policy = policy
        self.llm = llm
        self.sandbox = sandbox or Sandbox(timeout_s=60)
        self.max_tokens = max_tokens

    def tools(self) -> list[Tool]:
        return [Tool.from_function(self.generate_tests, timeout_s=600)]

    def generate_tests(
        self, path: str, function: str, output: str | None = None, count: int = 4
    ) -> TestGenerationReport:
        """Write pytest tests for a Python function with the model; keep those that pass on the real code and
        fail on a deliberately broken copy of it, and say why each test was kept or dropped.

        Args:
            path: The Python file that defines the function.
            function: Its name, or Class.method.
            output: A test file to write the kept tests to (it must not exist yet).
            count: How many tests to ask the model for.
        """
        started = time.perf_counter()
        file = self.policy.read_path(path)
        if file.suffix not in (".py", ".pyw"):
            raise ToolError(f"{path}: TestGenerator works on Python files only")
        source = self.policy.read_text(file)
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:  # its message can quote the code, so it stays out
            raise ToolError(f"{path} does not parse: a syntax error at line {exc.lineno}") from None
        node = find_function(tree, function)
        out_path = self.policy.write_path(output) if output else None
        if out_path is not None and out_path.exists():
            raise ToolError(f"{output} exists already; choose a new file for the generated tests")
        copy_root, module = module_layout(file)
        code = self._ask(source, node, module, function, count)
        preamble, tests = split_tests(code) if code else ("", {})
        if not tests:
            raise ToolError(f"the model wrote no test functions for {function}")
        importable = function.split(".")[0]
        header = f"from {module} import {importable}\n"
        body = header + preamble + "\n\n" + "\n\n".join(tests.values())
        broken = mutants(source, function)
        relative_module = Path(*module.split(".")).with_suffix(".py")
        with self.sandbox.scratch({TEST_FILE: body, "pytest.ini": "[pytest]\n"}) as scratch:
            copy_workspace(copy_root, scratch / copy_root.name, allow_hard_links=self.policy.allow_hard_links)
            original, isolated = self._run(scratch)
            killed: dict[str, list[str]] = {name: [] for name in tests}
            for mutant in broken:
                (scratch / relative_module).write_text(mutant.source, encoding="utf-8")
                outcome, _ = self._run(scratch)
                for name in tests:
                    if original.get(name) and not outcome.get(name, False):
                        killed[name].append(mutant.description)
        verdicts = [_verdict(name, original, killed[name], bool(broken)) for name in tests]
        kept = [tests[v.name] for v in verdicts if v.kept]
        kept_source = (header + preamble + "\n\n" + "\n\n".join(kept)).rstrip() + "\n" if kept else ""
        if out_path is not None and kept_source:
            self.policy.write_text(out_path, kept_source)
        report = TestGenerationReport(
            function=function,
            module=module,
            kept_source=kept_source,
            tests=verdicts,
            mutants=[m.description for m in broken],
            written_to=self.policy.relative(out_path) if out_path is not None and kept_source else None,
            network_isolated=isolated,
            seconds=round(time.perf_counter() - started, 2),
        )
        log.info("generated %d tests for a function, kept %d, in %.1fs", len(verdicts), len(kept), report.seconds)
        return report

    def _ask(
        self, source: str, node: ast.FunctionDef | ast.AsyncFunctionDef, module: str, name: str, count: int
    ) -> str:
        lines = source.splitlines()
        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
        snippet = "\n".join(lines[start - 1 : node.end_lineno])
        importable = name.split(".")[0]
        prompt = (
            f"Write {count} short pytest test functions for `{name}` below.\n"
            f"Start with `from {module} import {importable}`. Each test calls it with concrete arguments and "
            "asserts the exact expected result (or uses pytest.raises for errors). No classes, no fixtures.\n\n"
            f"```python\n{snippet}\n```"
        )
        params = GenerationParams(max_tokens=self.max_tokens, temperature=0.0, seed=0)
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
        reply = self.llm.chat(messages, params).text
        return extract_code(reply)

    def _run(self, scratch: Path) -> tuple[dict[str, bool], bool]:
        report = scratch / "report.xml"
        report.unlink(missing_ok=True)
        result = self.sandbox.run_python(
            ["-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report.name}", TEST_FILE], scratch
        )
        if not report.exists():
            log.info("pytest left no report (exit %d, timed out %s)", result.returncode, result.timed_out)
            return {}, result.network_isolated
        return junit_outcomes(report.read_text(encoding="utf-8")), result.network_isolated


def _verdict(name: str, original: dict[str, bool], killed: list[str], have_mutants: bool) -> TestVerdict:
    passed = original.get(name, False)
    if not passed:
        reason = "fails on the real function (wrong expectation or error)" if name in original else "did not run"
        return TestVerdict(name, False, reason, False, killed)
    if not have_mutants:
        return TestVerdict(name, True, "passes; no mutant could be made of this function", True, killed)
    if not killed:
        return TestVerdict(name, False, "passes on every broken copy too, so it checks nothing", True, killed)
    return TestVerdict(
        name, True, f"passes, and catches {len(killed)} broken cop{'y' if len(killed) == 1 else 'ies'}", True, killed
    )
