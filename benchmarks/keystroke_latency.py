#!/usr/bin/env python3
"""Latency per keystroke: type real lines of real source files key by key, as an editor sends them.

For each line, the document holds everything before it and everything after it; the line is typed one
character at a time and every keystroke asks for a completion, waiting for the answer before the next
key (no debounce: every keystroke is measured). Pylot gets /v1/completions with an editor session;
the anchor, in the same run with the same model, is llama-server /infill with llama.vscode's request
(256 lines before the cursor, 64 after). Reported: p50 / p95 per keystroke, their ratio, and how often
the suggestion's first line is exactly the rest of the line the user goes on to type.

    python benchmarks/keystroke_latency.py [--model ID] [--lines N]
"""

from __future__ import annotations

import argparse
import json.decoder
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import pct, write_results
from _servers import llama_server, pylot_server

LLAMA_VSCODE = {
    "n_predict": 128,
    "top_k": 40,
    "top_p": 0.99,
    "samplers": ["top_k", "top_p", "infill"],
    "cache_prompt": True,
    "stream": False,
    "input_extra": [],
    "t_max_prompt_ms": 500,
    "t_max_predict_ms": 1000,
}


def typing_lines(count: int) -> list[tuple[list[str], int]]:
    """(file lines, index of the line to type): non-trivial code lines of json/decoder.py, spread out."""
    lines = Path(json.decoder.__file__).read_text(encoding="utf-8").splitlines(keepends=True)
    picks = [
        i
        for i, ln in enumerate(lines)
        if 20 <= len(ln.strip()) <= 60 and not ln.strip().startswith(("#", '"')) and i > 40
    ]
    step = max(1, len(picks) // count)
    return [(lines, i) for i in picks[::step][:count]]


def keystrokes(lines: list[str], index: int) -> list[tuple[str, str, str, str]]:
    """(text before the cursor's line, typed part of the line, rest of the line, text after the line)."""
    line = lines[index].rstrip("\n")
    indent = len(line) - len(line.lstrip())
    before = "".join(lines[max(0, index - 256) : index])
    after = "\n" + "".join(lines[index + 1 : index + 1 + 64])
    return [(before, line[:k], line[k:], after) for k in range(indent, len(line))]


def replay(name: str, ask, items: list[tuple[list[str], int]]):  # type: ignore[no-untyped-def]
    times: list[float] = []
    exact = 0
    total = 0
    for lines, index in items:
        for before, typed, rest, after in keystrokes(lines, index):
            t = time.perf_counter()
            suggestion = ask(before, typed, after)
            times.append(time.perf_counter() - t)
            total += 1
            exact += suggestion.split("\n", 1)[0].rstrip() == rest.rstrip()
        print(f"  {name}: {total} keystrokes, p50 {pct(times, 0.5):.3f}s", flush=True)
    return times, exact, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--lines", type=int, default=3)
    args = parser.parse_args()
    items = typing_lines(args.lines)
    client = httpx.Client(timeout=600)

    with pylot_server(args.model) as url:

        def ask_pylot(before: str, typed: str, after: str) -> str:
            r = client.post(
                f"{url}/v1/completions",
                headers={"X-Pylot-Session": "bench"},
                json={"prompt": before + typed, "suffix": after, "language": "python"},
            )
            r.raise_for_status()
            return str(r.json()["choices"][0]["text"])

        ask_pylot(*keystrokes(*items[0])[0][:2], keystrokes(*items[0])[0][3])  # load the model's first prompt
        pylot_t, pylot_exact, n = replay("pylot", ask_pylot, items)

    with llama_server(args.model) as url:

        def ask_llama(before: str, typed: str, after: str) -> str:
            r = client.post(
                f"{url}/infill", json={**LLAMA_VSCODE, "input_prefix": before, "prompt": typed, "input_suffix": after}
            )
            r.raise_for_status()
            return str(r.json()["content"])

        ask_llama(*keystrokes(*items[0])[0][:2], keystrokes(*items[0])[0][3])
        llama_t, llama_exact, _ = replay("llama-server", ask_llama, items)

    rows = [
        {
            "target": "llama-server /infill, llama.vscode request (anchor)",
            "keystrokes": n,
            "p50 s": f"{pct(llama_t, 0.5):.3f}",
            "p95 s": f"{pct(llama_t, 0.95):.3f}",
            "p50 ratio": "1.00",
            "rest of line exact": f"{llama_exact}/{n}",
        },
        {
            "target": "Pylot /v1/completions",
            "keystrokes": n,
            "p50 s": f"{pct(pylot_t, 0.5):.3f}",
            "p95 s": f"{pct(pylot_t, 0.95):.3f}",
            "p50 ratio": f"{pct(pylot_t, 0.5) / pct(llama_t, 0.5):.2f}",
            "rest of line exact": f"{pylot_exact}/{n}",
        },
    ]
    notes = [
        f"Model {args.model}, 2 threads, n_ctx 4096; {len(items)} lines of json/decoder.py typed key by key "
        "(after the indentation), each keystroke waiting for its answer.",
        "Both get 256 lines before and 64 after the cursor; Pylot windows them itself (default: 8 lines after).",
        "Goal: Pylot p50 at most 0.3 s and p95 at most 1.0 s on 2 cores.",
    ]
    write_results(f"keystroke_{args.model.replace('.', '_')}", f"Keystroke latency, {args.model}", rows, notes)


if __name__ == "__main__":
    main()
