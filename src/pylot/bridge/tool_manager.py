"""Tools: one object each (name, description, JSON schema, implementation), and the manager that calls them.

The schema is derived from the function's signature and docstring (pylot.bridge.tool_schema).
Every call is validated against the signature, run under a time limit, and recorded in an audit log that
keeps argument names and sizes, never their contents.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import threading
import time
import typing
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from pydantic import TypeAdapter, ValidationError

from pylot.bridge.tool_schema import jsonable, jsonable_default, parse_docstring, type_schema
from pylot.errors import PylotError, ToolError, ToolNotFoundError, ToolTimeoutError
from pylot.unicode_text import find_lone_surrogate

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
Outcome = Literal["ok", "error", "invalid", "timeout"]
NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # what OpenAI accepts as a function name
DEFAULT_TIMEOUT_S = 60.0


# ---- the Tool ------------------------------------------------------------------------------------------


@dataclass
class Tool:
    """A callable the model, the API and the CLI can use: name, description and schema from one function."""

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any]
    timeout_s: float | None = DEFAULT_TIMEOUT_S
    _adapters: dict[str, TypeAdapter[Any]] = field(default_factory=dict, repr=False)
    _required: frozenset[str] = field(default_factory=frozenset, repr=False)
    _var_kw: bool = field(default=False, repr=False)

    @classmethod
    def from_function(
        cls,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
    ) -> Tool:
        """Build a tool from a function or bound method; its signature and docstring are the contract."""
        return cls(**cls.fields_of(function, name=name, description=description, timeout_s=timeout_s))

    @staticmethod
    def fields_of(
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
    ) -> dict[str, Any]:
        """The constructor's arguments for a tool of `function`: for subclasses that are a tool themselves
        (CodeParser), and `from_function`."""
        tool_name = str(name or getattr(function, "__name__", ""))
        if not NAME_RE.match(tool_name):
            raise ValueError(f"tool name {tool_name!r} must match {NAME_RE.pattern}")
        doc_description, doc_params = parse_docstring(inspect.getdoc(function))
        try:
            hints = typing.get_type_hints(function, include_extras=True)
        except Exception as exc:  # unresolvable forward references: say which function
            raise ValueError(f"tool {tool_name}: cannot resolve the type hints: {exc}") from exc
        properties: dict[str, Any] = {}
        required: list[str] = []
        adapters: dict[str, TypeAdapter[Any]] = {}
        var_kw = False
        for param in inspect.signature(function).parameters.values():
            if param.kind is param.VAR_KEYWORD:
                var_kw = True
                continue
            if param.kind is param.VAR_POSITIONAL:
                raise ValueError(f"tool {tool_name}: *{param.name} cannot be passed as a JSON argument")
            hint = hints.get(param.name, Any)
            prop = type_schema(hint)
            if param.name in doc_params:
                prop["description"] = doc_params[param.name]
            if param.default is param.empty:
                required.append(param.name)
            else:
                default = jsonable_default(param.default)
                if default is not None or param.default is None:
                    prop["default"] = default
            properties[param.name] = prop
            adapters[param.name] = TypeAdapter(hint)
        schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
        if not var_kw:
            schema["additionalProperties"] = False
        return {
            "name": tool_name,
            "description": str(description or doc_description or tool_name),
            "parameters": schema,
            "function": function,
            "timeout_s": timeout_s,
            "_adapters": adapters,
            "_required": frozenset(required),
            "_var_kw": var_kw,
        }

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments checked and converted to the signature's types; ToolError names the bad one."""
        if not isinstance(arguments, Mapping):
            raise ToolError(f"{self.name}: arguments must be a JSON object, got {type(arguments).__name__}")
        unknown = [k for k in arguments if k not in self._adapters]
        if unknown and not self._var_kw:
            known = ", ".join(self._adapters) or "none"
            raise ToolError(f"{self.name}: unknown argument '{unknown[0]}' (expected: {known})")
        missing = [k for k in self._required if k not in arguments]
        if missing:
            raise ToolError(f"{self.name}: missing required argument '{sorted(missing)[0]}'")
        values: dict[str, Any] = {}
        for key, value in arguments.items():
            adapter = self._adapters.get(key)
            if adapter is None:
                values[key] = value
                continue
            try:
                values[key] = adapter.validate_python(value)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = "".join(f"[{p}]" for p in first["loc"])
                expected = self.parameters["properties"][key]
                raise ToolError(
                    f"{self.name}: argument '{key}'{where}: {first['msg']} (schema {json.dumps(expected)})"
                ) from None
        return values

    def openai(self) -> dict[str, Any]:
        """The OpenAI function-tool shape for `tools=[...]` in a chat request."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }

    def __call__(self, **kwargs: Any) -> Any:
        return self.function(**kwargs)


@overload
def tool(function: F, /) -> Tool: ...
@overload
def tool(
    function: None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
) -> Callable[[F], Tool]: ...
def tool(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Decorator: turn a function into a Tool (`@tool` or `@tool(name=..., timeout_s=...)`)."""

    def wrap(fn: Callable[..., Any]) -> Tool:
        return Tool.from_function(fn, name=name, description=description, timeout_s=timeout_s)

    return wrap(function) if function is not None else wrap


