#!/usr/bin/env python3
"""Completion quality: HumanEval infilling, pass@1, through Pylot's API beside llama-server /infill.

Each item's middle is asked for with the text before and after it; the answer is spliced in and the
problem's own tests run in a subprocess (isolated mode, a scratch directory, a timeout). Anchors in the
same run, same model: llama-server /infill with llama.vscode's request, its raw output and its first
line only.

    python benchmarks/humaneval_infill.py [--model ID] [--set single|span|both] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_busy_flag, pct, write_results
from _scoring import pass_rate
from _servers import LLAMA_VSCODE_INFILL, ROOT, llama_server, pylot_server

DATA = ROOT.parent / "shared" / "bench-data" / "human-eval-infilling"
SETS = {"single": "HumanEval-SingleLineInfilling.jsonl.gz", "span": "HumanEval-RandomSpanInfillingLight.jsonl.gz"}

# llama.vscode's request without its time caps, so that machine load cannot change the answers.
LLAMA_VSCODE = {**LLAMA_VSCODE_INFILL, "prompt": ""}


def load(name: str, limit: int) -> list[dict[str, Any]]:
    path = DATA / SETS[name]
    if not path.exists():
        sys.exit(f"benchmark data not found: {path}")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    if limit and limit < len(rows):
        step = len(rows) / limit
        rows = [rows[int(i * step)] for i in range(limit)]  # spread over all problems
    return rows


def check_program(item: dict[str, Any], middle: str) -> str:
    return f"{item['prompt']}{middle}{item['suffix']}\n{item['test']}\ncheck({item['entry_point']})\n"


def first_line(text: str) -> str:
    head, sep, _ = text.partition("\n")
    return head + sep


def run_pylot(url: str, items: list[dict[str, Any]]) -> tuple[list[str], list[float]]:
    client = httpx.Client(timeout=600)
    out, times = [], []
    for i, item in enumerate(items):
        t = time.perf_counter()
        r = client.post(
            f"{url}/v1/completions",
            json={"prompt": item["prompt"], "suffix": item["suffix"], "language": "python", "temperature": 0.0},
        )
        r.raise_for_status()
        times.append(time.perf_counter() - t)
        out.append(r.json()["choices"][0]["text"])
        print(f"  pylot {i + 1}/{len(items)} {times[-1]:.2f}s", flush=True)
    return out, times


def run_llama_server(url: str, items: list[dict[str, Any]]) -> tuple[list[str], list[float]]:
    client = httpx.Client(timeout=600)
    out, times = [], []
    for i, item in enumerate(items):
        t = time.perf_counter()
        r = client.post(
            f"{url}/infill", json={**LLAMA_VSCODE, "input_prefix": item["prompt"], "input_suffix": item["suffix"]}
        )
        r.raise_for_status()
        times.append(time.perf_counter() - t)
        out.append(r.json()["content"])
        print(f"  llama-server {i + 1}/{len(items)} {times[-1]:.2f}s", flush=True)
    return out, times


def score(items: list[dict[str, Any]], middles: list[str]) -> float:
    return pass_rate([check_program(item, middle) for item, middle in zip(items, middles, strict=True)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--set", choices=["single", "span", "both"], default="both")
    parser.add_argument("--limit", type=int, default=100, help="items per set, spread over the problems (0: all)")
    add_busy_flag(parser)
    args = parser.parse_args()
    sets = ["single", "span"] if args.set == "both" else [args.set]
    data = {name: load(name, args.limit) for name in sets}

    answers: dict[tuple[str, str], tuple[list[str], list[float]]] = {}
    with pylot_server(args.model, "completion: {time_limit_s: 60}\n") as url:
        for name in sets:
            print(f"Pylot, {name}: {len(data[name])} items", flush=True)
            answers[("pylot", name)] = run_pylot(url, data[name])
    with llama_server(args.model) as url:
        for name in sets:
            print(f"llama-server, {name}: {len(data[name])} items", flush=True)
            answers[("llama", name)] = run_llama_server(url, data[name])

    rows = []
    for name in sets:
        items = data[name]
        raw, raw_t = answers[("llama", name)]
        mine, mine_t = answers[("pylot", name)]
        anchor = score(items, [first_line(t) for t in raw])
        for label, middles, times in (
            ("llama-server /infill, raw", raw, raw_t),
            ("llama-server /infill, first line (anchor)", [first_line(t) for t in raw], raw_t),
            ("Pylot /v1/completions", mine, mine_t),
        ):
            p = anchor if "anchor" in label else score(items, middles)
            rows.append(
                {
                    "set": name,
                    "target": label,
                    "items": len(items),
                    "pass@1": f"{p:.3f}",
                    "vs anchor": f"{p / anchor:.2f}x" if anchor else "n/a",
                    "p50 s": f"{pct(times, 0.5):.2f}",
                    "p95 s": f"{pct(times, 0.95):.2f}",
                }
            )
    notes = [
        f"Model {args.model}; both servers greedy or llama.vscode's sampling, 2 threads, n_ctx 4096.",
        "llama-server gets llama.vscode's /infill request (n_predict 128, top_k 40, top_p 0.99, infill sampler) "
        "without its time caps; 'first line' keeps its output up to and including the first newline.",
        "Pylot gets the same prefix and suffix on /v1/completions with language=python and its default pipeline.",
        "Latencies are per item, cold (no keystroke history), on this machine while it ran.",
    ]
    slug = args.model.replace(".", "_")
    write_results(f"humaneval_{slug}", f"HumanEval infilling pass@1, {args.model}", rows, notes)


if __name__ == "__main__":
    main()
