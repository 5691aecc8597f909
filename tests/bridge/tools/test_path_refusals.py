"""Every tool that takes a path, called through the real ToolManager, refuses each kind of bad path with a
ToolError that names the problem, before any model is asked, and never quotes a file's content."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest

from pylot.bridge.policy import Policy
from pylot.bridge.tool_manager import ToolManager
from pylot.bridge.tools import DeferredLLM, SemanticSearch, create_tool_manager
from pylot.errors import ToolError

SECRET = "TOPSECRET_CONTENT"


def no_model() -> NoReturn:
    pytest.fail("a tool asked the model before refusing the path")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "good.py").write_text("def f(x):\n    return x + 1\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(f"def leaked(x):\n    return '{SECRET}' + x\n")
    if sys.platform != "win32":  # symlinks need privileges there
        (root / "escape").symlink_to(outside, target_is_directory=True)
    os.link(outside / "secret.py", root / "linked.py")
    return root


@pytest.fixture
def manager(workspace: Path, tmp_path: Path) -> ToolManager:
    return create_tool_manager(
        Policy(workspace), llm=DeferredLLM(no_model), embedder=no_model, index_path=tmp_path / "index.sqlite"
    )


# Each call with {P} where the bad path goes; the others are valid, so only the path can be refused.
CALLS: dict[str, dict[str, Any]] = {
    "parse_file": {"path": "{P}"},
    "rename_symbol": {"path": "{P}", "old_name": "f", "new_name": "g"},
    "extract_method": {"path": "{P}", "start_line": 2, "end_line": 2, "new_name": "g"},
    "extract_variable": {"path": "{P}", "line": 2, "expression": "x + 1", "new_name": "y"},
    "api_reference": {"path": "{P}"},
    "api_reference:output": {"path": "good.py", "output": "{P}"},
    "run_tests": {"path": "{P}"},
    "add_docstrings": {"path": "{P}"},
    "generate_tests": {"path": "{P}", "function": "f"},
    "generate_tests:output": {"path": "good.py", "function": "f", "output": "{P}"},
}
READS = [c for c, args in CALLS.items() if args.get("path") == "{P}" and c != "run_tests"]  # run_tests reads nothing

# kind -> (the bad path, given the workspace; what the message must say)
BAD: dict[str, tuple[Callable[[Path], str], str]] = {
    "dot-dot": (lambda ws: "../outside/secret.py", r"'\.\.' is not allowed"),
    "absolute outside": (lambda ws: str(ws.parent / "outside" / "secret.py"), "is outside the workspace"),
    "symlink out": (lambda ws: "escape/secret.py", "a symlink leads outside the workspace"),
    "/proc": (lambda ws: "/proc/self/environ", "outside the workspace"),  # /proc/self is a symlink
    "/proc back out": (lambda ws: f"/proc/self/root{ws.parent / 'outside' / 'secret.py'}", "outside the workspace"),
    "NUL byte": (lambda ws: "good\x00.py", "^path contains a NUL byte$"),
    "5000 characters": (lambda ws: "a" * 5000, "^path is longer than 4096 bytes$"),
    "a 300-character name": (lambda ws: "x" * 300 + ".py", "^path has a name longer than 255 bytes$"),
}


def call_with(manager: ToolManager, call: str, path: str) -> Any:
    arguments = {k: path if v == "{P}" else v for k, v in CALLS[call].items()}
    return manager.call(call.split(":")[0], arguments)


def test_the_table_covers_every_tool_that_takes_a_path(manager: ToolManager) -> None:
    takes_a_path = {t.name for t in manager.list_tools() if {"path", "output"} & set(t.parameters["properties"])}
    assert takes_a_path == {c.split(":")[0] for c in CALLS}


@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize("call", sorted(CALLS))
def test_every_tool_refuses_every_bad_path_by_name(manager: ToolManager, workspace: Path, call: str, kind: str) -> None:
    make, message = BAD[kind]
    if kind == "symlink out" and sys.platform == "win32":
        pytest.skip("symlinks need privileges on Windows")
    with pytest.raises(ToolError, match=message) as refused:
        call_with(manager, call, make(workspace))
    assert " failed: " not in str(refused.value), "an exception the tool did not expect, not a refusal"
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize("call", READS)
def test_every_reading_tool_refuses_a_hard_link_to_a_file_outside(manager: ToolManager, call: str) -> None:
    with pytest.raises(ToolError, match=r"linked\.py has 2 hard links") as refused:
        call_with(manager, call, "linked.py")
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize("call", ["rename_symbol", "extract_method", "extract_variable"])
def test_refusing_a_file_that_does_not_parse_never_quotes_it(manager: ToolManager, workspace: Path, call: str) -> None:
    (workspace / "bad.py").write_text(f"def f(x):\n    return x + 1\nvalue = ({SECRET} +\n")
    with pytest.raises(ToolError, match=r"bad\.py does not parse: a syntax error at line \d+, column \d+") as refused:
        call_with(manager, call, "bad.py")
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize("call", ["add_docstrings", "generate_tests"])
def test_model_tools_name_the_syntax_error_without_quoting_it(manager: ToolManager, workspace: Path, call: str) -> None:
    (workspace / "bad.py").write_text(f"def f(x):\n    return x + 1\nvalue = ({SECRET} +\n")
    with pytest.raises(ToolError, match=r"bad\.py does not parse: a syntax error at line \d+") as refused:
        call_with(manager, call, "bad.py")
    assert SECRET not in str(refused.value)


def test_a_hard_linked_file_is_left_out_of_a_folder_reference_and_the_index(workspace: Path, tmp_path: Path) -> None:
    policy = Policy(workspace)
    manager = create_tool_manager(policy, llm=None, embedder=no_model, index_path=tmp_path / "index.sqlite")
    markdown = manager.call("api_reference", {"path": "."})
    assert "good.py" in markdown and "leaked" not in markdown

    class Embedder:
        model_id, dim = "fake", 2

        def embed(self, texts: list[str]) -> list[list[float]]:
            return [[1.0, 0.0] for _ in texts]

    search = SemanticSearch(policy, Embedder(), tmp_path / "search.sqlite")
    try:
        assert search.index().files_indexed == 1
        assert not search.search(SECRET, mode="lexical") and not search.search("leaked", mode="lexical")
    finally:
        search.close()
