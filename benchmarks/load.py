#!/usr/bin/env python3
"""Load: many clients at once for minutes, then streams cut half-way. Does the server stay up, answer
everyone, keep its memory flat and empty its queue?

32 clients (asyncio, one HTTP connection each) loop for --seconds. Each sends, in turn, a completion, a
streamed completion, a chat, a streamed chat, an editor fill-in-the-middle completion and a status
request, on prompts cut from real standard-library code. The anchor, in the same run, is llama.cpp's own
llama-server under the same clients and the same mix: its /v1/completions, /v1/chat/completions, /infill
and /health. Both run 2 threads and one generation at a time. Then 100 streamed completions are opened and
dropped after their first event, 10 at a time, and the queue must be back to 0.

A request fails if it gets a non-2xx answer, the connection breaks, or it takes more than 120 s. The
server's resident memory (RSS) is read after warm-up passes over the mix (the steady state: bounded caches
hold what this working set needs; Pylot's passes go on until its saved prompt states stop growing) and
at the end: it must stay within 50 MB.

    python benchmarks/load.py [--model ID] [--clients 32] [--seconds 300] [--allow-busy]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_busy_flag, pct, source_prompts, write_results
from _servers import llama_server, pylot_server

TIMEOUT_S = 120.0
MAX_TOKENS = 16
KINDS = ("completion", "completion stream", "chat", "chat stream", "editor", "status")
RSS_LIMIT_MB = 50.0


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)

    def fail(self, kind: str, why: str) -> None:
        self.failures[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {why}")

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(self.failures.values())


@dataclass(frozen=True)
class Target:
    """How one server is asked for each kind of request."""

    name: str
    url: str
    pylot: bool

    def request(self, kind: str, prompt: str) -> tuple[str, str, dict[str, Any] | None]:
        sampling = {"max_tokens": MAX_TOKENS, "temperature": 0.2}
        stream = kind.endswith("stream")
        if kind.startswith("completion"):
            return "POST", "/v1/completions", {"prompt": prompt, "stream": stream, **sampling}
        if kind.startswith("chat"):
            question = "In one sentence, what does this code do?\n\n" + prompt[-600:]
            return (
                "POST",
                "/v1/chat/completions",
                {"messages": [{"role": "user", "content": question}], "stream": stream, **sampling},
            )
        if kind == "editor":
            prefix, suffix = prompt, "\n"
            if self.pylot:
                return "POST", "/v1/completions", {"prompt": prefix, "suffix": suffix, "language": "python", **sampling}
            return "POST", "/infill", {"input_prefix": prefix, "input_suffix": suffix, "n_predict": MAX_TOKENS}
        return "GET", "/v1/status" if self.pylot else "/health", None


async def one_client(target: Target, prompts: list[str], index: int, until: float, tally: Tally) -> None:
    async with httpx.AsyncClient(base_url=target.url, timeout=TIMEOUT_S) as client:
        n = index
        while time.monotonic() < until:
            kind = KINDS[n % len(KINDS)]
            method, path, body = target.request(kind, prompts[n % len(prompts)])
            n += 1
            started = time.monotonic()
            try:
                if kind.endswith("stream"):
                    async with client.stream(method, path, json=body) as response:
                        if response.status_code != 200:
                            tally.fail(kind, f"HTTP {response.status_code}")
                            continue
                        async for line in response.aiter_lines():
                            if line.strip() == "data: [DONE]":
                                break
                else:
                    response = await client.request(method, path, json=body)
                    if response.status_code >= 300:
                        tally.fail(kind, f"HTTP {response.status_code}: {response.text[:120]}")
                        continue
            except httpx.HTTPError as exc:
                tally.fail(kind, f"{type(exc).__name__}: {exc}")
                continue
            tally.latencies[kind].append(time.monotonic() - started)


async def warm_up(target: Target, prompts: list[str], clients: int = 4) -> None:
    """Every request of the mix once (each prompt with the kind it is always sent as), so both servers
    start the measured run in their steady state: caches filled to what this working set needs."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(len(prompts)):
        queue.put_nowait(n)

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=target.url, timeout=TIMEOUT_S) as client:
            while not queue.empty():
                n = queue.get_nowait()
                method, path, body = target.request(KINDS[n % len(KINDS)], prompts[n % len(prompts)])
                body = None if body is None else {**body, "stream": False}
                await client.request(method, path, json=body)

    await asyncio.gather(*(worker() for _ in range(clients)))


async def run_load(target: Target, prompts: list[str], clients: int, seconds: float) -> Tally:
    tally = Tally()
    until = time.monotonic() + seconds
    await asyncio.gather(*(one_client(target, prompts, i, until, tally) for i in range(clients)))
    return tally


async def cut_streams(target: Target, prompts: list[str], count: int = 100, at_once: int = 10) -> tuple[int, float]:
    """Open `count` streamed completions, drop each after its first event; (dropped, seconds to an empty queue)."""
    dropped = 0

    async def cut(i: int) -> None:
        nonlocal dropped
        body = {"prompt": prompts[i % len(prompts)], "max_tokens": 200, "stream": True}
        async with (
            httpx.AsyncClient(base_url=target.url, timeout=TIMEOUT_S) as client,
            client.stream("POST", "/v1/completions", json=body) as response,
        ):
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    dropped += 1
                    return  # leaving the block closes the connection mid-stream

    for start in range(0, count, at_once):
        await asyncio.gather(*(cut(i) for i in range(start, min(count, start + at_once))))
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=target.url, timeout=30) as client:
        while time.monotonic() - started < 120:
            if (await client.get("/v1/status")).json()["queue_depth"] == 0:
                break
            await asyncio.sleep(0.2)
    return dropped, time.monotonic() - started


