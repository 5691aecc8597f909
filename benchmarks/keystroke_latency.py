#!/usr/bin/env python3
"""Latency per keystroke: type real lines of real source files key by key, as an editor sends them.

For each line, the document holds everything before it and everything after it; the line is typed one
character at a time and every keystroke asks for a completion, waiting for the answer before the next
key (no debounce: every keystroke is measured). Pylot gets /v1/completions with an editor session;
the anchor, in the same run with the same model, is llama-server /infill with llama.vscode's request
(256 lines before the cursor, 64 after). Both servers run at once and every keystroke goes to both in
turn, so a change in machine load affects both alike. Reported: p50 / p95 per keystroke, their ratio, and how often
the suggestion's first line is exactly the rest of the line the user goes on to type.

    python benchmarks/keystroke_latency.py [--model ID] [--lines N]
"""

from __future__ import annotations

import argparse
import json.decoder
import statistics
import sys
import textwrap
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_busy_flag, pct, write_results
from _servers import LLAMA_VSCODE_INFILL, llama_server, pylot_server
from _warmup import first_keystroke

LLAMA_VSCODE = {**LLAMA_VSCODE_INFILL, "t_max_prompt_ms": 500, "t_max_predict_ms": 1000}
SOURCES = tuple(Path(m.__file__) for m in (json.decoder, textwrap, statistics))


