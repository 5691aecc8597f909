"""Whether the machine was quiet while a benchmark ran, so that no table is written from a busy one.

Two measurements, because each misses what the other sees:

* Others' CPU. A background thread reads, once a second, the CPU time the whole machine used and the
  CPU time of this benchmark's own process tree (itself and its children: llama-server, Pylot's
  server, test subprocesses). The difference, per second of wall time, is how many cores other
  programs took from the benchmark.
* Calibration. A fixed single-threaded loop is timed before and after the run (the fastest of five,
  tried again after a pause while over the limit) and compared with the
  fastest time ever recorded for this machine (host name, CPU model and Python version) in
  <PYLOT_HOME>/bench-calibration.json. It sees what the sampler cannot: a throttled CPU, or a noisy
  neighbour outside this machine's process table.

A run is busy when (limits in `Limits`):

* others used more than 0.3 of a core on average: a steady load that shifts every timing, or
* others used more than 1 core in more than 10% of the samples: bursts that take a whole core away
  (on 2 cores, half the machine) even if the average stays low, or
* the slower calibration took more than 1.5x the best on record.

Processes the benchmark starts count as its own, so a server that spins while idle is not caught here;
engine_overhead.py measures that itself. The sampler costs about 2 ms of CPU a second (0.2% of a core).
"""

from __future__ import annotations

import functools
import json
import os
import platform
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ALLOW_BUSY_ENV = "PYLOT_BENCH_ALLOW_BUSY"
ALLOW_BUSY_FLAG = "--allow-busy"


@dataclass(frozen=True)
class Limits:
    """Beyond these the machine counts as busy."""

    mean_cores: float = 0.3
    peak_cores: float = 1.0
    peak_share: float = 0.10
    calibration_ratio: float = 1.5


@dataclass(frozen=True)
class Verdict:
    """What the guard saw during one run, and whether that was too much."""

    samples: Sequence[float]  # others' CPU, in cores, one value per sampling interval
    mean_cores: float  # others' CPU over the whole run (total CPU seconds / wall seconds)
    calibrations: Sequence[float]  # seconds: before the run, after it
    best_calibration: float  # the fastest on record for this machine, these included
    limits: Limits = field(default_factory=Limits)
    busiest: Sequence[str] = ()  # "name (pid N) 0.85 cores", for the message

    @property
    def peak_share(self) -> float:
        if not self.samples:
            return 0.0
        return sum(s > self.limits.peak_cores for s in self.samples) / len(self.samples)

    @property
    def calibration_ratio(self) -> float:
        if not self.calibrations or self.best_calibration <= 0:
            return 1.0
        return max(self.calibrations) / self.best_calibration

    @property
    def foreign_reasons(self) -> list[str]:
        """What other processes did that makes the run busy."""
        lim, out = self.limits, []
        if self.mean_cores > lim.mean_cores:
            out.append(f"other processes used {self.mean_cores:.2f} cores on average (limit {lim.mean_cores:g})")
        if self.peak_share > lim.peak_share:
            out.append(
                f"other processes used more than {lim.peak_cores:g} core in {self.peak_share:.0%} of "
                f"{len(self.samples)} samples (limit {lim.peak_share:.0%})"
            )
        return out

    @property
    def reasons(self) -> list[str]:
        """Why the run is busy; empty when it was quiet."""
        lim, out = self.limits, self.foreign_reasons
        if self.calibration_ratio > lim.calibration_ratio:
            out.append(
                f"the calibration loop took {self.calibration_ratio:.2f}x the best time on record for this "
                f"machine (limit {lim.calibration_ratio:g}x)"
            )
        return out

    @property
    def busy(self) -> bool:
        return bool(self.reasons)

    def note(self) -> str:
        """One line for a results table's notes."""
        before_after = " / ".join(f"{c / self.best_calibration:.2f}" for c in self.calibrations)
        line = (
            f"Machine during the run: other processes used {self.mean_cores:.2f} cores on average, more than "
            f"{self.limits.peak_cores:g} core in {self.peak_share:.0%} of {len(self.samples)} one-second samples; "
            f"calibration loop {self.calibration_ratio:.2f}x the best on record (before / after: {before_after})."
        )
        if self.busy:
            line += " **The machine was busy** (" + "; ".join(self.reasons) + "): compare these figures with care."
        return line

    def as_dict(self) -> dict[str, object]:
        return {
            "busy": self.busy,
            "reasons": self.reasons,
            "foreign_mean_cores": round(self.mean_cores, 3),
            "foreign_peak_share": round(self.peak_share, 3),
            "samples": len(self.samples),
            "calibration_ratio": round(self.calibration_ratio, 3),
            "calibration_s": [round(c, 4) for c in self.calibrations],
            "best_calibration_s": round(self.best_calibration, 4),
            "busiest_others": list(self.busiest),
        }


