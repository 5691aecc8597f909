"""The in-process engine against the real Qwen2.5-Coder-0.5B and SmolLM2-135M models."""

from __future__ import annotations

import threading
import time

import pytest

from pylot.engines.interface import CancelToken
from pylot.errors import CapabilityError, ContextLengthError
from pylot.types import GenerationParams, LLMResponse

GREEDY = GenerationParams(max_tokens=24, temperature=0.0)


def test_generate_returns_text_tokens_and_finish_reason(qwen) -> None:
    r = qwen.generate("# Python\ndef is_even(n):\n    return", GenerationParams(max_tokens=8, temperature=0.0))
    assert r.text.strip()
    assert 1 <= r.tokens_used <= 8
    assert r.finish_reason in ("stop", "length")
    assert r.prompt_tokens > 5


def test_max_tokens_ends_with_length(qwen) -> None:
    r = qwen.generate("1, 2, 3, 4,", GenerationParams(max_tokens=3, temperature=0.0))
    assert r.tokens_used == 3
    assert r.finish_reason == "length"


def test_fill_in_the_middle_uses_the_models_fim_tokens(qwen) -> None:
    r = qwen.infill(
        "def add(a, b):\n    ",
        "\n\nprint(add(1, 2))\n",
        GenerationParams(max_tokens=16, temperature=0.0, stop=["\n"]),
    )
    assert "a + b" in r.text
    assert "<|fim" not in r.text


def test_text_typed_on_the_line_goes_after_the_middle_token(qwen) -> None:
    tokens = qwen.fim_tokens("def add(a, b):\n", "\n\nprint(add(1, 2))\n", middle="    return a")
    middle = qwen.special_token("<|fim_middle|>")
    assert tokens[-len(qwen.tokenize("    return a")) - 1] == middle
    r = qwen.infill(
        "def add(a, b):\n",
        "\n\nprint(add(1, 2))\n",
        GenerationParams(max_tokens=8, temperature=0.0, stop=["\n"]),
        middle="    return a",
    )
    assert r.text.strip() == "+ b"  # only what follows the typed text


def test_a_model_without_fim_tokens_gives_a_clear_error(smollm) -> None:
    assert not smollm.capabilities().fim
    with pytest.raises(CapabilityError, match="fill-in-the-middle"):
        smollm.infill("def f():\n    ", "\n", GREEDY)


def test_stop_sequences_are_not_returned(qwen) -> None:
    r = qwen.generate("def add(a, b):\n", GenerationParams(max_tokens=40, temperature=0.0, stop=["\n"]))
    assert "\n" not in r.text
    assert r.finish_reason == "stop"


@pytest.mark.parametrize("prompt", ["Переведи на русский: good morning ->", "用中文说你好:"])
def test_streaming_never_splits_a_utf8_character(qwen, prompt: str) -> None:
    chunks = list(qwen.stream(prompt, GenerationParams(max_tokens=24, temperature=0.0)))
    text = "".join(c.text for c in chunks)
    assert text.strip()
    assert "\ufffd" not in text
    assert any(ord(ch) > 127 for ch in text), f"expected non-Latin output, got {text!r}"
    for c in chunks:
        c.text.encode("utf-8")  # each piece is valid on its own


def test_chat_uses_the_models_chat_template(qwen) -> None:
    r = qwen.chat(
        [{"role": "user", "content": "Reply with the single word: pong"}],
        GenerationParams(max_tokens=8, temperature=0.0),
    )
    assert "pong" in r.text.lower()
    assert "<|im_" not in r.text


def test_tokenize_round_trips_through_the_model_vocabulary(qwen) -> None:
    tokens = qwen.tokenize("def main():")
    assert 2 <= len(tokens) <= 6


def test_embeddings_are_normalised_and_meaningful(qwen) -> None:
    a, b, c = qwen.embed(
        ["def add(a, b): return a + b", "def sum_two(x, y): return x + y", "The weather in Paris is sunny."]
    )
    assert len(a) == len(b) == len(c) > 100

    def dot(u: list[float], v: list[float]) -> float:
        return sum(x * y for x, y in zip(u, v, strict=True))

    assert abs(dot(a, a) - 1.0) < 1e-3
    assert dot(a, b) > dot(a, c)


def test_consecutive_requests_reuse_the_shared_prefix(qwen) -> None:
    prefix = "import os\nimport sys\n\n" + "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(20))
    qwen.generate(prefix + "def main():\n", GenerationParams(max_tokens=2, temperature=0.0))
    qwen.generate(prefix + "def run():\n", GenerationParams(max_tokens=2, temperature=0.0))
    assert qwen.last_reused_tokens >= len(qwen.tokenize(prefix)) - 2


