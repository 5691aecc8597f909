"""`pylot doctor`'s recommendation: from the machine's cores and free memory, with its reason."""

from __future__ import annotations

import pytest

from pylot.cli.doctor import GiB, recommend


@pytest.mark.parametrize(
    ("cores", "free_gib", "gpus", "model", "words"),
    [
        (4, 9, {}, "qwen2.5-coder-1.5b", ["4 cores and 9.0 GiB free", "1.1 GB", "0.01 s"]),
        (2, 9, {"CUDA": "RTX"}, "qwen2.5-coder-1.5b", ["a GPU"]),
        (2, 20, {}, "qwen2.5-coder-0.5b", ["2 cores and 20.0 GiB free", "the 1.5B from 4 cores"]),
        (16, 2, {}, "qwen2.5-coder-0.5b", ["2.0 GiB free", "3 GiB free"]),  # total RAM alone would say 1.5B
        (16, 1, {}, "smollm2-135m", ["no fill-in-the-middle", "1.5 GiB free"]),
    ],
)
def test_the_recommendation_follows_cores_and_free_memory(
    cores: int, free_gib: float, gpus: dict[str, str], model: str, words: list[str]
) -> None:
    choice = recommend(cores, int(free_gib * GiB), gpus)
    assert choice.model == model
    for word in words:
        assert word in choice.reason
    assert choice.reason.count(". ") == 0 and choice.reason.endswith(".")  # one sentence
