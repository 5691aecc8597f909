"""Helpers shared by the benchmarks: real source text, percentiles, results tables.

Importing this module from a benchmark script starts the quiet-machine guard (_quiet.py) for the
whole run, and `write_results` refuses to write a table from a run during which the machine was busy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psutil
from _quiet import ALLOW_BUSY_ENV, ALLOW_BUSY_FLAG, Verdict, allow_busy, this_run

BENCHMARKS = Path(__file__).resolve().parent
RESULTS = BENCHMARKS / "results"
BUSY_EXIT_CODE = 75  # EX_TEMPFAIL: nothing is wrong with the benchmark; run it again on a quiet machine


def _run_as_benchmark() -> bool:
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    return main is not None and Path(main).resolve().parent == BENCHMARKS


# Every benchmark imports this module before it does any work, so the guard watches the whole run;
# tests and other importers start nothing.
if _run_as_benchmark():
    this_run()


def add_busy_flag(parser: argparse.ArgumentParser) -> None:
    """Accept --allow-busy (write_results reads it from the command line, or PYLOT_BENCH_ALLOW_BUSY=1)."""
    parser.add_argument(
        ALLOW_BUSY_FLAG,
        action="store_true",
        help=f"Write the results even if the machine was busy, with a note saying so (or {ALLOW_BUSY_ENV}=1).",
    )


def source_prompts(count: int, lines_before: int = 40) -> list[str]:
    """Cursor positions in real code: the standard library's own modules, cut at a line start."""
    import json.decoder
    import textwrap

    files = [Path(textwrap.__file__), Path(json.decoder.__file__), Path(statistics.__file__)]
    prompts: list[str] = []
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for end in range(lines_before, len(lines), 25):
            if lines[end].strip():
                indent = lines[end][: len(lines[end]) - len(lines[end].lstrip())]
                prompts.append("".join(lines[end - lines_before : end]) + indent)
            if len(prompts) == count:
                return prompts
    return prompts


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def machine() -> str:
    ram = psutil.virtual_memory().total / 2**30
    return f"{platform.machine()}, {psutil.cpu_count(logical=False)} cores, {ram:.0f} GiB, {platform.system()}"


def write_results(
    name: str,
    title: str,
    rows: list[dict[str, Any]],
    notes: list[str],
    *,
    verdict: Verdict | None = None,
    results: Path = RESULTS,
) -> Path:
    """Write benchmarks/results/<name>.md (a table) and <name>.json (the raw numbers).

    The table is printed either way; it is written only if the machine was quiet during the run (the
    guard this module started, or `verdict`), or with --allow-busy, and then the notes say it was busy.
    A refused run exits with BUSY_EXIT_CODE.
    """
    verdict = verdict or this_run().finish()
    notes = [*notes, verdict.note()]
    headers = list(rows[0])
    md = [f"# {title}", "", f"Run {time.strftime('%Y-%m-%d %H:%M')} on {machine()}.", ""]
    md.append("| " + " | ".join(headers) + " |")
    md.append("|" + "---|" * len(headers))
    for row in rows:
        md.append("| " + " | ".join(str(row[h]) for h in headers) + " |")
    md += ["", *notes, ""]
    print("\n".join(md), flush=True)
    path = results / f"{name}.md"
    if verdict.busy and not allow_busy(sys.argv[1:], os.environ):
        print(refusal(path, verdict), file=sys.stderr)
        raise SystemExit(BUSY_EXIT_CODE)
    results.mkdir(exist_ok=True)
    path.write_text("\n".join(md), encoding="utf-8")
    data = {"title": title, "rows": rows, "notes": notes, "machine_load": verdict.as_dict()}
    (results / f"{name}.json").write_text(json.dumps(data, indent=2))
    return path


def refusal(path: Path, verdict: Verdict) -> str:
    """Why a table above was not written, and what to do about it."""
    lines = [
        f"NOT WRITTEN: {path} and its .json. The machine was busy during this run, so the figures above would mislead:",
        *(f"  - {reason}" for reason in verdict.reasons),
    ]
    if verdict.busiest:
        lines.append("  busiest other processes: " + ", ".join(verdict.busiest))
    lines.append(
        f"Run it again when the machine is quiet, or pass {ALLOW_BUSY_FLAG} ({ALLOW_BUSY_ENV}=1) to write the "
        "table anyway with a note that the machine was busy."
    )
    return "\n".join(lines)
