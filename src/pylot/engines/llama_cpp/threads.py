"""How many CPU threads the engine gets by default: the physical cores that other work leaves free.

llama.cpp's threads wait for one another at every step, so a thread that shares its core with another
program holds up the rest: with 16 clients on a busy 2-core machine, 2 threads timed out 21 of 43 requests
at 60 s, while 1 thread served 317 with none.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import psutil

log = logging.getLogger(__name__)

MEASURE_S = 0.5  # long enough to see a steady load, short next to loading a model


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    reason: str  # one sentence, for the log and `pylot doctor`


def physical_cores() -> int:
    return psutil.cpu_count(logical=False) or psutil.cpu_count() or 1


def choose_threads(cores: int, busy: float) -> ThreadChoice:
    """Threads for `cores` physical cores of which other programs keep `busy` (in cores) busy.

    A core counts as taken when other work uses more than half of it; at least one thread is always left.
    """
    cores = max(1, cores)
    taken = min(cores, int(max(0.0, busy) + 0.5))
    threads = max(1, cores - taken)
    plural = "s" if cores != 1 else ""
    if taken == 0:
        reason = f"{cores} physical core{plural}, none busy with other programs, so one thread per core."
    else:
        reason = (
            f"{cores} physical core{plural} with {busy:.1f} busy with other programs, so {threads} "
            f"thread{'s' if threads != 1 else ''}: a thread that shares its core with other work holds up the others."
        )
    return ThreadChoice(threads, reason)


def busy_cores(interval_s: float = MEASURE_S) -> float:
    """CPUs kept busy by other processes over interval_s, measured on every OS through psutil.

    This process's own threads do not count, nor does niced work (`nice`, background jobs): it gives way to
    the engine's threads.
    """
    me = psutil.Process()
    own_before, before, started = _own_seconds(me), psutil.cpu_times(), time.monotonic()
    time.sleep(interval_s)
    own_after, after = _own_seconds(me), psutil.cpu_times()
    elapsed = max(time.monotonic() - started, 1e-6)
    busy = normal_busy_share(before, after) * (psutil.cpu_count() or 1)
    if not _niced(me):  # a niced process's own time is in the nice share, which is not counted already
        busy -= (own_after - own_before) / elapsed
    return max(0.0, busy)


def normal_busy_share(before: Any, after: Any) -> float:
    """The share (0..1) of all CPU time between two psutil.cpu_times() that went to work at normal priority."""
    spent = {name: getattr(after, name) - getattr(before, name) for name in after._fields}
    # Linux counts guest time inside user and nice as well; idle, iowait and niced time are free to take.
    total = sum(spent.values()) - spent.get("guest", 0.0) - spent.get("guest_nice", 0.0)
    free = spent.get("idle", 0.0) + spent.get("iowait", 0.0) + spent.get("nice", 0.0)
    return min(1.0, max(0.0, (total - free) / total)) if total > 0 else 0.0


def _own_seconds(me: psutil.Process) -> float:
    times = me.cpu_times()
    return float(times.user + times.system)


def _niced(me: psutil.Process) -> bool:
    try:
        return os.name == "posix" and me.nice() > 0
    except psutil.Error:
        return False


def default_threads() -> ThreadChoice:
    """The thread count for a model loaded now, with model.n_threads unset; logged with its reason."""
    choice = choose_threads(physical_cores(), busy_cores())
    log.info("n_threads %d: %s", choice.threads, choice.reason)
    return choice
