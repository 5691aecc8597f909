"""`pylot doctor`: what this machine offers and what Pylot recommends for it."""

from __future__ import annotations

import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from pylot.engines.llama_cpp.threads import busy_cores, choose_threads, physical_cores

GiB = 1024**3
INTERESTING = (
    "avx",
    "avx2",
    "avx512f",
    "avx512_vnni",
    "avx512vnni",
    "fma",
    "f16c",
    "neon",
    "asimd",
    "sse4_2",
)


def cpu_features() -> list[str]:
    """CPU flags that matter to llama.cpp, from the OS where it tells them, else from the llama.cpp build."""
    flags: set[str] = set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                flags.update(line.split(":", 1)[1].split())
                break
    elif platform.system() == "Darwin":
        try:
            out = subprocess.run(["sysctl", "-a"], capture_output=True, text=True, timeout=5).stdout
            flags.update(w.lower().rstrip(",") for w in out.split() if w.isupper() and len(w) < 12)
        except (OSError, subprocess.SubprocessError):
            pass
    return sorted(f for f in flags if f in INTERESTING)


def llama_build_info() -> str:
    try:
        import llama_cpp

        info = llama_cpp.llama_print_system_info()
        return info.decode() if isinstance(info, bytes) else str(info)
    except Exception as exc:  # the doctor reports problems, it does not stop at them
        return f"llama-cpp-python not importable: {exc}"


def gpu_runtimes() -> dict[str, str]:
    found: dict[str, str] = {}
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            found["CUDA"] = out or "nvidia-smi found"
        except (OSError, subprocess.SubprocessError):
            found["CUDA"] = "nvidia-smi found but failed"
    if shutil.which("rocm-smi") or shutil.which("rocminfo"):
        found["ROCm"] = "rocm tools found"
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        found["Metal"] = "Apple Silicon"
    return found


# Thresholds for the recommendation, from figures measured on 2 cores (AVX-512): the 0.5B model generates
# 57 tokens/s and the 1.5B about 2.5x slower; HumanEval single-line 0.55 (0.5B) vs 0.85 (1.5B). Free memory
# must hold the model file, its KV cache and compute buffers, with room left for the editor.
BIG_MODEL_CORES = 4
BIG_MODEL_FREE = 3 * GiB
SMALL_MODEL_FREE = int(1.5 * GiB)


@dataclass(frozen=True)
class Recommendation:
    model: str
    quantization: str
    reason: str  # one sentence: the machine's figures, what the model costs, and where the line lies


def recommend(cores: int, free: int, gpus: dict[str, str]) -> Recommendation:
    """The model for this machine, from its physical cores, its free (available) memory and its GPU runtimes."""
    gib = free / GiB
    machine = f"{cores} cores{' and a GPU' if gpus else ''} and {gib:.1f} GiB free"
    if free >= BIG_MODEL_FREE and (cores >= BIG_MODEL_CORES or gpus):
        return Recommendation(
            "qwen2.5-coder-1.5b",
            "q4_k_m",
            f"{machine}; about 1.1 GB, right more often than the 0.5B (HumanEval single-line 0.85 vs 0.55), "
            "so keystrokes that match its suggestion are answered from cache at 0.01 s; "
            f"the 0.5B when fewer than {BIG_MODEL_CORES} cores without a GPU "
            f"or under {BIG_MODEL_FREE // GiB} GiB free.",
        )
    if free >= SMALL_MODEL_FREE:
        return Recommendation(
            "qwen2.5-coder-0.5b",
            "q4_k_m",
            f"{machine}; about 0.5 GB and 2.5x faster than the 1.5B (57 tokens/s on 2 cores); "
            f"the 1.5B from {BIG_MODEL_CORES} cores (or a GPU) and {BIG_MODEL_FREE // GiB} GiB free.",
        )
    return Recommendation(
        "smollm2-135m",
        "q4_1",
        f"{machine}; about 0.1 GB, but it has no fill-in-the-middle tokens, so completions are weak; "
        f"the 0.5B needs {SMALL_MODEL_FREE / GiB:.1f} GiB free.",
    )


def run_doctor() -> None:
    console = Console()
    vm = psutil.virtual_memory()
    features = cpu_features()
    gpus = gpu_runtimes()
    build = llama_build_info()
    table = Table(title="pylot doctor", show_header=False)
    table.add_row("OS", f"{platform.system()} {platform.release()} ({platform.machine()})")
    table.add_row("Python", platform.python_version())
    table.add_row("CPU cores", f"{psutil.cpu_count(logical=False)} physical, {psutil.cpu_count()} logical")
    table.add_row("CPU features", ", ".join(features) or "unknown")
    table.add_row("RAM", f"{vm.total / GiB:.1f} GiB total, {vm.available / GiB:.1f} GiB free")
    table.add_row("GPU runtimes", ", ".join(f"{k}: {v}" for k, v in gpus.items()) or "none found (CPU only)")
    table.add_row("llama.cpp build", build)
    choice = recommend(physical_cores(), vm.available, gpus)
    table.add_row("Recommended model", f"{choice.model}, quantization {choice.quantization}")
    table.add_row("Why", choice.reason)
    threads = choose_threads(physical_cores(), busy_cores())
    table.add_row("Threads", f"{threads.threads} (the default while model.n_threads is unset)")
    table.add_row("Why this many", threads.reason)
    console.print(table)
    if gpus and "CUDA" in gpus and "CUDA = 1" not in build:
        console.print(
            "[yellow]A GPU is present but llama-cpp-python was built without CUDA. Rebuild with "
            'CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-binary llama-cpp-python '
            "llama-cpp-python==0.3.36[/yellow]"
        )
    if not {"avx2", "neon", "asimd"} & set(features):
        console.print("[yellow]No AVX2/NEON found: generation will be slow.[/yellow]")
