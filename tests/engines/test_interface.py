"""LLMInterface's collecting methods as the specification calls them: keyword arguments over GenerationParams."""

from __future__ import annotations

import pytest

from pylot.engines.interface import generation_params
from pylot.types import Chunk, GenerationParams, LLMResponse
from tests.doubles import ScriptedEngine


class Recorder(ScriptedEngine):
    """The shared double, answering "ok"; `seen` is the parameters of every request."""

    def __init__(self) -> None:
        super().__init__(lambda call: [Chunk("o"), Chunk("k", "stop", 3, 2)], model_id="recorder", n_ctx=512)

    @property
    def seen(self) -> list[GenerationParams]:
        return [call.params for call in self.calls]


def test_generate_with_keywords_only_uses_the_specifications_defaults() -> None:
    engine = Recorder()
    r = engine.generate("def f():")
    assert r == LLMResponse(text="ok", tokens_used=2, finish_reason="stop", prompt_tokens=3)
    (params,) = engine.seen
    assert (params.max_tokens, params.temperature, params.top_p) == (256, 0.7, 0.95)
    engine.generate("def f():", max_tokens=8, temperature=0.0, top_k=5, seed=1, stop="\n")
    chosen = engine.seen[-1]
    assert (chosen.max_tokens, chosen.temperature, chosen.top_k, chosen.seed, chosen.stop) == (8, 0.0, 5, 1, ["\n"])
    assert chosen.top_p == 0.95


def test_keywords_override_the_params_given() -> None:
    engine = Recorder()
    given = GenerationParams(max_tokens=16, temperature=0.2, stop=["\n\n"])
    engine.generate("x", given, temperature=0.0)
    assert (engine.seen[0].max_tokens, engine.seen[0].temperature, engine.seen[0].stop) == (16, 0.0, ["\n\n"])
    assert given.temperature == 0.2  # the caller's params are not changed
    engine.generate("x", given)
    assert engine.seen[1] is given


def test_an_unknown_keyword_is_a_type_error_that_names_it() -> None:
    engine = Recorder()
    with pytest.raises(TypeError, match=r"unknown generation keyword 'max_length' \(known: max_tokens, "):
        engine.generate("x", max_length=5)
    with pytest.raises(TypeError, match="'n_predict'"):
        engine.chat([{"role": "user", "content": "hi"}], n_predict=5)
    assert engine.seen == []  # refused before anything was asked of the engine


def test_stream_true_still_returns_the_whole_response() -> None:
    r = Recorder().generate("x", stream=True, max_tokens=4)
    assert isinstance(r, LLMResponse) and r.text == "ok"


def test_infill_and_chat_take_the_same_keywords() -> None:
    engine = Recorder()
    engine.infill("def add(a, b):\n    return ", "\n", max_tokens=12, middle="a")
    engine.chat([{"role": "user", "content": "hi"}], temperature=0.1)
    assert [(p.max_tokens, p.temperature) for p in engine.seen] == [(12, 0.7), (256, 0.1)]


def test_generation_params_without_anything_is_a_fresh_copy_each_time() -> None:
    first = generation_params()
    first.stop.append("\n")
    assert generation_params().stop == []
