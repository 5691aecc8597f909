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


def test_doctor_prints_the_thread_count_it_would_choose_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    from pylot.cli.doctor import run_doctor

    run_doctor()
    out = capsys.readouterr().out
    assert "Threads" in out and "Why this many" in out and "physical core" in out
