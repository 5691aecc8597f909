"""The completion pipeline on the real Qwen2.5-Coder-0.5B (FIM) and SmolLM2 (no FIM) models."""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator

import pytest

from pylot.completion import CodeCompletionRequest, CompletionPipeline
from pylot.completion.pipeline import Budget
from pylot.config.settings import CompletionSettings
from pylot.engines.interface import Snippet
from pylot.errors import CancelledError
from pylot.types import Chunk, GenerationParams
from tests.doubles import Call, ScriptedEngine


def pipeline(engine: object, **settings: object) -> CompletionPipeline:
    s = CompletionSettings(time_limit_s=120, **settings)  # type: ignore[arg-type]
    return CompletionPipeline(lambda: engine, lambda: s, lambda: GenerationParams(temperature=0.0))  # type: ignore[arg-type,return-value]


def test_a_body_is_suggested_for_an_empty_function(qwen) -> None:
    r = pipeline(qwen).complete(CodeCompletionRequest("def add(a, b):\n    ", "\n\nprint(add(1, 2))\n"))
    assert r.mode == "block" and r.fim
    assert "return a + b" in r.text
    assert "print(" not in r.text  # stopped at the dedent


def test_a_line_is_finished_without_repeating_the_suffix(qwen) -> None:
    r = pipeline(qwen).complete(CodeCompletionRequest("import os\nprint(os.path.join(", "))\n"))
    assert r.mode == "line"
    assert r.text and "\n" not in r.text
    assert not r.text.endswith("))")


def test_the_end_of_a_line_that_opens_a_block_gets_the_body(qwen) -> None:
    p = pipeline(qwen, typeahead_entries=0)
    r = p.complete(CodeCompletionRequest("def total(xs):\n    t = 0\n    for x in xs:", "\n    return t\n"))
    assert r.mode == "block" and r.text.startswith("\n        ")
    assert "t += x" in r.text and "return t" not in r.text  # the suffix goes on after the body


def test_typing_on_a_line_evaluates_only_the_typed_text(qwen) -> None:
    # The prefix up to the line and the suffix stay fixed, so each keystroke reuses the KV cache for them.
    before = "import os\n\n" + "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(12))
    after = "\n\n" + "".join(f"def later_{i}(y):\n    return y * {i}\n\n" for i in range(12))
    p = pipeline(qwen, typeahead_entries=0)
    typed = "def main():\n    path = os.path.jo"
    p.complete(CodeCompletionRequest(before + typed[:-6], after, language="python", mode="line"))
    r = p.complete(CodeCompletionRequest(before + typed, after, language="python", mode="line"))
    assert r.prompt_tokens > 250 and r.prompt_tokens - qwen.last_reused_tokens <= 6
    assert r.text.startswith("in(")


def test_without_a_stable_line_the_suffix_is_evaluated_again(qwen) -> None:
    before = "import os\n\n" + "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(12))
    after = "\n\n" + "".join(f"def later_{i}(y):\n    return y * {i}\n\n" for i in range(12))
    p = pipeline(qwen, typeahead_entries=0, stable_line=False)
    typed = "def main():\n    path = os.path.jo"
    p.complete(CodeCompletionRequest(before + typed[:-6], after, language="python", mode="line"))
    r = p.complete(CodeCompletionRequest(before + typed, after, language="python", mode="line"))
    assert r.prompt_tokens - qwen.last_reused_tokens > 100  # the typed tail and the whole suffix window again


def test_a_model_without_fim_falls_back_to_the_prefix_and_says_so(smollm) -> None:
    r = pipeline(smollm).complete(CodeCompletionRequest("def greet(name):\n    return ", "\n"))
    assert r.fim is False and r.fallback == "prefix-only"


def test_a_newer_request_from_the_same_session_cancels_the_one_in_flight(qwen) -> None:
    p = pipeline(qwen, block_max_tokens=400, block_max_lines=200)
    errors: list[Exception] = []
    long_request = CodeCompletionRequest(
        "def long_function():\n    ", "\n", session="editor-1", max_tokens=400, mode="block"
    )

    def first() -> None:
        try:
            p.complete(long_request)
        except CancelledError as exc:
            errors.append(exc)

    t = threading.Thread(target=first)
    t.start()
    while qwen.queue_depth == 0 and t.is_alive():
        pass
    second = p.complete(CodeCompletionRequest("x = ", "\n", session="editor-1"))
    t.join(120)
    assert errors and "superseded" in str(errors[0])
    assert p.cancelled_by_newer == 1
    assert second.text


