"""A tool's JSON Schema from its function's signature and docstring, and tool results as plain JSON.

The first paragraph of the docstring is the description, its `Args:` section describes the parameters,
and the type hints become JSON Schema (str, int, float, bool, Path, list[...], dict, Literal[...],
Optional[...] / `X | None`, defaults).
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import re
import types
import typing
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, Literal

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


def jsonable_default(value: Any) -> Any:
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
