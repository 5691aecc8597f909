#!/usr/bin/env python3
"""What Pylot's HTTP API costs over calling llama-cpp-python directly.

The same sequence of completion requests (real code from the standard library, greedy, 32 tokens)
goes once through Pylot's /v1/completions on a real server on 127.0.0.1 and once straight into
llama_cpp.Llama.create_completion on the very same loaded model, interleaved so that both see the same
machine load. The KV cache is cleared before every request so neither path profits from the other's
prompt. The ratio of the totals is the overhead (goal: at most 1.05).

    python benchmarks/engine_overhead.py [--model ID] [--requests N]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import pct, source_prompts, write_results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--max-tokens", type=int, default=32)
    args = parser.parse_args()

    import llama_cpp

    from pylot.config.config_manager import ConfigManager
    from pylot.config.settings import ModelSettings, Settings
    from pylot.core.llm_llama_cpp import LlamaLLM, physical_cores
    from pylot.server import LlamaServer

    n_ctx, threads = 2048, physical_cores()
    model_path = Settings().store_dir() / f"{args.model}.gguf"
    cfg = Path(tempfile.mkdtemp()) / "bench.yaml"
    cfg.write_text(
        f"server: {{port: {free_port()}}}\nmodel: {{model: {args.model}, n_ctx: {n_ctx}, n_threads: {threads}}}\n"
        "cache: {enabled: false}\n"
    )
    engine = LlamaLLM(model_path, ModelSettings(n_ctx=n_ctx, n_threads=threads), model_id=args.model)
    server = LlamaServer(ConfigManager(cfg, environ={}), engine=engine, watch_config=False)
    url = server.start()
    direct: llama_cpp.Llama = engine._llm  # the same weights, context and threads the server uses
    sampling = {"temperature": 0.0, "top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.0}
    prompts = source_prompts(args.requests)
    client = httpx.Client(timeout=300)

    def via_http(prompt: str) -> tuple[float, str, int]:
        direct.reset()
        t = time.perf_counter()
        r = client.post(f"{url}/v1/completions", json={"prompt": prompt, "max_tokens": args.max_tokens, **sampling})
        r.raise_for_status()
        body = r.json()
        return time.perf_counter() - t, body["choices"][0]["text"], body["usage"]["completion_tokens"]

    def via_direct(prompt: str) -> tuple[float, str, int]:
        direct.reset()
        t = time.perf_counter()
        out = direct.create_completion(prompt, max_tokens=args.max_tokens, **sampling)
        return time.perf_counter() - t, out["choices"][0]["text"], out["usage"]["completion_tokens"]

    via_http(prompts[0]), via_direct(prompts[0])  # warm both
    http_t, direct_t, same, tokens = [], [], 0, 0
    for i, prompt in enumerate(prompts):
        order = (via_http, via_direct) if i % 2 == 0 else (via_direct, via_http)
        results = {fn.__name__: fn(prompt) for fn in order}
        http_t.append(results["via_http"][0])
        direct_t.append(results["via_direct"][0])
        same += results["via_http"][1] == results["via_direct"][1]
        tokens += results["via_http"][2]
        print(f"{i + 1}/{len(prompts)}  http {http_t[-1]:.3f}s  direct {direct_t[-1]:.3f}s", flush=True)
    server.stop()

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
        f"Model {args.model}, n_ctx {n_ctx}, {threads} threads, greedy, max_tokens {args.max_tokens}, "
        f"{tokens} tokens generated through the API; Pylot's result cache off.",
        f"Identical text from both paths for {same} of {len(prompts)} requests.",
        f"Overhead ratio (HTTP total / direct total): **{ratio:.3f}** (goal at most 1.05).",
    ]
    write_results("engine_overhead", "Engine overhead: Pylot HTTP API vs llama-cpp-python direct", rows, notes)


if __name__ == "__main__":
    main()