def allow_busy(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """--allow-busy on the command line or PYLOT_BENCH_ALLOW_BUSY=1: write the table even from a busy run."""
    return ALLOW_BUSY_FLAG in argv or environ.get(ALLOW_BUSY_ENV, "") not in ("", "0")


# ---- calibration ---------------------------------------------------------------------------------


def calibration_loop(n: int = 1_500_000) -> float:
    """Wall seconds for a fixed single-threaded pure-Python loop (about 0.1 s on one idle core)."""
    started = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i % 7
    return time.perf_counter() - started


def calibrate(runs: int = 5, loop: Callable[[], float] = calibration_loop) -> float:
    """The fastest of a few runs: hiccups (a scheduler tick, a page fault) only ever add time, so the
    minimum is what the CPU can do now; a steady slowdown (throttling, a noisy neighbour) slows every run."""
    return min(loop() for _ in range(runs))


def machine_key() -> str:
    """The calibration is only comparable on the same host, CPU and interpreter."""
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    major, minor, _ = platform.python_version_tuple()
    python = f"{platform.python_implementation()} {major}.{minor}"
    return f"{socket.gethostname()} | {model or platform.machine()} | {python}"


class CalibrationRecord:
    """The best calibration time seen per machine, in a small JSON file shared by all benchmarks."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key

    @classmethod
    def default(cls) -> CalibrationRecord:
        from pylot.config.settings import default_home

        return cls(default_home() / "bench-calibration.json", machine_key())

    def _load(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {k: float(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def best(self) -> float | None:
        return self._load().get(self.key)

    def record(self, seconds: float) -> float:
        """Keep `seconds` if it is the fastest yet; returns the best on record."""
        data = self._load()
        best = min(seconds, data.get(self.key, seconds))
        if data.get(self.key) != best:
            data[self.key] = best
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
            tmp.replace(self.path)
        return best


# ---- others' CPU ---------------------------------------------------------------------------------


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idling since boot (guest time is already in user)."""
    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0) + getattr(t, "guest", 0.0) + getattr(t, "guest_nice", 0.0)
    return sum(t) - idle


def tree_seconds(root: psutil.Process) -> float:
    """CPU seconds of `root` and its descendants, counting children they have already waited for.

    A child that exits moves its time into its parent's children_* fields once reaped, so the sum stays
    continuous while the benchmark's servers and subprocesses come and go.
    """
    total = 0.0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        procs = [root]
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def _others(own: set[int]) -> dict[tuple[int, float], tuple[str, float]]:
    """CPU seconds so far of every process outside the benchmark's tree, by (pid, start time)."""
    out: dict[tuple[int, float], tuple[str, float]] = {}
    for p in psutil.process_iter(["name", "create_time", "cpu_times"]):
        if p.pid in own or p.info["cpu_times"] is None:
            continue
        t = p.info["cpu_times"]
        out[(p.pid, p.info["create_time"])] = (p.info["name"] or "?", t.user + t.system)
    return out


