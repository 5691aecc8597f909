"""OpenAI tool calls in /v1/chat/completions: the model's own template offers the tools, its calls come back parsed."""

from __future__ import annotations

import json
from pathlib import Path

from pylot.server.tool_calls import parse_tool_calls, template_messages
from pylot.types import ChatMessage
from tests.server.conftest import make_client

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_tool_call_text_becomes_openai_tool_calls() -> None:
    text = 'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    content, calls = parse_tool_calls(text, {"get_weather"})
    assert content == "Let me check."
    assert calls[0]["type"] == "function" and calls[0]["function"]["name"] == "get_weather"
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris"}


def test_calls_to_tools_not_offered_or_broken_json_stay_text() -> None:
    text = '<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call><tool_call>{broken</tool_call>'
    content, calls = parse_tool_calls(text, {"get_weather"})
    assert calls == [] and content == text


def test_previous_calls_reach_the_template_with_object_arguments() -> None:
    messages = [
        ChatMessage(
            role="assistant",
            content=None,
            tool_calls=[  # type: ignore[call-arg]
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
            ],
        ),
        ChatMessage(role="tool", content="-3 C", tool_call_id="c1"),  # type: ignore[call-arg]
    ]
    out = template_messages(messages)
    assert out[0]["tool_calls"][0]["function"]["arguments"] == {"city": "Oslo"}
    assert out[1]["tool_call_id"] == "c1"


def test_the_real_model_calls_an_offered_tool(qwen: object, tmp_path: Path) -> None:
    with make_client(qwen, tmp_path, "generation:\n  temperature: 0.0\n  max_tokens: 64\n") as c:
        r = c.post(
            "/v1/chat/completions",
            json={
                "messages": [{"role": "user", "content": "What is the weather in Paris right now?"}],
                "tools": [WEATHER],
            },
        )
        assert r.status_code == 200, r.text
        choice = r.json()["choices"][0]
        assert choice["finish_reason"] == "tool_calls", choice
        call = choice["message"]["tool_calls"][0]
        assert call["function"]["name"] == "get_weather"
        assert "paris" in json.loads(call["function"]["arguments"])["city"].lower()


def test_pylot_tools_are_offered_and_streaming_with_tools_is_refused_clearly(qwen: object, tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    with make_client(qwen, tmp_path, f"tools:\n  workspace: {tmp_path / 'ws'}\n") as c:
        r = c.post(
            "/v1/chat/completions",
            json={
                "messages": [{"role": "user", "content": "hi"}],
                "tools": [WEATHER],
                "stream": True,
            },
        )
        assert r.status_code == 400 and r.json()["error"]["param"] == "stream"
        r = c.post(
            "/v1/chat/completions",
            json={
                "messages": [{"role": "user", "content": "Call the parse_file tool on the file calc.py."}],
                "pylot_tools": True,
                "max_tokens": 64,
                "temperature": 0.0,
            },
        )
        assert r.status_code == 200, r.text
        call = r.json()["choices"][0]["message"]["tool_calls"][0]["function"]
        assert call["name"] == "parse_file" and json.loads(call["arguments"])["path"] == "calc.py"


def test_calls_without_their_special_token_markers_are_recognised() -> None:
    text = (
        '{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
        '{"name": "get_weather", "arguments": {"city": "Rome"}}'
    )
    content, calls = parse_tool_calls(text, {"get_weather"})
    assert content is None and [json.loads(c["function"]["arguments"])["city"] for c in calls] == ["Paris", "Rome"]
    plain = 'Use {"a": 1} as the config.'
    assert parse_tool_calls(plain, {"get_weather"}) == (plain, [])