# ---- audit log -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRecord:
    """One tool call as the audit log keeps it: sizes and outcome, never the argument values."""

    tool: str
    arguments: dict[str, int]  # name -> size (characters of the JSON value)
    started_at: float
    duration_s: float
    outcome: Outcome
    error: str | None = None  # the exception type; messages may quote user input, so they are not kept


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    try:
        return len(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return 0


# ---- the manager ---------------------------------------------------------------------------------------


class ToolManager:
    """Registers tools, lists them with their schemas, validates and runs calls, and audits every call."""

    def __init__(self, tools: Iterable[Tool] = (), *, audit_size: int = 1000) -> None:
        self._tools: dict[str, Tool] = {}
        self._audit: deque[AuditRecord] = deque(maxlen=audit_size)
        self._lock = threading.Lock()
        for t in tools:
            self.register(t)

    def register(self, item: Tool | Callable[..., Any], *, name: str | None = None) -> Tool:
        """Add a Tool (or a plain function, wrapped); names are unique."""
        t = item if isinstance(item, Tool) else Tool.from_function(item, name=name)
        if t.name in self._tools:
            raise ValueError(f"a tool named {t.name!r} is already registered")
        self._tools[t.name] = t
        return t

    @overload
    def tool(self, function: F, /) -> Tool: ...
    @overload
    def tool(
        self,
        function: None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
    ) -> Callable[[F], Tool]: ...
    def tool(
        self,
        function: Callable[..., Any] | None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
    ) -> Tool | Callable[[Callable[..., Any]], Tool]:
        """Decorator: register a function as a tool (`@manager.tool` or `@manager.tool(name=...)`)."""

        def wrap(fn: Callable[..., Any]) -> Tool:
            return self.register(Tool.from_function(fn, name=name, description=description, timeout_s=timeout_s))

        return wrap(function) if function is not None else wrap

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise ToolNotFoundError(
                f"no tool named '{name}' (known: {', '.join(sorted(self._tools)) or 'none'})"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def list_tools(self) -> list[Tool]:
        return [self._tools[n] for n in sorted(self._tools)]

    def schemas(self) -> list[dict[str, Any]]:
        """Name, description and parameter schema of every tool."""
        return [{"name": t.name, "description": t.description, "parameters": t.parameters} for t in self.list_tools()]

    def openai_tools(self) -> list[dict[str, Any]]:
        """Every tool in the OpenAI `tools` shape, for a chat completion request."""
        return [t.openai() for t in self.list_tools()]

    @property
    def audit_log(self) -> list[AuditRecord]:
        with self._lock:
            return list(self._audit)

    def call(self, name: str, arguments: str | Mapping[str, Any] | None = None) -> Any:
        """Validate and run one call; the result comes back as plain JSON types.

        `arguments` is a dict or a JSON object string (what a model writes in a tool call). Any failure is a
        ToolError whose message says what went wrong; the call is audited either way.
        """
        started = time.time()
        t0 = time.perf_counter()
        sizes: dict[str, int] = {}
        outcome: Outcome = "invalid"
        error: str | None = None
        try:
            t = self.get(name)
            args = _parse_arguments(name, arguments)
            sizes = {k: _size(v) for k, v in args.items()}
            values = t.validate(args)
            outcome = "error"
            result = jsonable(_run_with_timeout(t, values))
            outcome = "ok"
            return result
        except ToolTimeoutError as exc:
            outcome, error = "timeout", type(exc).__name__
            raise
        except ToolError as exc:
            error = type(exc).__name__
            raise
        except PylotError as exc:
            error = type(exc).__name__
            raise ToolError(f"{name}: {exc}") from exc
        except Exception as exc:  # a bug or an OS error inside the tool: report it as a tool failure
            error = type(exc).__name__
            raise ToolError(f"{name} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            record = AuditRecord(name, sizes, started, time.perf_counter() - t0, outcome, error)
            with self._lock:
                self._audit.append(record)
            # Names from the caller are logged only when they are the tool's own: an unknown tool's name or
            # argument could be anything the user typed.
            known = self._tools.get(name)
            params = set(known.parameters.get("properties", {})) if known else set()
            shown = [f"{k}:{v}" for k, v in sizes.items() if k in params]
            others = sum(k not in params for k in sizes)
            log.info(
                "tool %s %s in %.3fs args=%s%s",
                name if known else "(unknown)",
                outcome,
                record.duration_s,
                ",".join(shown + ([f"+{others} unknown"] if others else [])) or "-",
                f" error={error}" if error else "",
            )

    def answer_tool_calls(self, tool_calls: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Run the `tool_calls` of an OpenAI assistant message; returns the `tool` messages that answer them.

        A failed call is answered too, with {"error": message}, so that the model can correct itself.
        """
        messages = []
        for call in tool_calls:
            function = call.get("function") or {}
            try:
                content: Any = {"result": self.call(str(function.get("name", "")), function.get("arguments"))}
            except ToolError as exc:
                content = {"error": str(exc)}
            messages.append(
                {"role": "tool", "tool_call_id": call.get("id", ""), "content": json.dumps(content, ensure_ascii=False)}
            )
        return messages


def _parse_arguments(name: str, arguments: str | Mapping[str, Any] | None) -> Mapping[str, Any]:
    if arguments is None or arguments == "":
        return {}
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments)
        except json.JSONDecodeError as exc:
            raise ToolError(f"{name}: arguments are not valid JSON: {exc.msg} at position {exc.pos}") from None
        if not isinstance(parsed, dict):
            raise ToolError(f"{name}: arguments must be a JSON object, got {type(parsed).__name__}")
        arguments = parsed
    if not isinstance(arguments, Mapping):
        raise ToolError(f"{name}: arguments must be a JSON object, got {type(arguments).__name__}")
    if (found := find_lone_surrogate(arguments)) is not None:
        raise ToolError(f"{name}: {found.describe()}")
    return arguments


def _run_with_timeout(t: Tool, values: dict[str, Any]) -> Any:
    """Run in a daemon thread and stop waiting at the time limit.

    A Python thread cannot be killed, so a tool that overruns keeps running in the background until it
    returns; tools that run user code put it in a sandboxed subprocess with its own timeout, which is killed.
    """
    if t.timeout_s is None:
        return t.function(**values)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = t.function(**values)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name=f"tool-{t.name}", daemon=True)
    worker.start()
    worker.join(t.timeout_s)
    if worker.is_alive():
        raise ToolTimeoutError(f"{t.name}: timed out after {t.timeout_s:g}s")
    if "error" in box:
        raise box["error"]
    return box.get("result")
