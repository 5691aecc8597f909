"""Tool and ToolManager: schemas from signatures and docstrings, validation, time limits, the audit log,
and the two ways in from outside: the /v1/tools routes and the `pylot tools` commands."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Literal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pylot.bridge.tool_manager import Tool, ToolManager, tool
from pylot.bridge.tool_schema import parse_docstring
from pylot.errors import ToolError
from pylot.server.routes.tools import create_tools_router


def find_lines(
    path: str,
    pattern: str,
    limit: int = 10,
    kinds: list[str] | None = None,
    mode: Literal["exact", "regex"] = "exact",
    case_sensitive: bool = False,
) -> list[int]:
    """Find the lines of a file that match a pattern.

    Longer explanation that is not part of the description.

    Args:
        path: The file to search.
        pattern: What to look for;
            may span two lines of docs.
        limit: At most this many lines.
        kinds: Only these kinds.
        mode: How to match.

    Returns:
        Line numbers.
    """
    return list(range(1, min(limit, 3) + 1))


def test_schema_from_signature_and_docstring() -> None:
    t = Tool.from_function(find_lines)
    assert t.name == "find_lines"
    assert t.description == "Find the lines of a file that match a pattern."
    props = t.parameters["properties"]
    assert props["path"] == {"type": "string", "description": "The file to search."}
    assert props["pattern"]["description"] == "What to look for; may span two lines of docs."
    assert props["limit"] == {"type": "integer", "description": "At most this many lines.", "default": 10}
    assert props["kinds"] == {
        "type": ["array", "null"],
        "items": {"type": "string"},
        "description": "Only these kinds.",
        "default": None,
    }
    assert props["mode"] == {
        "enum": ["exact", "regex"],
        "type": "string",
        "description": "How to match.",
        "default": "exact",
    }
    assert props["case_sensitive"] == {"type": "boolean", "default": False}
    assert t.parameters["required"] == ["path", "pattern"]
    assert t.parameters["additionalProperties"] is False


def test_optional_scalars_and_docstring_edge_cases() -> None:
    def f(a: int | None = None, b: float = 1.5, c: dict[str, int] | None = None) -> None:
        """Do f."""

    props = Tool.from_function(f).parameters["properties"]
    assert props["a"] == {"type": ["integer", "null"], "default": None}
    assert props["b"] == {"type": "number", "default": 1.5}
    assert props["c"] == {"type": ["object", "null"], "additionalProperties": {"type": "integer"}, "default": None}
    assert parse_docstring(None) == ("", {})
    doc = "Do it.\n\n    Args:\n        x (int): the x.\n        **kwargs: extras.\n\n    Returns:\n        y\n    "
    assert parse_docstring(doc) == ("Do it.", {"x": "the x.", "kwargs": "extras."})


def test_registration_by_decorator_listing_and_openai_shape() -> None:
    manager = ToolManager()

    @manager.tool
    def add(a: int, b: int = 2) -> int:
        """Add two numbers."""
        return a + b

    @manager.tool(name="shout", timeout_s=5)
    def make_loud(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    @tool
    def echo(text: str) -> str:
        """Say it back."""
        return text

    manager.register(echo)
    assert [t.name for t in manager.list_tools()] == ["add", "echo", "shout"]
    assert isinstance(add, Tool) and add(a=1) == 3
    assert manager.get("shout").timeout_s == 5
    openai = manager.openai_tools()
    assert openai[0] == {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two numbers.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer", "default": 2}},
                "required": ["a"],
                "additionalProperties": False,
            },
        },
    }
    with pytest.raises(ValueError, match="already registered"):
        manager.register(echo)


def adder() -> ToolManager:
    manager = ToolManager()

    @manager.tool
    def add(a: int, b: int = 2, labels: list[str] | None = None) -> dict[str, object]:
        """Add two numbers."""
        return {"sum": a + b, "labels": labels or [], "where": Path("a/b")}

    return manager


def test_call_with_a_dict_or_a_json_string() -> None:
    manager = adder()
    assert manager.call("add", {"a": 1}) == {"sum": 3, "labels": [], "where": "a/b"}
    assert manager.call("add", '{"a": 1, "b": 5, "labels": ["x"]}')["sum"] == 6


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "missing required argument 'a'"),
        ({"a": 1, "c": 3}, "unknown argument 'c'"),
        ({"a": "one"}, "argument 'a'"),
        ({"a": 1, "labels": ["ok", 2]}, r"argument 'labels'\[1\]"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
def test_invalid_arguments_name_the_argument(arguments: object, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        adder().call("add", arguments)  # type: ignore[arg-type]


def test_unknown_tool() -> None:
    with pytest.raises(ToolError, match=r"no tool named 'nope'.*add"):
        adder().call("nope", {})


def test_time_limit_per_call() -> None:
    manager = ToolManager()

    @manager.tool(timeout_s=0.2)
    def slow() -> str:
        """Sleep."""
        time.sleep(2)
        return "done"

    started = time.perf_counter()
    with pytest.raises(ToolError, match=r"timed out after 0.2s"):
        manager.call("slow")
    assert time.perf_counter() - started < 1.5
    assert manager.audit_log[-1].outcome == "timeout"


def test_failures_inside_a_tool_become_tool_errors() -> None:
    manager = ToolManager()

    @manager.tool
    def boom(path: str) -> None:
        """Fail."""
        raise FileNotFoundError(path)

    with pytest.raises(ToolError, match="boom failed: FileNotFoundError"):
        manager.call("boom", {"path": "x"})


def test_audit_log_keeps_sizes_never_contents(caplog: pytest.LogCaptureFixture) -> None:
    manager = ToolManager()

    @manager.tool
    def store(path: str, content: str) -> int:
        """Pretend to write."""
        return len(content)

    secret = "API_KEY = 'hunter2'  # user code"
    with caplog.at_level(logging.INFO, logger="pylot.bridge.tool_manager"):
        manager.call("store", {"path": "a.py", "content": secret})
        with pytest.raises(ToolError):
            manager.call("store", {"path": "a.py"})
    ok, invalid = manager.audit_log
    assert (ok.tool, ok.outcome, ok.arguments) == ("store", "ok", {"path": 4, "content": len(secret)})
    assert ok.duration_s >= 0 and ok.error is None
    assert (invalid.outcome, invalid.error) == ("invalid", "ToolError")
    assert "hunter2" not in caplog.text and "a.py" not in caplog.text
    assert "tool store ok" in caplog.text and f"content:{len(secret)}" in caplog.text
    assert "hunter2" not in repr(manager.audit_log)


def test_answers_openai_tool_calls_with_tool_messages() -> None:
    calls = [
        {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 40, "b": 2}'}},
        {"id": "call_2", "type": "function", "function": {"name": "add", "arguments": '{"a": "x"}'}},
        {"id": "call_3", "type": "function", "function": {"name": "nope", "arguments": "{}"}},
    ]
    ok, invalid, unknown = adder().answer_tool_calls(calls)
    assert ok == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"result": {"sum": 42, "labels": [], "where": "a/b"}}',
    }
    assert "argument 'a'" in json.loads(invalid["content"])["error"]
    assert (unknown["tool_call_id"], "no tool named 'nope'" in unknown["content"]) == ("call_3", True)


# ---- /v1/tools ---------------------------------------------------------------------------------------------


@pytest.fixture
def client() -> TestClient:
    from pylot.server.errors import install

    app = FastAPI()
    install(app)  # the server's exception handlers: ToolError -> OpenAI-shaped 400
    app.include_router(create_tools_router(adder()))
    return TestClient(app)


def test_route_lists_tools_with_schemas(client: TestClient) -> None:
    body = client.get("/v1/tools").json()
    assert body["object"] == "list"
    (add,) = body["data"]
    assert add["name"] == "add" and add["parameters"]["required"] == ["a"]
    assert client.get("/v1/tools/add").json()["description"] == "Add two numbers."


def test_route_calls_a_tool(client: TestClient) -> None:
    response = client.post("/v1/tools/add", json={"a": 2, "b": 3})
    assert response.status_code == 200
    assert response.json() == {"result": {"sum": 5, "labels": [], "where": "a/b"}}


@pytest.mark.parametrize(
    ("path", "body", "message", "status", "type_"),
    [
        ("/v1/tools/add", {"a": "x"}, "argument 'a'", 400, "tool_error"),
        ("/v1/tools/add", {}, "missing required argument 'a'", 400, "tool_error"),
        ("/v1/tools/nope", {}, "no tool named 'nope'", 404, "not_found_error"),
    ],
)
def test_route_errors_are_openai_shaped(  # type: ignore[type-arg]
    client: TestClient, path: str, body: dict, message: str, status: int, type_: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert message in error["message"]
    assert error["type"] == type_


def test_an_unknown_tool_is_404_for_get_too(client: TestClient) -> None:
    assert client.get("/v1/tools/nope").status_code == 404


# ---- pylot tools / index / search --------------------------------------------------------------------------


def cli_app() -> object:
    import typer

    from pylot.cli.tools_cmd import index, search, tools_app

    app = typer.Typer()
    app.add_typer(tools_app, name="tools")
    app.command()(index)
    app.command()(search)
    return app


def test_cli_lists_and_calls_tools(tmp_path: Path) -> None:
    from tests.bridge.tools.conftest import FIXTURE

    runner = CliRunner()
    listed = runner.invoke(cli_app(), ["tools", "list", "--workspace", str(FIXTURE)])  # type: ignore[arg-type]
    assert listed.exit_code == 0, listed.output
    for name in ("parse_file", "rename_symbol", "search_code", "index_code", "run_tests", "api_reference"):
        assert name in listed.output
    as_json = runner.invoke(cli_app(), ["tools", "list", "--json", "-w", str(FIXTURE)])  # type: ignore[arg-type]
    assert {t["function"]["name"] for t in json.loads(as_json.output)} >= {"generate_tests", "add_docstrings"}

    called = runner.invoke(
        cli_app(),  # type: ignore[arg-type]
        ["tools", "call", "parse_file", "--args", '{"path": "go/stock.go"}', "-w", str(FIXTURE)],
    )
    assert called.exit_code == 0, called.output
    assert json.loads(called.output)["language"] == "go"

    bad = runner.invoke(cli_app(), ["tools", "call", "parse_file", "--args", "{}", "-w", str(FIXTURE)])  # type: ignore[arg-type]
    assert bad.exit_code == 1
    assert "missing required argument 'path'" in bad.output
