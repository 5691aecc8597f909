"""TestRunner: a workspace's own pytest suite, run on a copy of the workspace inside the sandbox."""

from __future__ import annotations

from dataclasses import dataclass, field

from pylot.bridge.policy import Policy
from pylot.bridge.sandbox import Sandbox
from pylot.bridge.tool_manager import Tool
from pylot.bridge.tools.unit_test_generator import junit_outcomes


@dataclass(frozen=True)
class TestRunResult:
    """Counts, the names of the failing tests, and the end of pytest's output."""

    __test__ = False

    passed: int
    failed: int
    exit_code: int
    timed_out: bool
    network_isolated: bool
    failures: list[str] = field(default_factory=list)
    output_tail: str = ""


class TestRunner:
    """Runs pytest on a scratch copy of the workspace, so tests can neither change it nor reach the network.

    Args:
        policy: The workspace.
        sandbox: Where the tests run.
    """

    __test__ = False

    def __init__(self, policy: Policy, sandbox: Sandbox | None = None) -> None:
        self.policy = policy
        self.sandbox = sandbox or Sandbox(timeout_s=300)

    def tools(self) -> list[Tool]:
        return [Tool.from_function(self.run_tests, timeout_s=None)]

    def run_tests(self, path: str = ".", keyword: str | None = None, timeout_s: int = 300) -> TestRunResult:
        """Run the workspace's pytest tests in the sandbox (a scratch copy, no network, a time limit).

        Args:
            path: A test file or directory inside the workspace.
            keyword: Only tests matching this pytest -k expression.
            timeout_s: Time limit in seconds for the whole run.
        """
        target = self.policy.relative(path)
        args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=.pylot-report.xml", target]
        if keyword:
            args += ["-k", keyword]
        with self.sandbox.scratch(copy_tree=self.policy.root, allow_hard_links=self.policy.allow_hard_links) as scratch:
            result = self.sandbox.run_python(args, scratch, timeout_s=float(timeout_s))
            report = scratch / ".pylot-report.xml"
            outcomes = junit_outcomes(report.read_text(encoding="utf-8")) if report.exists() else {}
        tail = (result.stdout + result.stderr)[-2000:]
        return TestRunResult(
            passed=sum(outcomes.values()),
            failed=sum(not ok for ok in outcomes.values()),
            exit_code=result.returncode,
            timed_out=result.timed_out,
            network_isolated=result.network_isolated,
            failures=sorted(name for name, ok in outcomes.items() if not ok),
            output_tail=tail,
        )
