"""DeferredLLM looks its engine up on every call, so the tools follow an engine that is swapped."""

from __future__ import annotations

from pylot.bridge.tools.deferred_llm import DeferredLLM
from pylot.types import GenerationParams


def test_every_call_goes_to_the_engine_of_the_moment(qwen: object) -> None:
    calls: list[int] = []

    def resolve() -> object:
        calls.append(1)
        return qwen

    llm = DeferredLLM(resolve)  # type: ignore[arg-type]
    assert calls == [], "nothing is resolved before the first call"
    assert llm.tokenize("def f():") == qwen.tokenize("def f():")  # type: ignore[attr-defined]
    assert llm.capabilities().model_id == "qwen2.5-coder-0.5b"
    reply = llm.generate("def add(a, b):\n    return", GenerationParams(max_tokens=4, temperature=0.0))
    assert reply.text.strip()
    assert len(calls) == 3
