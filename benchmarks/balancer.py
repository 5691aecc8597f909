#!/usr/bin/env python3
"""What a second llama-server buys: throughput with one and with two servers, and failover time.

Four client threads send completion requests (real code from the standard library, greedy, 16 tokens)
through Pylot's Balancer for a fixed time, first to one llama-server, then to two. Each server runs
with one thread (`-t 1`) so that two servers share the two cores fairly; the single server gets as many
slots as the pair has together. Then, with the four clients still running against two servers, one
server is killed (SIGKILL): we measure the time from its death to the first request it would have
served being answered by the other (a client pinned to it by a session), and count the requests that
were streaming from it when it died.

    python benchmarks/balancer.py [--model smollm2-135m] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_busy_flag, pct, source_prompts, write_results

from pylot.config.settings import Settings, default_home
from pylot.engines.balancer import Balancer, session
from pylot.engines.llama_server.client import ExternalLlamaAPIClient
from pylot.errors import BackendError
from pylot.types import GenerationParams

CLIENTS = 4
PARAMS = GenerationParams(max_tokens=16, temperature=0.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def llama_server_binary() -> Path:
    exe = "llama-server.exe" if os.name == "nt" else "llama-server"
    found = sorted((default_home() / "llama-server").glob(f"*/bin/{exe}"))
    if found:
        return found[-1]
    script = Path(__file__).resolve().parent.parent / "scripts" / "build_llama_server.py"
    out = subprocess.run([sys.executable, str(script)], check=True, capture_output=True, text=True).stdout
    return Path(out.strip().splitlines()[-1])


class Server:
    def __init__(self, model: Path, slots: int, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [str(llama_server_binary()), "-m", str(model), "-t", "1", "-c", str(1024 * slots), "-np", str(slots),
                "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        with (log_dir / f"server-{self.port}.log").open("wb") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit(f"llama-server on {self.url} did not start; see {log_dir}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    first_tokens: list[float] = field(default_factory=list)
    tokens: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def one_request(bal: Balancer, prompt: str) -> tuple[float, float, int]:
    """(time to first token, total time, tokens) of one streamed request."""
    started = time.monotonic()
    first = 0.0
    tokens = 0
    for chunk in bal.stream(prompt, PARAMS):
        if not first:
            first = time.monotonic() - started
        tokens = chunk.completion_tokens
    return first, time.monotonic() - started, tokens


def drive(bal: Balancer, prompts: list[str], stop: threading.Event, run: Run) -> None:
    """One client: requests back to back until told to stop."""
    i = 0
    while not stop.is_set():
        try:
            first, total, tokens = one_request(bal, prompts[i % len(prompts)])
        except BackendError as exc:
            with run.lock:
                run.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        finally:
            i += 1
        with run.lock:
            run.first_tokens.append(first)
            run.latencies.append(total)
            run.tokens += tokens


def clients_for(servers: list[Server]) -> Balancer:
    return Balancer(
        [ExternalLlamaAPIClient(s.url, retries=0, read_timeout_s=120) for s in servers], health_interval_s=0.5
    )


def measure(servers: list[Server], prompts: list[str], seconds: float, min_requests: int) -> dict[str, object]:
    """Four clients for `seconds` (longer, up to 3x, until `min_requests` were answered)."""
    bal = clients_for(servers)
    for c in bal.clients:  # the first request of a server is slower; keep it out of the numbers
        c.generate(prompts[0], PARAMS)
    run, stop = Run(), threading.Event()
    started = time.monotonic()
    threads = [threading.Thread(target=drive, args=(bal, prompts[n::CLIENTS], stop, run)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    while True:
        time.sleep(0.2)
        elapsed = time.monotonic() - started
        if (elapsed >= seconds and len(run.latencies) >= min_requests) or elapsed >= 3 * seconds:
            break
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    bal.close()
    return {
        "servers": len(servers),
        "slots each": 4 // len(servers),
        "requests": len(run.latencies),
        "errors": len(run.errors),
        "tokens/s": round(run.tokens / elapsed, 1),
        "requests/s": round(len(run.latencies) / elapsed, 2),
        "p50 first token s": round(pct(run.first_tokens, 0.5), 2),
        "p50 latency s": round(pct(run.latencies, 0.5), 2),
        "p95 latency s": round(pct(run.latencies, 0.95), 2),
    }


def failover(servers: list[Server], prompts: list[str]) -> dict[str, float | int]:
    """SIGKILL one of two servers while four clients run; one client's session is pinned to the victim."""
    bal = clients_for(servers)
    pinned = "pinned-editor"
    with session(pinned):
        bal.generate(prompts[0], PARAMS)
    victim = next(i for i, s in enumerate(bal.status()) if s["requests"] == 1)
    run, stop = Run(), threading.Event()
    background = [
        threading.Thread(target=drive, args=(bal, prompts[n::CLIENTS], stop, run)) for n in range(CLIENTS - 1)
    ]
    for t in background:
        t.start()
    killed_at: list[float] = []
    result: dict[str, float] = {}
    pinned_failed = 0

    def pinned_client() -> None:
        nonlocal pinned_failed
        give_up = time.monotonic() + 120
        with session(pinned):
            while time.monotonic() < give_up:
                try:
                    first, total, _ = one_request(bal, prompts[1])
                except BackendError:
                    pinned_failed += 1
                    result.setdefault("error_s", time.monotonic() - killed_at[0])
                    continue
                if killed_at:
                    end = time.monotonic() - killed_at[0]
                    result.update(first_token_s=end - total + first, served_s=end)
                    return

    pinned_thread = threading.Thread(target=pinned_client)
    pinned_thread.start()
    time.sleep(1.0)
    failures_before = bal.status()[victim]["failures"]
    servers[victim].kill()
    killed_at.append(time.monotonic())
    while time.monotonic() - killed_at[0] < 30:  # when the balancer knows: a failed request or health check
        entry = bal.status()[victim]
        if entry["failures"] > failures_before or not entry["healthy"]:
            result["detected_s"] = time.monotonic() - killed_at[0]
            break
        time.sleep(0.002)
    pinned_thread.join(130)
    time.sleep(1.0)
    stop.set()
    for t in background:
        t.join()
    bal.close()
    return {
        "kill_to_detected_s": round(result.get("detected_s", -1.0), 3),
        "kill_to_error_s": round(result.get("error_s", 0.0), 3),
        "kill_to_first_token_s": round(result.get("first_token_s", -1.0), 3),
        "kill_to_answer_s": round(result.get("served_s", -1.0), 3),
        "survivor_p50_first_token_s": round(pct(run.first_tokens, 0.5), 3) if run.first_tokens else -1.0,
        "pinned_requests_failed": pinned_failed,
        "background_requests_failed": len(run.errors),
        "background_requests_ok": len(run.latencies),
    }


