"""Tools: one object each (name, description, JSON schema, implementation), and the manager that calls them.

The schema is derived from the function's signature and docstring: the first paragraph of the docstring is
the description, its `Args:` section describes the parameters, and the type hints become JSON Schema
(str, int, float, bool, Path, list[...], dict, Literal[...], Optional[...] / `X | None`, defaults).
Every call is validated against the signature, run under a time limit, and recorded in an audit log that
keeps argument names and sizes, never their contents.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import logging
import re
import threading
import time
import types
import typing
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal, TypeVar, overload

from pydantic import TypeAdapter, ValidationError

from pylot.errors import PylotError, ToolError

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
Outcome = Literal["ok", "error", "invalid", "timeout"]
NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # what OpenAI accepts as a function name
DEFAULT_TIMEOUT_S = 60.0


# ---- docstrings and type hints -> JSON Schema ---------------------------------------------------------


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(description, {parameter: description}) from a Google-style docstring."""
    text = inspect.cleandoc(doc or "")
    first = re.split(r"\n\s*\n", text, maxsplit=1)[0]
    description = "" if first.startswith(_SECTIONS) else " ".join(x.strip() for x in first.splitlines())
    params: dict[str, str] = {}
    lines = text.splitlines()
    start = next(
        (i + 1 for i, line in enumerate(lines) if line.strip() in ("Args:", "Arguments:", "Parameters:")), None
    )
    if start is None:
        return description, params
    indent: int | None = None
    current: str | None = None
    for line in lines[start:]:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if depth == 0:
            break  # the next section (Returns:, Raises:) starts at column 0
        indent = depth if indent is None else indent
        match = _PARAM_LINE.match(line.strip())
        if depth == indent and match:
            current = match.group(1)
            params[current] = match.group(2).strip()
        elif current is not None:
            params[current] = f"{params[current]} {line.strip()}".strip()
    return description, params


_SECTIONS = ("Args:", "Arguments:", "Parameters:", "Returns:", "Raises:")
_PARAM_LINE = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def type_schema(tp: Any) -> dict[str, Any]:
    """JSON Schema for a type hint."""
    if tp is Any or tp is inspect.Parameter.empty:
        return {}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return type_schema(args[0])
    schema: dict[str, Any]
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        schema = type_schema(members[0]) if len(members) == 1 else {"anyOf": [type_schema(a) for a in members]}
        if len(members) < len(args):
            if "type" in schema and isinstance(schema["type"], str) and "enum" not in schema:
                return {**schema, "type": [schema["type"], "null"]}
            return {"anyOf": [schema, {"type": "null"}]}
        return schema
    if origin is Literal:
        values = list(args)
        kinds = {type(v) for v in values}
        schema = {"enum": values}
        if len(kinds) == 1:
            schema["type"] = _PRIMITIVES.get(kinds.pop(), "string")
        return schema
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple, set, frozenset):
        item = args[0] if args and not (origin is tuple and len(args) == 2 and args[1] is not Ellipsis) else None
        schema = {"type": "array"}
        if origin is tuple and args and args[-1] is not Ellipsis:
            schema["prefixItems"] = [type_schema(a) for a in args]
        elif item is not None:
            schema["items"] = type_schema(item)
        return schema
    if origin in (dict, Mapping) or tp is dict:
        schema = {"type": "object"}
        if len(args) == 2 and args[1] is not Any:
            schema["additionalProperties"] = type_schema(args[1])
        return schema
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    if isinstance(tp, type) and issubclass(tp, PurePath):
        return {"type": "string"}
    if tp in _PRIMITIVES:
        return {"type": _PRIMITIVES[tp]}
    return {}


_PRIMITIVES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def _jsonable_default(value: Any) -> Any:
    try:
        return jsonable(value)
    except TypeError:
        return None


def jsonable(value: Any) -> Any:
    """A tool's result as plain JSON types: dataclasses, paths and enums are converted."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump())
    raise TypeError(f"cannot turn {type(value).__name__} into JSON")


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
                default = _jsonable_default(param.default)
                if default is not None or param.default is None:
                    prop["default"] = default
            properties[param.name] = prop
            adapters[param.name] = TypeAdapter(hint)
        schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
        if not var_kw:
            schema["additionalProperties"] = False
        return cls(
            name=tool_name,
            description=str(description or doc_description or tool_name),
            parameters=schema,
            function=function,
            timeout_s=timeout_s,
            _adapters=adapters,
            _required=frozenset(required),
            _var_kw=var_kw,
        )

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
            raise ToolError(f"no tool named '{name}' (known: {', '.join(sorted(self._tools)) or 'none'})") from None

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
            log.info(
                "tool %s %s in %.3fs args=%s%s",
                name,
                outcome,
                record.duration_s,
                ",".join(f"{k}:{v}" for k, v in sizes.items()) or "-",
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


class ToolTimeoutError(ToolError):
    """A tool call ran past its time limit."""


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
        return parsed
    if not isinstance(arguments, Mapping):
        raise ToolError(f"{name}: arguments must be a JSON object, got {type(arguments).__name__}")
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
