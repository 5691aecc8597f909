"""Starting the servers a benchmark compares: Pylot (in this process) and llama.cpp's llama-server."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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
def pylot_server(model_id: str, extra_yaml: str = "", n_ctx: int = 4096) -> Iterator[str]:
    """A real Pylot server on a loopback port with the model from the store."""
    from pylot.config.config_manager import ConfigManager
    from pylot.server import LlamaServer

    cfg = Path(tempfile.mkdtemp()) / "bench.yaml"
    cfg.write_text(f"server: {{port: {free_port()}}}\nmodel: {{model: {model_id}, n_ctx: {n_ctx}}}\n{extra_yaml}")
    server = LlamaServer(ConfigManager(cfg, environ={}), watch_config=False)
    server.load_model()
    try:
        yield server.start()
    finally:
        server.stop()


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
    log = Path(tempfile.mkdtemp()) / "llama-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama-server exited; see {log}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama-server did not become healthy; see {log}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