def server_process(url: str) -> psutil.Process:
    port = url.rsplit(":", 1)[1]
    for proc in psutil.Process().children(recursive=True):
        try:
            if any(c.laddr.port == int(port) and c.status == psutil.CONN_LISTEN for c in proc.net_connections()):
                return proc
        except psutil.Error:
            continue
    raise SystemExit(f"no child process listens on {url}")


def prompt_cache_bytes(target: Target) -> list[float]:
    """[bytes held by Pylot's saved prompt states] (0 for llama-server, whose /health does not say)."""
    if not target.pylot:
        return [0.0]
    status = httpx.get(f"{target.url}/v1/status", timeout=30).json()
    return [float((status.get("model", {}).get("prompt_cache") or {}).get("bytes", 0))]


def rss_mb(proc: psutil.Process) -> float:
    return float(proc.memory_info().rss) / 2**20


def measure(target: Target, prompts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    proc = server_process(target.url)
    # Steady state first: the mix twice, and for Pylot on until its bounded prompt cache stops growing
    # (at most 5 passes), so RSS growth measures leaks, not caches filling to their budget.
    passes, cache = 0, prompt_cache_bytes(target)
    while passes < 2 or (target.pylot and passes < 5 and cache[-1] > cache[-2]):
        print(f"{target.name}: warm-up pass {passes + 1}, each of {len(prompts)} requests once", flush=True)
        asyncio.run(warm_up(target, prompts))
        passes += 1
        cache.append(prompt_cache_bytes(target)[0])
    rss_start = rss_mb(proc)
    print(f"{target.name}: {args.clients} clients for {args.seconds} s", flush=True)
    started = time.monotonic()
    tally = asyncio.run(run_load(target, prompts, args.clients, args.seconds))
    elapsed = time.monotonic() - started
    rss_end = rss_mb(proc)
    out: dict[str, Any] = {
        "tally": tally,
        "elapsed": elapsed,
        "rss": (rss_start, rss_end),
        "warm_up_passes": passes,
        "prompt_cache_mb": (cache[-1] / 2**20, prompt_cache_bytes(target)[0] / 2**20),
    }
    if target.pylot:
        print(f"{target.name}: cutting 100 streams", flush=True)
        out["cut"] = asyncio.run(cut_streams(target, prompts))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=300.0)
    add_busy_flag(parser)
    args = parser.parse_args()
    prompts = [p[-1500:] for p in source_prompts(60)]

    with pylot_server(args.model, "cache: {enabled: false}\n") as url:
        pylot = measure(Target("Pylot", url, True), prompts, args)
    with llama_server(args.model) as url:
        anchor = measure(Target("llama-server", url, False), prompts, args)

    rows, notes = [], []
    for name, result in (("llama-server (anchor)", anchor), ("Pylot", pylot)):
        tally: Tally = result["tally"]
        generation = [t for k, v in tally.latencies.items() if k != "status" for t in v]
        rss_start, rss_end = result["rss"]
        rows.append(
            {
                "server": name,
                "requests": tally.total,
                "failed": sum(tally.failures.values()),
                "per minute": f"{tally.total / result['elapsed'] * 60:.0f}",
                "generation p50 s": f"{pct(generation, 0.5):.2f}" if generation else "-",
                "generation p95 s": f"{pct(generation, 0.95):.2f}" if generation else "-",
                "status p95 s": f"{pct(tally.latencies['status'], 0.95):.3f}" if tally.latencies["status"] else "-",
                "RSS start / end MB": f"{rss_start:.0f} / {rss_end:.0f}",
            }
        )
        if tally.examples:
            notes.append(f"{name} failures, first few: " + "; ".join(tally.examples))
    p_tally: Tally = pylot["tally"]
    a_tally: Tally = anchor["tally"]
    dropped, drain_s = pylot["cut"]
    growth = pylot["rss"][1] - pylot["rss"][0]
    ratio = (p_tally.total / pylot["elapsed"]) / max(a_tally.total / anchor["elapsed"], 1e-9)
    notes += [
        f"Model {args.model}, 2 threads, one generation at a time on both; {args.clients} clients for "
        f"{args.seconds:.0f} s each; max_tokens {MAX_TOKENS}; request mix: {', '.join(KINDS)}; "
        "Pylot's result cache off.",
        f"Throughput ratio (Pylot / llama-server requests per minute): **{ratio:.2f}**.",
        f"Pylot failures: {sum(p_tally.failures.values())} (goal 0); RSS growth {growth:+.0f} MB (goal within "
        f"{RSS_LIMIT_MB:.0f} MB).",
        f"Streams cut after their first event: {dropped} of 100; the queue was back to 0 {drain_s:.1f} s later.",
        f"RSS start is read after warm-up passes over the mix (llama-server {anchor['warm_up_passes']}, Pylot "
        f"{pylot['warm_up_passes']}: until its saved prompt states stopped growing); Pylot's saved states held "
        f"{pylot['prompt_cache_mb'][0]:.0f} MB then and {pylot['prompt_cache_mb'][1]:.0f} MB at the end.",
    ]
    write_results("load", "Load: 32 clients, then streams cut half-way", rows, notes)


if __name__ == "__main__":
    main()