class ForeignCpu:
    """Samples, in a daemon thread, how many cores processes outside this benchmark's tree use."""

    def __init__(
        self,
        interval_s: float = 1.0,
        *,
        read: Callable[[], tuple[float, float]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        me = psutil.Process()
        self.interval_s = interval_s
        self._read = read or (lambda: (machine_busy_seconds(), tree_seconds(me)))
        self._clock = clock
        self._me = me
        self.samples: list[float] = []
        self._first: tuple[float, float, float] | None = None
        self._last: tuple[float, float, float] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._others_at_start: dict[tuple[int, float], tuple[str, float]] = {}

    def _reading(self) -> tuple[float, float, float]:
        busy, own = self._read()
        return self._clock(), busy, own

    def sample(self) -> None:
        """Take one reading; from the second on, each adds the cores others used since the previous one."""
        now = self._reading()
        if self._last is None:
            self._first = now
        else:
            dt = now[0] - self._last[0]
            if dt > 0:
                self.samples.append(((now[1] - self._last[1]) - (now[2] - self._last[2])) / dt)
        self._last = now

    def mean_cores(self) -> float:
        """Others' CPU over the whole span: first to last reading, so one-off glitches cancel out."""
        if self._first is None or self._last is None or self._last[0] <= self._first[0]:
            return 0.0
        first, last = self._first, self._last
        return max(0.0, ((last[1] - first[1]) - (last[2] - first[2])) / (last[0] - first[0]))

    def start(self) -> None:
        self._others_at_start = self._snapshot_others()
        self.sample()

        def loop() -> None:
            while not self._stop.wait(self.interval_s):
                self.sample()

        self._thread = threading.Thread(target=loop, name="bench-foreign-cpu", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    def _snapshot_others(self) -> dict[tuple[int, float], tuple[str, float]]:
        try:
            own = {self._me.pid, *(c.pid for c in self._me.children(recursive=True))}
        except psutil.Error:
            own = {self._me.pid}
        return _others(own)

    def busiest(self, count: int = 3, min_cores: float = 0.05) -> list[str]:
        """The other processes that used the most CPU between start and now (of those still running)."""
        if self._first is None or self._last is None:
            return []
        span = max(self._last[0] - self._first[0], 1e-9)
        start = self._others_at_start
        used = [
            (cpu - (start[key][1] if key in start else 0.0), name, key[0])
            for key, (name, cpu) in self._snapshot_others().items()
        ]
        used.sort(reverse=True)
        return [
            f"{name} (pid {pid}) {sec / span:.2f} cores" for sec, name, pid in used[:count] if sec / span >= min_cores
        ]


# ---- the guard -----------------------------------------------------------------------------------


class QuietGuard:
    """Calibrate, sample others' CPU for the length of a run, calibrate again, and judge."""

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        record: CalibrationRecord | None = None,
        sampler: ForeignCpu | None = None,
        calibration: Callable[[], float] = calibrate,
        settle_tries: int = 3,
        settle_pause_s: float = 3.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits or Limits()
        self._record = record
        self._sampler = sampler or ForeignCpu()
        self._calibrate = calibration
        self._settle_tries = settle_tries
        self._settle_pause_s = settle_pause_s
        self._sleep = sleep
        self._before: float | None = None
        self._verdict: Verdict | None = None

    def _settled_calibration(self) -> float:
        """Calibrate; when that is over the limit, wait a few seconds and try again, keeping the fastest.

        Right after a run, the benchmark's own servers may still be exiting and the CPU's clock settling
        (seen here: 1.8x on a machine where others used 0.1 cores, 1.1x ten seconds later). A slowdown
        that lasts (throttling, a neighbour on the host) is still there on every try and still counts.
        """
        record = self._record or CalibrationRecord.default()
        seconds = self._calibrate()
        best = record.best()
        for _ in range(self._settle_tries):
            if best is None or seconds <= self.limits.calibration_ratio * min(best, seconds):
                break
            self._sleep(self._settle_pause_s)
            seconds = min(seconds, self._calibrate())
        return seconds

    def start(self) -> QuietGuard:
        self._before = self._settled_calibration()
        self._sampler.start()
        return self

    def finish(self) -> Verdict:
        """Stop sampling and judge the run (once: later calls give the same verdict)."""
        if self._verdict is None:
            self._sampler.stop()
            calibrations = [c for c in (self._before, self._settled_calibration()) if c is not None]
            record = self._record or CalibrationRecord.default()
            seen = record.best()
            verdict = Verdict(
                samples=list(self._sampler.samples),
                mean_cores=self._sampler.mean_cores(),
                calibrations=calibrations,
                best_calibration=min([*calibrations, *([seen] if seen is not None else [])]),
                limits=self.limits,
                busiest=self._sampler.busiest(),
            )
            if not verdict.foreign_reasons:  # times from a loaded machine must not become the yardstick
                for c in calibrations:
                    record.record(c)
            self._verdict = verdict
        return self._verdict

    def __enter__(self) -> QuietGuard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.finish()


@functools.cache
def this_run() -> QuietGuard:
    """The guard of this benchmark process, started on first use (by importing _common)."""
    return QuietGuard().start()