def test_python_candidates_are_checked_by_parsing(qwen) -> None:
    # A real answer that parses is kept; one that breaks the file is replaced by a candidate that parses.
    p = pipeline(qwen, parse_candidates=2)
    req = CodeCompletionRequest(
        "def f(xs):\n    total = 0\n    for x in xs:\n", "\n    return total\n", language="python"
    )
    r = p.complete(req)
    ast.parse(req.prefix + r.text + req.suffix)
    greedy = pipeline(qwen, parse_candidates=0).complete(req)
    try:
        ast.parse(req.prefix + greedy.text + req.suffix)
    except SyntaxError:  # the greedy answer broke the file: an extra candidate was tried and taken
        assert r.candidates in (2, 3) and r.text != greedy.text
    else:  # it parsed: no extra candidate was tried
        assert (r.candidates, r.text) == (1, greedy.text)


def test_a_cancelled_request_raises(qwen) -> None:
    from pylot.engines.interface import CancelToken

    token = CancelToken()
    token.cancel("test")
    with pytest.raises(CancelledError):
        pipeline(qwen).complete(CodeCompletionRequest("x = ", "\n"), token)


def by_seed(answers: dict[int | None, str]) -> ScriptedEngine:
    """Answers by seed: the greedy call has no seed, each extra candidate its own."""
    return ScriptedEngine(lambda call: [Chunk(answers[call.params.seed] + "\n", "stop", 10, 5)])


def test_a_candidate_that_breaks_the_file_is_replaced_by_one_that_parses() -> None:
    engine = by_seed({None: "        total += x)", 1: "        total + = x", 2: "        total += x"})
    p = pipeline(engine, parse_candidates=2)
    r = p.complete(
        CodeCompletionRequest(
            "def f(xs):\n    total = 0\n    for x in xs:\n", "\n    return total\n", language="python", mode="line"
        )
    )
    assert r.text == "        total += x"
    assert [c.params.seed for c in engine.calls] == [None, 1, 2] and r.candidates == 3


def test_without_python_no_extra_candidates_are_tried() -> None:
    engine = by_seed({None: "        total += x)"})
    p = pipeline(engine, parse_candidates=2)
    r = p.complete(CodeCompletionRequest("for x in xs:\n", "\n", language="go", mode="line"))
    assert [c.params.seed for c in engine.calls] == [None] and r.candidates == 1


class ChunkedEngine(ScriptedEngine):
    """Streams its answer a few characters at a time and runs out of tokens at the end."""

    def __init__(self, answer: str) -> None:
        super().__init__(self._chunks)
        self.answer = answer
        self.read = 0

    def _chunks(self, call: Call) -> Iterator[Chunk]:
        text = self.answer
        for i in range(0, len(text), 3):
            self.read = i + 3
            yield Chunk(text[i : i + 3], "length" if i + 3 >= len(text) else None, 10, i // 3 + 1)


def test_generation_ends_at_the_clients_stop_string_even_across_chunks() -> None:
    engine = ChunkedEngine("value = compute(a, b)  # the rest is never read")
    r = pipeline(engine, typeahead_entries=0).complete(
        CodeCompletionRequest("x = 1\n", "\n", mode="line", stop=["#", "(a"])
    )
    assert r.text == "value = compute"
    assert r.finish_reason == "stop"  # not the engine's "length": the client's stop string ended it
    assert engine.read < 20  # the stream was closed as soon as the stop string showed


def test_prefix_suffix_and_snippets_are_cut_to_their_token_budgets() -> None:
    engine = by_seed({None: "x = 1"})
    p = pipeline(engine, prefix_tokens=300, suffix_tokens=40, extra_tokens=50)
    before = "".join(f"a{i} = {i}\n" for i in range(1000))  # 3 words a line
    after = "".join(f"b{i} = {i}\n" for i in range(1000))
    extra = [Snippet("one.py", "w " * 30), Snippet("two.py", "v\n" * 40), Snippet("three.py", "never")]
    p.complete(CodeCompletionRequest(before, after, extra=extra, mode="line"))
    last = engine.calls[-1]
    prefix, suffix, snippets = last.prefix, last.suffix, last.extra
    assert 150 <= len(prefix.split()) + prefix.count("\n") <= 300 and prefix.endswith("a999 = 999\n")
    assert len(suffix.split()) <= 40 and suffix.startswith("b0 = 0")
    assert [s.filename for s in snippets] == ["one.py", "two.py"]
    assert snippets[0].text == extra[0].text and 0 < snippets[1].text.count("v") < 40


def test_budgets_shrink_to_a_small_context_window() -> None:
    s = CompletionSettings()
    assert Budget.fit(s, 1 << 20) == Budget(s.prefix_tokens, s.suffix_tokens, s.extra_tokens)
    small = Budget.fit(s, 1024)
    assert small.prefix + small.suffix + small.extra + s.block_max_tokens <= 1024
    assert small.prefix > small.extra > small.suffix > 0


def test_the_built_in_engine_counts_with_its_own_tokenizer(qwen) -> None:
    p = pipeline(qwen, prefix_tokens=200, typeahead_entries=0)
    before = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(200))
    r = p.complete(CodeCompletionRequest(before + "def main():\n    return helper_", "\n", language="python"))
    assert 100 < r.prompt_tokens <= 200 + 24 + 8  # prefix budget, the short suffix and the FIM tokens


