#!/usr/bin/env python3
"""Multi-line infilling: 2 to 12 whole lines masked in real functions, Pylot beside llama-server /infill.

Two sets (benchmarks/_spans.py): HumanEval's canonical solutions, scored by running the problems'
tests, and functions of real Python modules, scored by exact match and edit similarity. Each mask is
asked for in two forms: at a line boundary (the prompt ends with a newline, the suffix starts on the
next line), and with the cursor on an empty indented line (the suffix starts with a newline). Anchors
in the same run, same model: llama-server /infill with llama.vscode's request, its raw answer, and the
raw answer trimmed at the first line that repeats the suffix's next line.

    python benchmarks/multiline_infill.py [--model ID] [--limit N]
    python benchmarks/multiline_infill.py --replay [--model ID]   # the pipeline on recorded output, no table
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_busy_flag, pct, write_results
from _scoring import exact, pass_rate, similarity
from _servers import LLAMA_VSCODE_INFILL, llama_server, pylot_server
from _spans import FORMS, Item, build

# llama.vscode's request without its time caps, so that machine load cannot change the answers.
LLAMA_VSCODE = {**LLAMA_VSCODE_INFILL, "prompt": ""}


def trim_at_suffix(answer: str, item: Item) -> str:
    """Cut where the answer starts repeating the suffix's next non-blank line; at a line boundary the
    kept lines end with a newline, so that the suffix goes on on a line of its own."""
    following = next((ln.strip() for ln in item.suffix.split("\n") if ln.strip()), None)
    lines = answer.split("\n")
    for i, line in enumerate(lines):
        if following is not None and line.strip() == following:
            answer = "\n".join(lines[:i]) + ("\n" if i else "")
            break
    if item.form == "boundary" and answer.strip() and not answer.endswith("\n"):
        answer += "\n"
    return answer


def ask_all(name: str, ask: Callable[[Item], str], items: list[Item]) -> tuple[list[str], list[float]]:
    out, times = [], []
    for i, item in enumerate(items):
        t = time.perf_counter()
        out.append(ask(item))
        times.append(time.perf_counter() - t)
        print(f"  {name} {i + 1}/{len(items)} {item.id} {times[-1]:.2f}s", flush=True)
    return out, times


def scores(items: list[Item], answers: list[str]) -> dict[str, float]:
    """pass@1 on HumanEval spans; exact match and edit similarity on repository spans."""
    he = [(it, a) for it, a in zip(items, answers, strict=True) if it.span.set == "humaneval"]
    repo = [(it, a) for it, a in zip(items, answers, strict=True) if it.span.set == "repo"]
    programs = [f"{it.prefix}{a}{it.suffix}\n{it.span.test}\ncheck({it.span.entry_point})\n" for it, a in he]
    return {
        "humaneval pass@1": pass_rate(programs),
        "repo exact": sum(exact(a, it.truth) for it, a in repo) / max(1, len(repo)),
        "repo edit sim": sum(similarity(a, it.truth) for it, a in repo) / max(1, len(repo)),
    }


def table(items: list[Item], answers: dict[str, tuple[list[str], list[float]]]) -> list[dict[str, str]]:
    rows = []
    for form in FORMS:
        picked = [i for i, it in enumerate(items) if it.form == form]
        subset = [items[i] for i in picked]
        anchor = scores(subset, [answers["trimmed"][0][i] for i in picked])
        for label, key in (
            ("llama-server /infill, raw", "raw"),
            ("llama-server /infill, trimmed at the suffix (anchor)", "trimmed"),
            ("Pylot /v1/completions", "pylot"),
        ):
            got = anchor if key == "trimmed" else scores(subset, [answers[key][0][i] for i in picked])
            times = [answers[key][1][i] for i in picked]
            rows.append(
                {
                    "form": form,
                    "target": label,
                    "spans": str(len(subset) // 2),
                    **{k: f"{v:.3f}" for k, v in got.items()},
                    "pass@1 - anchor": f"{got['humaneval pass@1'] - anchor['humaneval pass@1']:+.3f}",
                    "p50 s": f"{pct(times, 0.5):.2f}",
                    "p95 s": f"{pct(times, 0.95):.2f}",
                }
            )
    return rows


def replay(model: str, items: list[Item]) -> None:
    """Score the pipeline as it is now on recorded greedy output (a rule change costs seconds, not minutes)."""
    from _replay import complete, pipeline_for, replay_engine

    engine = replay_engine(model)
    pipeline = pipeline_for(engine)
    answers = []
    for i, item in enumerate(items):
        answers.append(complete(pipeline, item.prefix, item.suffix))
        if engine.generated and i % 10 == 9:
            print(f"  recorded {engine.generated}, {i + 1}/{len(items)}", flush=True)
    for form in FORMS:
        picked = [(it, a) for it, a in zip(items, answers, strict=True) if it.form == form]
        got = scores([p[0] for p in picked], [p[1] for p in picked])
        print(f"{model} {form:10s} " + "  ".join(f"{k} {v:.3f}" for k, v in got.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--limit", type=int, default=20, help="spans per set, spread over the sources (0: all)")
    parser.add_argument("--replay", action="store_true", help="score the pipeline on recorded output; no table")
    add_busy_flag(parser)
    args = parser.parse_args()
    items = build(args.limit)
    if args.replay:
        replay(args.model, items)
        return

    client = httpx.Client(timeout=600)
    answers: dict[str, tuple[list[str], list[float]]] = {}
    with pylot_server(args.model, "completion: {time_limit_s: 60}\n") as url:

        def ask_pylot(item: Item) -> str:
            body = {"prompt": item.prefix, "suffix": item.suffix, "language": "python", "temperature": 0.0}
            r = client.post(f"{url}/v1/completions", json=body)
            r.raise_for_status()
            return str(r.json()["choices"][0]["text"])

        answers["pylot"] = ask_all("pylot", ask_pylot, items)
    with llama_server(args.model) as url:

        def ask_llama(item: Item) -> str:
            r = client.post(
                f"{url}/infill", json={**LLAMA_VSCODE, "input_prefix": item.prefix, "input_suffix": item.suffix}
            )
            r.raise_for_status()
            return str(r.json()["content"])

        answers["raw"] = ask_all("llama-server", ask_llama, items)
    trimmed = [trim_at_suffix(a, it) for a, it in zip(answers["raw"][0], items, strict=True)]
    answers["trimmed"] = (trimmed, answers["raw"][1])
    notes = [
        f"Model {args.model}, 2 threads, n_ctx 4096. {len(items) // 4} HumanEval spans (canonical solutions, "
        f"scored by the problems' tests) and {len(items) // 4} spans of real modules (exact match, edit similarity), "
        "2-12 whole lines each: a block's body, a branch, or the rest of a function.",
        "boundary: the prompt ends at a line's end, the suffix starts on the next line; empty-line: the cursor on "
        "an empty line indented like the span, the suffix starts with a newline.",
        "llama-server gets llama.vscode's /infill request (n_predict 128, top_k 40, top_p 0.99, infill sampler) "
        "without its time caps; 'trimmed' cuts it at the first line repeating the suffix's next line.",
        "Pylot gets the same prefix and suffix on /v1/completions, greedy, language=python, time limit 60 s.",
    ]
    slug = args.model.replace(".", "_")
    write_results(f"multiline_{slug}", f"Multi-line infilling, {args.model}", table(items, answers), notes)


if __name__ == "__main__":
    main()
