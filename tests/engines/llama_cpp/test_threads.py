"""The default thread count: the physical cores other programs leave free, and the one-sentence reason."""

from __future__ import annotations

import psutil
import pytest

from pylot.engines.llama_cpp.threads import busy_cores, choose_threads, normal_busy_share


@pytest.mark.parametrize(
    ("cores", "busy", "threads", "words"),
    [
        (2, 0.0, 2, ["2 physical cores, none busy", "one thread per core"]),
        (2, 0.4, 2, ["none busy"]),  # a core counts as taken only when more than half of it is used
        (2, 1.0, 1, ["2 physical cores with 1.0 busy", "so 1 thread:"]),
        (2, 1.9, 1, ["1.9 busy", "so 1 thread:"]),  # the shared machine of the issue: 1 thread, not 2
        (2, 6.0, 1, ["6.0 busy"]),  # more busy CPUs than cores (hyperthreads, a loaded host): still 1
        (8, 2.6, 5, ["8 physical cores with 2.6 busy", "so 5 threads:"]),
        (1, 0.0, 1, ["1 physical core, none busy"]),
        (0, -1.0, 1, ["1 physical core"]),  # psutil could not tell: one thread, never zero
    ],
)
def test_threads_are_the_cores_other_work_leaves_free(cores: int, busy: float, threads: int, words: list[str]) -> None:
    choice = choose_threads(cores, busy)
    assert choice.threads == threads
    for word in words:
        assert word in choice.reason
    assert choice.reason.count(". ") == 0 and choice.reason.endswith(".")  # one sentence


def test_niced_idle_and_iowait_time_are_free_for_the_engine() -> None:
    times = type(psutil.cpu_times())
    zero = dict.fromkeys(times._fields, 0.0)
    before = times(**zero)
    # 10 s of CPU time: 2 s busy at normal priority, 5 s niced (it gives way), 3 s idle.
    after = times(**(zero | {"user": 2.0, "nice": 5.0, "idle": 3.0}))
    assert normal_busy_share(before, after) == pytest.approx(0.2)
    assert normal_busy_share(before, before) == 0.0


def test_the_measurement_is_a_number_of_cpus() -> None:
    busy = busy_cores(interval_s=0.1)
    assert 0.0 <= busy <= (psutil.cpu_count() or 1)