# ---- warm-ups ------------------------------------------------------------------------------------


def test_a_warm_up_fills_the_cache_with_the_prompt_the_next_keystroke_sends(qwen) -> None:
    # An editor warms up where the cursor lands (n_predict 0); the first keystroke there then evaluates
    # only the typed text, as later keystrokes do.
    before = "import os\n\n" + "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(12))
    after = "\n\n" + "".join(f"def later_{i}(y):\n    return y * {i}\n\n" for i in range(12))
    p = pipeline(qwen, typeahead_entries=0)
    typed = "def main():\n    path = os.path.jo"
    qwen.generate("something else entirely", GenerationParams(max_tokens=1))  # a cold cache
    n = p.warm(CodeCompletionRequest(before + typed[:-1], after, language="python"))
    r = p.complete(CodeCompletionRequest(before + typed, after, language="python", mode="line"))
    assert n > 250 and r.prompt_tokens - qwen.last_reused_tokens <= 6
    assert r.text.startswith("in(")


class GatedEngine(ScriptedEngine):
    """Generations wait for `release` (or their cancel token); records each max_tokens."""

    def __init__(self) -> None:
        super().__init__(self._gated, model_id="gated")
        self.release = threading.Event()
        self.started = threading.Event()
        self.max_tokens: list[int] = []

    def _gated(self, call: Call) -> Iterator[Chunk]:
        self.max_tokens.append(call.params.max_tokens)
        self.started.set()
        while not self.release.wait(0.01):
            if call.cancel is not None and call.cancel.cancelled:
                yield Chunk("", "cancelled")
                return
        warm = call.params.max_tokens == 0
        yield Chunk("" if warm else "1\n", "length" if warm else "stop", 10, 0)


def test_a_warm_up_never_cancels_a_completion_in_flight() -> None:
    engine = GatedEngine()
    p = pipeline(engine)
    results: list[str] = []
    request = CodeCompletionRequest("x = ", "\n", session="s")
    t = threading.Thread(target=lambda: results.append(p.complete(request).text))
    t.start()
    assert engine.started.wait(10)
    assert p.warm(CodeCompletionRequest("y = ", "\n", session="s")) == 0  # skipped: the engine is busy for it
    engine.release.set()
    t.join(10)
    assert results == ["1"] and engine.max_tokens == [engine.max_tokens[0]] and engine.max_tokens[0] > 0


def test_a_keystroke_cancels_the_warm_up_in_flight() -> None:
    engine = GatedEngine()
    p = pipeline(engine)
    errors: list[Exception] = []

    def warm() -> None:
        try:
            p.warm(CodeCompletionRequest("x = ", "\n", session="s"))
        except CancelledError as exc:
            errors.append(exc)

    t = threading.Thread(target=warm)
    t.start()
    assert engine.started.wait(10)
    keystroke = threading.Thread(target=lambda: p.complete(CodeCompletionRequest("x = 1", "\n", session="s")))
    keystroke.start()
    t.join(10)
    engine.release.set()
    keystroke.join(10)
    assert errors and "superseded" in str(errors[0])
    assert engine.max_tokens[0] == 0 and engine.max_tokens[1] > 0