def test_max_tokens_0_only_fills_the_cache_for_the_next_request(qwen) -> None:
    prefix = (
        "import os\n\n" + "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(12)) + "def main():\n"
    )
    greedy = GenerationParams(max_tokens=8, temperature=0.0)
    cold = qwen.infill(prefix, "\n", greedy)
    qwen.generate("something else entirely", GenerationParams(max_tokens=1))
    warm = qwen.infill(prefix, "\n", GenerationParams(max_tokens=0))
    assert (warm.text, warm.tokens_used, warm.finish_reason) == ("", 0, "length")
    assert warm.prompt_tokens == cold.prompt_tokens > 100
    after = qwen.infill(prefix, "\n", greedy)
    assert qwen.last_reused_tokens == after.prompt_tokens  # nothing left to evaluate
    assert after.text == cold.text  # and the cached state gives the same answer as a cold start


def _module(name: str, n: int) -> str:
    return "import os\n\n" + "".join(f"def {name}_{i}(x):\n    return x * {i} + len(os.sep)\n\n" for i in range(n))


def test_a_prompt_that_comes_back_after_another_restores_its_saved_state(qwen, monkeypatch) -> None:
    """A chat between two completions of one file must not cost the file's whole prompt again."""
    greedy = GenerationParams(max_tokens=12, temperature=0.0)
    prompt = _module("helper", 25) + "def main():\n"
    first = qwen.generate(prompt, greedy)
    qwen.generate(_module("other", 10) + "class Other:\n", GenerationParams(max_tokens=2, temperature=0.0))
    saves = qwen.prompt_cache.saves
    again = qwen.generate(prompt, greedy)
    assert qwen.prompt_cache.saves == saves + 1  # the other prompt's state, saved before it was overwritten
    assert qwen.last_reused_tokens >= first.prompt_tokens - 1
    assert again.text == first.text  # the restored state gives the answer a cold start gives

    monkeypatch.setattr(qwen.prompt_cache, "max_bytes", 0)  # model.prompt_cache_mb: 0
    qwen.generate(_module("third", 10) + "class Third:\n", GenerationParams(max_tokens=2, temperature=0.0))
    qwen.generate(prompt, greedy)
    assert qwen.last_reused_tokens < 8  # without saved states the whole prompt is evaluated again


def test_a_budget_for_one_state_still_restores_the_one_it_evicts_to_save_another(qwen, monkeypatch) -> None:
    """Coming back to A from B saves B, which evicts A (room for one); A must still restore, whole."""
    import mmap

    greedy = GenerationParams(max_tokens=8, temperature=0.0)
    a, b = _module("alpha", 25) + "def main():\n", _module("beta", 25) + "def main():\n"
    qwen.prompt_cache.clear()
    first = qwen.generate(a, greedy)
    one_state = int(qwen._lc.llama_state_seq_get_size(qwen._llm._ctx.ctx, 0))
    monkeypatch.setattr(qwen.prompt_cache, "max_bytes", one_state * 3 // 2)
    qwen.generate(b, greedy)  # saves A
    assert len(qwen.prompt_cache) == 1
    again = qwen.generate(a, greedy)  # takes A, saves B (evicting A), restores A (this was a KeyError)
    assert qwen.last_reused_tokens >= first.prompt_tokens - 1 and again.text
    # Greedy text can differ from the first answer's in the last digits of the logits (the first one's
    # prompt was evaluated in other batches); the restored state answers as the live one does.
    assert qwen.generate(a, greedy).text == again.text
    (entry,) = qwen.prompt_cache._entries.values()
    assert isinstance(entry.data, mmap.mmap)  # states live in their own maps, not in the heap


def test_prompt_longer_than_the_context_is_refused(smollm) -> None:
    with pytest.raises(ContextLengthError, match="context window holds 1024"):
        smollm.generate("word " * 3000, GREEDY)


def test_cancel_stops_generation_within_a_token_or_two(qwen) -> None:
    token = CancelToken()
    seen = 0
    last = None
    for chunk in qwen.stream("def fibonacci(n):", GenerationParams(max_tokens=200, temperature=0.0), token):
        last = chunk
        if chunk.completion_tokens >= 3 and not token.cancelled:
            token.cancel()
            seen = chunk.completion_tokens
    assert last is not None and last.finish_reason == "cancelled"
    assert last.completion_tokens <= seen + 2


def test_time_limit_keeps_the_text_so_far(qwen) -> None:
    r = qwen.generate("def long_function():\n", GenerationParams(max_tokens=500, temperature=0.0, time_limit_s=0.05))
    assert r.finish_reason == "time_limit"
    assert r.tokens_used < 500


def test_requests_are_served_one_at_a_time_in_order(smollm) -> None:
    finished: list[int] = []
    started = threading.Barrier(3)

    def run(i: int) -> None:
        started.wait()
        time.sleep(0.05 * i)  # arrive in order 0, 1, 2
        smollm.generate(f"Count: {i},", GenerationParams(max_tokens=6, temperature=0.0))
        finished.append(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert finished == [0, 1, 2]


def test_generate_as_the_specification_calls_it(qwen) -> None:
    r = qwen.generate("# Python\ndef is_even(n):\n    return", max_tokens=6, temperature=0.0, stream=False)
    assert isinstance(r, LLMResponse)
    assert r.text.strip() and 1 <= r.tokens_used <= 6 and r.finish_reason in ("stop", "length")
    with pytest.raises(TypeError, match="'n_predict'"):
        qwen.generate("x", n_predict=6)
