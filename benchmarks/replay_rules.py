#!/usr/bin/env python3
"""Score the completion rules as they are now on every set at once, from recorded greedy output.

A development tool (benchmarks/_replay.py): each distinct prompt is generated once per model and kept
under ~/.cache/pylot/bench-replay/, so after the first run a rule change is scored in seconds on
multi-line spans (HumanEval and real modules, both request forms), HumanEval single-line and random
spans, and the rest-of-line exactness of typing real lines key by key. Keep a rule only where it helps
on more than one set and with both models. No results table: the figures that count come from the
benchmarks against real servers.

    python benchmarks/replay_rules.py [--model ID] [--spans N] [--humaneval N] [--lines N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _replay import complete, pipeline_for, replay_engine
from _scoring import pass_rate
from _spans import FORMS, build
from humaneval_infill import check_program, load
from keystroke_latency import keystrokes, typing_lines
from multiline_infill import scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--spans", type=int, default=20, help="multi-line spans per set")
    parser.add_argument("--humaneval", type=int, default=100, help="HumanEval items per set (0: skip)")
    parser.add_argument("--lines", type=int, default=12, help="lines typed key by key (0: skip)")
    parser.add_argument("--show", action="store_true", help="print each multi-line answer beside the truth")
    parser.add_argument("--threads", type=int, default=2, help="1 leaves a core to whatever else runs")
    args = parser.parse_args()
    engine = replay_engine(args.model, threads=args.threads)
    pipeline = pipeline_for(engine)

    items = build(args.spans)
    answers = [complete(pipeline, it.prefix, it.suffix) for it in items]
    for form in FORMS:
        picked = [(it, a) for it, a in zip(items, answers, strict=True) if it.form == form]
        got = scores([p[0] for p in picked], [p[1] for p in picked])
        print(f"multi-line {form:10s} " + "  ".join(f"{k} {v:.3f}" for k, v in got.items()), flush=True)
    if args.show:
        for it, a in zip(items, answers, strict=True):
            print(f"--- {it.id}\n{it.truth!r}\n{a!r}")

    if args.humaneval:
        for name in ("single", "span"):
            rows = load(name, args.humaneval)
            middles = [complete(pipeline, r["prompt"], r["suffix"]) for r in rows]
            rate = pass_rate([check_program(r, m) for r, m in zip(rows, middles, strict=True)])
            print(f"humaneval {name:7s} pass@1 {rate:.3f} ({len(rows)} items)", flush=True)

    if args.lines:
        typing = pipeline_for(engine, typeahead_entries=128)  # as the server runs: type-ahead on
        exact = total = 0
        for lines, index in typing_lines(args.lines):
            for before, typed, rest, after in keystrokes(lines, index):
                got = complete(typing, before + typed, after)
                exact += got.split("\n", 1)[0].rstrip() == rest.rstrip()
                total += 1
        print(f"keystrokes rest-of-line exact {exact}/{total} = {exact / max(1, total):.3f}", flush=True)
    print(f"({engine.generated} new recordings)")


if __name__ == "__main__":
    main()
