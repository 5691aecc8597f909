"""Starting the servers a benchmark compares, each in its own process as users run them: Pylot
(`python -m pylot serve`) and llama.cpp's llama-server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

# The /infill request llama.vscode sends with its defaults (its time caps are added where a benchmark wants them).
LLAMA_VSCODE_INFILL = {
    "n_predict": 128,
    "top_k": 40,
    "top_p": 0.99,
    "samplers": ["top_k", "top_p", "infill"],
    "cache_prompt": True,
    "stream": False,
    "input_extra": [],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def model_path(model_id: str) -> Path:
    from pylot.config.settings import Settings

    path = Settings().store_dir() / f"{model_id}.gguf"
    if not path.exists():
        sys.exit(f"{model_id} is not installed: run `.venv/bin/pylot models pull {model_id}`")
    return path


@contextmanager
def serving(cmd: Sequence[str], url: str, log: Path, name: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run a server process until the block ends; yields `url` once its /health answers 200."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}; see {log}:\n{_tail(log)}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not become healthy in 180 s; see {log}:\n{_tail(log)}")
            time.sleep(0.3)
        try:
            yield url
        except Exception as exc:
            if proc.poll() is not None:  # the request failed because the server died: say where to look
                raise RuntimeError(f"{name} died (code {proc.returncode}); see {log}:\n{_tail(log)}") from exc
            raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def pylot_server(model_id: str, extra_yaml: str = "", n_ctx: int = 4096, *, n_threads: int = 2) -> Iterator[str]:
    """A real Pylot server on a loopback port with the model from the store, in its own process.

    Started as users start it (`python -m pylot serve --config <yaml>`), so the benchmark's own Python
    work does not compete with the server's for one interpreter. The config is the whole of its
    settings: PYLOT_<SECTION>__<KEY> overrides in this environment are not passed on. Threads are pinned
    (2, as llama_server's) rather than chosen from the free cores at start, so every run compares alike.
    """
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="pylot-bench-"))
    cfg = work / "bench.yaml"
    cfg.write_text(
        f"server: {{port: {port}}}\nmodel: {{model: {model_id}, n_ctx: {n_ctx}, n_threads: {n_threads}}}\n{extra_yaml}",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not (k.startswith("PYLOT_") and "__" in k)}
    cmd = [sys.executable, "-m", "pylot", "serve", "--config", str(cfg)]
    with serving(cmd, f"http://127.0.0.1:{port}", work / "pylot.log", "Pylot server", env) as url:
        yield url


def llama_server_binary() -> Path:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_llama_server.py")], capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


@contextmanager
def llama_server(model_id: str, n_ctx: int = 4096, threads: int = 2, extra: tuple[str, ...] = ()) -> Iterator[str]:
    """llama.cpp's own server, built from the pinned sources, as llama.vscode users run it."""
    port = free_port()
    cmd = [
        str(llama_server_binary()),
        "-m",
        str(model_path(model_id)),
        "-t",
        str(threads),
        "-c",
        str(n_ctx),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "-np",
        "1",
        # No busy-waiting while idle: in an interleaved run it would take the CPU from the other target.
        "--poll",
        "0",
        *extra,
    ]
    log = Path(tempfile.mkdtemp(prefix="llama-bench-")) / "llama-server.log"
    with serving(cmd, f"http://127.0.0.1:{port}", log, "llama-server") as url:
        yield url
