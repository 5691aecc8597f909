"""Helpers shared by the benchmarks: real source text, percentiles, results tables."""

from __future__ import annotations

import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import psutil

RESULTS = Path(__file__).resolve().parent / "results"


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


def write_results(name: str, title: str, rows: list[dict[str, Any]], notes: list[str]) -> Path:
    """Write benchmarks/results/<name>.md (a table) and <name>.json (the raw numbers)."""
    RESULTS.mkdir(exist_ok=True)
    headers = list(rows[0])
    md = [f"# {title}", "", f"Run {time.strftime('%Y-%m-%d %H:%M')} on {machine()}.", ""]
    md.append("| " + " | ".join(headers) + " |")
    md.append("|" + "---|" * len(headers))
    for row in rows:
        md.append("| " + " | ".join(str(row[h]) for h in headers) + " |")
    md += ["", *notes, ""]
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(md), encoding="utf-8")
    (RESULTS / f"{name}.json").write_text(json.dumps({"title": title, "rows": rows, "notes": notes}, indent=2))
    print("\n".join(md))
    return path