def _spin(seconds: float) -> int:
    end, n = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        n += 1
    return n


def cpu_scaling(seconds: float = 1.5) -> float:
    """How much more work two busy processes get done than one, right now: 2.0 on two idle cores."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        one = pool.submit(_spin, seconds).result()
        two = sum(f.result() for f in [pool.submit(_spin, seconds), pool.submit(_spin, seconds)])
    return two / one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--min-requests", type=int, default=24)
    add_busy_flag(parser)
    args = parser.parse_args()
    model = Settings().store_dir() / f"{args.model}.gguf"
    logs = Path(tempfile.mkdtemp(prefix="pylot-bench-"))
    prompts = source_prompts(64, lines_before=12)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    scaling = cpu_scaling()

    one = [Server(model, 4, logs)]
    row1 = measure(one, prompts, args.seconds, args.min_requests)
    one[0].kill()
    two = [Server(model, 2, logs), Server(model, 2, logs)]
    row2 = measure(two, prompts, args.seconds, args.min_requests)
    fo = failover(two, prompts)
    for s in two:
        s.kill()
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    tps1, tps2 = float(row1["tokens/s"]), float(row2["tokens/s"])  # type: ignore[arg-type]
    ratio = tps2 / tps1 if tps1 else float("nan")
    notes = [
        f"Model {args.model}, greedy, {PARAMS.max_tokens} tokens per request, prompts of 12 lines of real code; "
        f"{CLIENTS} client threads through Pylot's Balancer for at least {args.seconds:g} s per configuration. "
        "Every server runs with `-t 1`; the single server has 4 slots, each of the two has 2.",
        f"**Throughput two/one: {ratio:.2f}x** (tokens per second).",
        "**Failover**: a client's session is pinned to a server, which is killed (SIGKILL) mid-run. "
        f"The balancer knew {fo['kill_to_detected_s'] * 1000:.0f} ms after the kill (a refused or reset "
        "connection). "
        + (
            f"The request the client had streaming then failed {fo['kill_to_error_s']} s after the kill "
            f"({fo['pinned_requests_failed']} failed in all). "
            if fo["pinned_requests_failed"]
            else "None of its requests failed (one still waiting for its first token is sent to the other server). "
        )
        + f"The first token from the other server came {fo['kill_to_first_token_s']} s after the kill and the "
        f"answer {fo['kill_to_answer_s']} s after, while that server's median time to first token at that "
        f"load was {fo['survivor_p50_first_token_s']} s: the difference is what failing over costs.",
        f"The three other clients meanwhile: {fo['background_requests_ok']} requests answered, "
        f"{fo['background_requests_failed']} failed (those streaming from the killed server when it died).",
        f"Load average (1 min) at the start {load:.2f}, at the end {load_end:.2f}; before the run, two busy "
        f"processes got {scaling:.2f}x the work of one (2.0 on two idle cores). The machine is shared with other "
        "work: a second server can only add what the second core has to spare.",
    ]
    write_results("balancer", "Balancer: one vs two llama-servers, and failover", [row1, row2], notes)
    extra = Path(__file__).resolve().parent / "results" / "balancer.json"
    data = json.loads(extra.read_text())
    data.update(ratio=round(ratio, 3), failover=fo, load_average=[load, load_end], cpu_scaling=round(scaling, 2))
    extra.write_text(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
