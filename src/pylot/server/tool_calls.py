"""OpenAI tool calls in chat: the messages a chat template expects, and the calls a model wrote as text."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from pylot.types import ChatMessage, new_id

# Qwen2.5 (and Hermes-style) models write each call as <tool_call>{"name": ..., "arguments": {...}}</tool_call>.
TOOL_CALL = re.compile(r"<tool_call>\s*(\{.*?\})\s*</tool_call>", re.DOTALL)


def template_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Request messages as chat templates read them: tool calls with their arguments as objects, not strings."""
    out: list[dict[str, Any]] = []
    for m in messages:
        item: dict[str, Any] = {"role": m.role, "content": m.content or ""}
        extra = m.model_extra or {}
        if extra.get("tool_calls"):
            calls = []
            for call in extra["tool_calls"]:
                function = dict(call.get("function", {}))
                if isinstance(function.get("arguments"), str):
                    with contextlib.suppress(json.JSONDecodeError):  # a non-JSON string stays as it was
                        function["arguments"] = json.loads(function["arguments"])
                calls.append({**call, "function": function})
            item["tool_calls"] = calls
        for key in ("tool_call_id", "name"):
            if extra.get(key):
                item[key] = extra[key]
        out.append(item)
    return out


def parse_tool_calls(text: str, known: set[str]) -> tuple[str | None, list[dict[str, Any]]]:
    """(remaining content, OpenAI tool_calls) from model text; calls to tools not offered are left as text."""
    calls: list[dict[str, Any]] = []

    def take(match: re.Match[str]) -> str:
        try:
            data = json.loads(match.group(1))
        except json.JSONDecodeError:
            return match.group(0)
        name = data.get("name") if isinstance(data, dict) else None
        if name not in known:
            return match.group(0)
        calls.append(_openai_call(name, data.get("arguments", {})))
        return ""

    rest = TOOL_CALL.sub(take, text).strip()
    if not calls:
        # The <tool_call> markers are special tokens, which engines never print: the calls then arrive as
        # bare JSON objects, one after another.
        rest, calls = _bare_calls(text, known)
    return (rest or None) if calls else text, calls


def _bare_calls(text: str, known: set[str]) -> tuple[str, list[dict[str, Any]]]:
    decoder = json.JSONDecoder()
    calls: list[dict[str, Any]] = []
    kept: list[str] = []
    i = 0
    while i < len(text):
        start = text.find("{", i)
        if start < 0:
            kept.append(text[i:])
            break
        kept.append(text[i:start])
        try:
            data, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            kept.append(text[start : start + 1])
            i = start + 1
            continue
        if isinstance(data, dict) and data.get("name") in known and isinstance(data.get("arguments", {}), dict):
            calls.append(_openai_call(data["name"], data.get("arguments", {})))
        else:
            kept.append(text[start:end])
        i = end
    return "".join(kept).strip(), calls


def _openai_call(name: str, arguments: Any) -> dict[str, Any]:
    return {
        "id": new_id("call"),
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)},
    }
