"""Token healing: the last piece of typed text is written again by the model, never cut mid-word."""

from __future__ import annotations

import numpy as np
import pytest

from pylot.engines.llama_cpp.token_healing import Healer, PieceIndex, split_tail
from pylot.types import GenerationParams


@pytest.mark.parametrize(
    ("text", "head", "tail"),
    [
        ("    path = os.path.jo", "    path = os.path", ".jo"),
        ("    return a", "    return", " a"),
        ("    return ", "    return", " "),
        ("    ", "", "    "),
        ("x = foo(", "x = foo", "("),
        ("if a ==", "if a", " =="),
        ("", "", ""),
        ("名前 = 值", "名前 =", " 值"),
    ],
)
def test_the_tail_is_what_a_tokenizer_could_merge_with_the_next_characters(text: str, head: str, tail: str) -> None:
    assert split_tail(text) == (head, tail)


def test_a_long_word_is_healed_only_in_its_last_characters() -> None:
    head, tail = split_tail("x = " + "a" * 100)
    assert len(tail) <= 32 and head + tail == "x = " + "a" * 100


VOCAB = [b"", b".", b".j", b".jo", b".join", b".json", b"jo", b"in", b"(", b" ", b" a", b"\xff", b"\xff\xff"]


def test_the_agreeing_tokens_start_with_the_text_or_are_a_start_of_it() -> None:
    index = PieceIndex(VOCAB)
    assert sorted(VOCAB[i] for i in index.agreeing(b".jo")) == [b".", b".j", b".jo", b".join"]
    assert sorted(VOCAB[i] for i in index.agreeing(b" ")) == [b" ", b" a"]
    assert sorted(VOCAB[i] for i in index.agreeing(b"\xff")) == [b"\xff", b"\xff\xff"]


def test_the_healer_masks_until_the_text_is_written_and_returns_only_what_follows() -> None:
    healer = Healer(PieceIndex(VOCAB), b".jo")
    masked = healer(None, np.zeros(len(VOCAB), dtype=np.single))
    assert [VOCAB[i] for i in np.flatnonzero(np.isfinite(masked))] == [b".", b".j", b".jo", b".join"]
    assert healer.consume(b".j") == b""
    assert healer.consume(b"oin") == b"in"
    logits = np.arange(len(VOCAB), dtype=np.single)
    assert healer(None, logits) is logits  # healed: no more masking
    assert healer.consume(b"(") == b"("


def test_text_no_token_spells_is_not_forced() -> None:
    healer = Healer(PieceIndex(VOCAB), b"zz")
    assert not healer.can_start() and Healer(PieceIndex(VOCAB), b".jo").can_start()
    logits = np.zeros(len(VOCAB), dtype=np.single)
    assert healer(None, logits) is logits and healer.consume(b"(") == b"("


def test_a_real_model_finishes_a_word_cut_by_the_cursor(qwen) -> None:
    greedy = GenerationParams(max_tokens=6, temperature=0.0, stop=["\n"])
    r = qwen.infill("import os\n\n", "\n", greedy, middle="full = os.path.jo")
    assert r.text.startswith("in(")
    r = qwen.infill("def add(a, b):\n", "\n\nprint(add(1, 2))\n", greedy, middle="    return ")
    assert r.text.startswith("a + b")