def typing_lines(count: int) -> list[tuple[list[str], int]]:
    """(file lines, index of the line to type): non-trivial code lines of three standard-library files,
    taken from each in turn and spread over each file."""
    per_file: list[list[tuple[list[str], int]]] = []
    for path in SOURCES:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        picks = [
            i
            for i, ln in enumerate(lines)
            if 20 <= len(ln.strip()) <= 60 and not ln.strip().startswith(("#", '"', "'")) and i > 40
        ]
        wanted = -(-count // len(SOURCES))
        step = max(1, len(picks) // wanted)
        per_file.append([(lines, i) for i in picks[step // 2 :: step][:wanted]])
    mixed = [pair for group in zip(*per_file, strict=False) for pair in group]
    return mixed[:count]


def keystrokes(lines: list[str], index: int) -> list[tuple[str, str, str, str]]:
    """(text before the cursor's line, typed part of the line, rest of the line, text after the line)."""
    line = lines[index].rstrip("\n")
    indent = len(line) - len(line.lstrip())
    before = "".join(lines[max(0, index - 256) : index])
    after = "\n" + "".join(lines[index + 1 : index + 1 + 64])
    return [(before, line[:k], line[k:], after) for k in range(indent, len(line))]


def replay(asks: dict, items: list[tuple[list[str], int]]) -> dict[str, tuple[list[float], int]]:  # type: ignore[type-arg]
    """Every keystroke goes to every target in turn (alternating who goes first), so load drift hits both."""
    results: dict[str, tuple[list[float], int]] = {name: ([], 0) for name in asks}
    total = 0
    for lines, index in items:
        for before, typed, rest, after in keystrokes(lines, index):
            order = list(asks.items()) if total % 2 == 0 else list(reversed(asks.items()))
            for name, ask in order:
                t = time.perf_counter()
                suggestion = ask(before, typed, after)
                times, exact = results[name]
                times.append(time.perf_counter() - t)
                results[name] = (times, exact + (suggestion.split("\n", 1)[0].rstrip() == rest.rstrip()))
            total += 1
        print("  " + ", ".join(f"{n}: p50 {pct(r[0], 0.5):.3f}s" for n, r in results.items()), flush=True)
    return results


def row(target: str, times: list[float], exact: int, anchor_p50: float | None) -> dict[str, str]:
    n = len(times)
    return {
        "target": target,
        "keystrokes": str(n),
        "p50 s": f"{pct(times, 0.5):.3f}",
        "p95 s": f"{pct(times, 0.95):.3f}",
        "p50 ratio": f"{pct(times, 0.5) / anchor_p50:.4f}" if anchor_p50 else "1.00",
        "rest of line exact": f"{exact}/{n} ({exact / max(1, n):.2f})",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--lines", type=int, default=12, help="lines typed, from three files in turn")
    parser.add_argument("--anchor-lines", type=int, default=3, help="of those, the first N also go to llama-server")
    add_busy_flag(parser)
    args = parser.parse_args()
    items = typing_lines(args.lines)
    shared, alone = items[: args.anchor_lines], items[args.anchor_lines :]
    client = httpx.Client(timeout=600)

    with pylot_server(args.model) as pylot_url, llama_server(args.model) as llama_url:

        def ask_pylot(before: str, typed: str, after: str) -> str:
            r = client.post(
                f"{pylot_url}/v1/completions",
                headers={"X-Pylot-Session": "bench"},
                json={"prompt": before + typed, "suffix": after, "language": "python"},
            )
            r.raise_for_status()
            return str(r.json()["choices"][0]["text"])

        def ask_llama(before: str, typed: str, after: str) -> str:
            r = client.post(
                f"{llama_url}/infill",
                json={**LLAMA_VSCODE, "input_prefix": before, "prompt": typed, "input_suffix": after},
            )
            r.raise_for_status()
            return str(r.json()["content"])

        first = keystrokes(*items[0])[0]
        ask_pylot(first[0], first[1], first[3])  # both start warm: the model loaded, a first prompt seen
        ask_llama(first[0], first[1], first[3])
        both = replay({"pylot": ask_pylot, "llama": ask_llama}, shared)
        more = replay({"pylot": ask_pylot}, alone)["pylot"] if alone else ([], 0)
    with pylot_server(args.model, "completion: {typeahead_entries: 0}\n") as url:
        firsts = [first_keystroke(url, lines, index, client=client) for lines, index in items]

    llama_t, llama_exact = both["llama"]
    pylot_t, pylot_exact = both["pylot"]
    rows = [
        row(f"llama-server /infill, llama.vscode request (anchor), {len(shared)} lines", llama_t, llama_exact, None),
        row(f"Pylot /v1/completions, the same {len(shared)} lines", pylot_t, pylot_exact, pct(llama_t, 0.5)),
        row(
            f"Pylot /v1/completions, all {len(items)} lines",
            pylot_t + more[0],
            pylot_exact + more[1],
            pct(llama_t, 0.5),
        ),
    ]
    for label, values in (
        ("Pylot first keystroke of a line, cold", [f.cold_s for f in firsts]),
        ("Pylot first keystroke after a warm-up (max_tokens 0)", [f.warm_s for f in firsts]),
        ("Pylot warm-up request itself", [f.warmup_s for f in firsts]),
    ):
        rows.append(
            {
                "target": label,
                "keystrokes": str(len(values)),
                "p50 s": f"{pct(values, 0.5):.3f}",
                "p95 s": f"{pct(values, 0.95):.3f}",
                "p50 ratio": "",
                "rest of line exact": "",
            }
        )
    names = ", ".join(sorted({p.name for p in SOURCES}))
    notes = [
        f"Model {args.model}, 2 threads, n_ctx 4096; {len(items)} lines of {names} typed key by key "
        "(after the indentation), each keystroke waiting for its answer; the first "
        f"{len(shared)} go to both servers in turn, the rest to Pylot only (llama-server takes seconds a key).",
        "Both get 256 lines before and 64 after the cursor; Pylot windows them itself (default: 24 lines after).",
        "First keystroke: a server with type-ahead off, its cache holding another file; cold, or after the warm-up "
        "an editor sends when it opens the file (benchmarks/_warmup.py).",
        "Goal: Pylot p50 at most 0.3 s and p95 at most 1.0 s on 2 cores.",
    ]
    write_results(f"keystroke_{args.model.replace('.', '_')}", f"Keystroke latency, {args.model}", rows, notes)


if __name__ == "__main__":
    main()
