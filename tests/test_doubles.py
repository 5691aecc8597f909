"""The shared engine double is checked against the interface it stands in for."""

from __future__ import annotations

import inspect

from pylot.engines.interface import LLMInterface
from pylot.types import Chunk, GenerationParams
from tests.doubles import ScriptedEngine, says


def test_the_double_has_the_interface_signatures() -> None:
    for name, member in inspect.getmembers(LLMInterface, inspect.isfunction):
        if name.startswith("_"):
            continue
        ours = getattr(ScriptedEngine, name)
        assert inspect.signature(ours) == inspect.signature(member), name
    # Abstract methods all implemented: it instantiates.
    assert isinstance(ScriptedEngine(), LLMInterface)


def test_the_double_records_calls_and_answers_through_the_interface_helpers() -> None:
    engine = ScriptedEngine(says("return 1"))
    params = GenerationParams(max_tokens=4)
    assert engine.infill("def f():\n    ", "\n", params, middle="re").text == "return 1"
    assert engine.generate("x", params).finish_reason == "stop"
    call = engine.calls[0]
    assert (call.kind, call.prefix, call.suffix, call.middle) == ("infill", "def f():\n    ", "\n", "re")
    assert [c.kind for c in engine.calls] == ["infill", "complete"]
    streamed = ScriptedEngine(lambda call: [Chunk("a", None), Chunk("b", "length", 1, 2)])
    assert streamed.chat([{"role": "user", "content": "hi"}], params).text == "ab"
