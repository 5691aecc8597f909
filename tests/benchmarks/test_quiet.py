"""The quiet-machine guard: when a run counts as busy, and what write_results does then."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _common import BUSY_EXIT_CODE, write_results
from _quiet import ALLOW_BUSY_ENV, CalibrationRecord, ForeignCpu, Limits, QuietGuard, Verdict, allow_busy


def verdict(samples: list[float], calibrations: tuple[float, ...] = (0.10, 0.10), best: float = 0.10) -> Verdict:
    mean = sum(samples) / len(samples) if samples else 0.0
    return Verdict(samples=samples, mean_cores=mean, calibrations=calibrations, best_calibration=best)


def test_a_quiet_run_is_not_busy() -> None:
    v = verdict([0.0, 0.1, 0.3, 0.0], calibrations=(0.10, 0.11))
    assert not v.busy
    assert v.reasons == []
    assert "0.10 cores on average" in v.note()
    assert "busy" not in v.note()


def test_a_steady_foreign_load_makes_the_run_busy() -> None:
    v = verdict([0.45] * 30)  # never a whole core, but always almost half of one
    assert v.busy
    assert v.reasons == ["other processes used 0.45 cores on average (limit 0.3)"]


def test_bursts_of_a_whole_core_make_the_run_busy_even_with_a_low_average() -> None:
    quiet, bursts = [0.0] * 17, [1.5] * 3  # 15% of the samples above one core, mean 0.225
    v = verdict(quiet + bursts)
    assert v.mean_cores < Limits().mean_cores
    assert v.busy
    assert "in 15% of 20 samples" in v.reasons[0]


def test_bursts_at_the_limit_are_tolerated() -> None:
    v = verdict([0.0] * 18 + [1.2] * 2)  # exactly 10%: the limit is "more than"
    assert not v.busy


def test_a_slow_calibration_makes_the_run_busy() -> None:
    assert verdict([0.0], calibrations=(0.10, 0.16), best=0.10).busy
    assert not verdict([0.0], calibrations=(0.14, 0.10), best=0.10).busy
    v = verdict([0.0], calibrations=(0.10, 0.16), best=0.10)
    assert v.reasons == ["the calibration loop took 1.60x the best time on record for this machine (limit 1.5x)"]


def test_busy_note_says_so_and_why() -> None:
    note = verdict([2.0] * 5).note()
    assert "**The machine was busy**" in note
    assert "2.00 cores on average" in note


def test_foreign_cpu_is_the_machine_minus_the_benchmark_tree() -> None:
    # (machine busy seconds, own tree seconds) at t = 0, 1, 2, 3
    readings = iter([(100.0, 10.0), (101.5, 11.0), (103.5, 12.9), (104.0, 13.4)])
    clock = iter([0.0, 1.0, 2.0, 3.0])
    cpu = ForeignCpu(read=lambda: next(readings), clock=lambda: next(clock))
    for _ in range(4):
        cpu.sample()
    assert cpu.samples == pytest.approx([0.5, 0.1, 0.0])
    assert cpu.mean_cores() == pytest.approx(0.6 / 3)


def test_a_child_reaped_between_samples_does_not_count_as_foreign_on_average() -> None:
    # The own-tree total dips for one reading (a child gone, not yet reaped) and comes back.
    readings = iter([(0.0, 0.0), (2.0, 1.0), (4.0, 4.0)])
    clock = iter([0.0, 1.0, 2.0])
    cpu = ForeignCpu(read=lambda: next(readings), clock=lambda: next(clock))
    for _ in range(3):
        cpu.sample()
    assert cpu.samples == pytest.approx([1.0, -1.0])
    assert cpu.mean_cores() == pytest.approx(0.0)


def test_calibration_record_keeps_the_best_per_machine(tmp_path: Path) -> None:
    path = tmp_path / "bench-calibration.json"
    here, there = CalibrationRecord(path, "here"), CalibrationRecord(path, "there")
    assert here.best() is None
    assert here.record(0.2) == 0.2
    assert here.record(0.3) == 0.2  # a slower time never replaces the best
    assert here.record(0.1) == 0.1
    assert there.record(0.5) == 0.5
    assert json.loads(path.read_text()) == {"here": 0.1, "there": 0.5}


def test_guard_compares_both_calibrations_with_the_record(tmp_path: Path) -> None:
    record = CalibrationRecord(tmp_path / "cal.json", "m")
    record.record(0.10)
    times = iter([0.11, 0.20, 0.21, 0.20, 0.22])  # before the run; after it, and three tries after a pause
    readings = iter([(0.0, 0.0), (1.0, 1.0)])
    clock = iter([0.0, 10.0])
    sampler = ForeignCpu(3600, read=lambda: next(readings), clock=lambda: next(clock))
    pauses: list[float] = []
    guard = QuietGuard(record=record, sampler=sampler, calibration=lambda: next(times), sleep=pauses.append)
    with guard:
        pass
    v = guard.finish()
    assert v.calibrations == [0.11, 0.20]  # a slowdown that lasts stays: the fastest of the tries
    assert pauses == [3.0, 3.0, 3.0]
    assert v.calibration_ratio == pytest.approx(2.0)
    assert v.mean_cores == 0.0
    assert v.busy
    assert guard.finish() is v  # judged once
    assert record.best() == 0.10


def test_a_slow_calibration_that_passes_after_a_pause_does_not_count(tmp_path: Path) -> None:
    record = CalibrationRecord(tmp_path / "cal.json", "m")
    record.record(0.10)
    times = iter([0.10, 0.19, 0.11])  # the after-run loop is slow once (servers still exiting), then fine
    readings = iter([(0.0, 0.0), (1.0, 1.0)])
    clock = iter([0.0, 10.0])
    sampler = ForeignCpu(3600, read=lambda: next(readings), clock=lambda: next(clock))
    pauses: list[float] = []
    guard = QuietGuard(record=record, sampler=sampler, calibration=lambda: next(times), sleep=pauses.append)
    with guard:
        pass
    v = guard.finish()
    assert v.calibrations == [0.10, 0.11]
    assert pauses == [3.0]
    assert not v.busy


def test_calibrations_of_a_loaded_run_are_not_recorded(tmp_path: Path) -> None:
    record = CalibrationRecord(tmp_path / "cal.json", "m")
    times = iter([0.30, 0.31])
    readings = iter([(0.0, 0.0), (15.0, 5.0)])  # others used 1 core for 10 s
    clock = iter([0.0, 10.0])
    sampler = ForeignCpu(3600, read=lambda: next(readings), clock=lambda: next(clock))
    with QuietGuard(record=record, sampler=sampler, calibration=lambda: next(times)) as guard:
        pass
    v = guard.finish()
    assert v.mean_cores == pytest.approx(1.0)
    assert v.busy
    assert record.best() is None  # a later quiet run sets the yardstick


def test_allow_busy_from_flag_or_environment() -> None:
    assert allow_busy(["--requests", "2", "--allow-busy"], {})
    assert allow_busy([], {ALLOW_BUSY_ENV: "1"})
    assert not allow_busy([], {ALLOW_BUSY_ENV: "0"})
    assert not allow_busy(["--requests", "2"], {})


ROWS = [{"path": "direct", "ratio": "1.000"}, {"path": "http", "ratio": "1.020"}]


def test_a_busy_run_writes_nothing_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["bench.py"])
    monkeypatch.delenv(ALLOW_BUSY_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        write_results("bench", "A benchmark", ROWS, ["a note"], verdict=verdict([0.9] * 10), results=tmp_path)
    assert exit_info.value.code == BUSY_EXIT_CODE
    assert list(tmp_path.iterdir()) == []
    out, err = capsys.readouterr()
    assert "| http | 1.020 |" in out  # the figures are still shown
    assert "NOT WRITTEN" in err
    assert "0.90 cores on average" in err
    assert "--allow-busy" in err


def test_allow_busy_writes_the_table_with_a_busy_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["bench.py", "--allow-busy"])
    write_results("bench", "A benchmark", ROWS, ["a note"], verdict=verdict([0.9] * 10), results=tmp_path)
    md = (tmp_path / "bench.md").read_text()
    assert "**The machine was busy**" in md
    data = json.loads((tmp_path / "bench.json").read_text())
    assert data["machine_load"]["busy"] is True
    assert data["machine_load"]["foreign_mean_cores"] == 0.9


def test_a_quiet_run_records_the_load_in_the_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["bench.py"])
    monkeypatch.delenv(ALLOW_BUSY_ENV, raising=False)
    write_results("bench", "A benchmark", ROWS, ["a note"], verdict=verdict([0.05] * 10), results=tmp_path)
    data = json.loads((tmp_path / "bench.json").read_text())
    assert data["notes"][0] == "a note"
    assert data["notes"][-1].startswith("Machine during the run: other processes used 0.05 cores")
    assert data["machine_load"]["busy"] is False
