#!/usr/bin/env python3
"""What Pylot's HTTP API costs over calling llama-cpp-python directly.

The same sequence of completion requests (real code from the standard library, greedy, 32 tokens)
goes once through Pylot's /v1/completions and once straight into llama_cpp.Llama.create_completion.
Pylot runs as users run it, `python -m pylot serve`, in its own process; the direct Llama lives in the
benchmark's process, built with the same model file, n_ctx, threads and batch size (Pylot's own
constructor). Requests are interleaved one by one, alternating who goes first, so that both see the
same machine load. Each side keeps its own KV cache, as a long-running server does, and every prompt
is different, so whatever prefix one prompt shares with the one before helps both sides alike. While
one side works the other idles: the CPU time it uses meanwhile is measured and reported. The ratio of
the totals is the overhead (goal: at most 1.05).

    python benchmarks/engine_overhead.py [--model ID] [--requests N] [--allow-busy]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_busy_flag, pct, source_prompts, write_results
from _servers import model_path, pylot_server

N_CTX, THREADS = 2048, 2
SAMPLING: dict[str, Any] = {"temperature": 0.0, "top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.0}


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        t = p.cpu_times()
        total += t.user + t.system
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--max-tokens", type=int, default=32)
    add_busy_flag(parser)
    args = parser.parse_args()

    from pylot.config.settings import ModelSettings
    from pylot.engines.llama_cpp.engine import LlamaLLM

    warm, *prompts = source_prompts(args.requests + 1)
    client = httpx.Client(timeout=300)
    with pylot_server(args.model, "cache: {enabled: false}\n", N_CTX, n_threads=THREADS) as url:
        engine = LlamaLLM(model_path(args.model), ModelSettings(n_ctx=N_CTX, n_threads=THREADS), model_id=args.model)
        direct = engine._llm  # the llama_cpp.Llama Pylot would build: same weights, context, threads, batch
        served_ctx = client.get(f"{url}/v1/models").json()["data"][0]["meta"]["n_ctx"]
        if served_ctx != direct.n_ctx():
            sys.exit(f"the server runs with n_ctx {served_ctx}, the direct side with {direct.n_ctx()}")
        me = psutil.Process()
        server = me.children(recursive=True)  # the Pylot server process (and anything it started)

        def via_http(prompt: str) -> tuple[float, str, int]:
            t = time.perf_counter()
            r = client.post(f"{url}/v1/completions", json={"prompt": prompt, "max_tokens": args.max_tokens, **SAMPLING})
            r.raise_for_status()
            body = r.json()
            return time.perf_counter() - t, body["choices"][0]["text"], body["usage"]["completion_tokens"]

        def via_direct(prompt: str) -> tuple[float, str, int]:
            t = time.perf_counter()
            out: Any = direct.create_completion(prompt, max_tokens=args.max_tokens, **SAMPLING)
            return time.perf_counter() - t, out["choices"][0]["text"], out["usage"]["completion_tokens"]

        # The CPU the idle side uses while the other works: near zero unless its threads spin.
        idle_cpu = {"via_http": 0.0, "via_direct": 0.0}
        idle_of = {"via_http": [me], "via_direct": server}

        def timed(fn: Callable[[str], tuple[float, str, int]], prompt: str) -> tuple[float, str, int]:
            before = cpu_seconds(idle_of[fn.__name__])
            result = fn(prompt)
            idle_cpu[fn.__name__] += cpu_seconds(idle_of[fn.__name__]) - before
            return result

        via_http(warm), via_direct(warm)  # both loaded, both with a prompt in their KV cache
        http_t, direct_t, same, tokens = [], [], 0, 0
        for i, prompt in enumerate(prompts):
            order = (via_http, via_direct) if i % 2 == 0 else (via_direct, via_http)
            results = {fn.__name__: timed(fn, prompt) for fn in order}
            http_t.append(results["via_http"][0])
            direct_t.append(results["via_direct"][0])
            same += results["via_http"][1] == results["via_direct"][1]
            tokens += results["via_http"][2]
            print(f"{i + 1}/{len(prompts)}  http {http_t[-1]:.3f}s  direct {direct_t[-1]:.3f}s", flush=True)
        engine.close()

    ratio = sum(http_t) / sum(direct_t)
    rows = [
        {
            "path": "llama-cpp-python direct (anchor)",
            "requests": len(prompts),
            "total s": f"{sum(direct_t):.2f}",
            "p50 s": f"{pct(direct_t, 0.5):.3f}",
            "p95 s": f"{pct(direct_t, 0.95):.3f}",
            "ratio": "1.000",
        },
        {
            "path": "Pylot HTTP /v1/completions",
            "requests": len(prompts),
            "total s": f"{sum(http_t):.2f}",
            "p50 s": f"{pct(http_t, 0.5):.3f}",
            "p95 s": f"{pct(http_t, 0.95):.3f}",
            "ratio": f"{ratio:.3f}",
        },
    ]
    notes = [
        f"Model {args.model}, n_ctx {N_CTX}, {THREADS} threads, greedy, max_tokens {args.max_tokens}, "
        f"{tokens} tokens generated through the API; Pylot's result cache off.",
        "Pylot's server in its own process (`python -m pylot serve`), llama_cpp.Llama in the benchmark's; "
        "requests interleaved one by one, alternating who goes first; each side keeps its own KV cache and "
        "every prompt is different.",
        f"While the direct side ran, Pylot's idle server used {idle_cpu['via_direct'] / sum(direct_t):.1%} of "
        f"one core; while Pylot ran, the benchmark's process (HTTP client, idle llama.cpp threads) used "
        f"{idle_cpu['via_http'] / sum(http_t):.1%}.",
        f"Identical text from both paths for {same} of {len(prompts)} requests.",
        f"Overhead ratio (HTTP total / direct total): **{ratio:.3f}** (goal at most 1.05).",
    ]
    slug = args.model.replace(".", "_")
    write_results(
        f"engine_overhead_{slug}",
        f"Engine overhead: Pylot HTTP API vs llama-cpp-python direct, {args.model}",
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
