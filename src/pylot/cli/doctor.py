"""`pylot doctor`: what this machine offers and what Pylot recommends for it."""

from __future__ import annotations

import platform
import shutil
import subprocess
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

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


def recommend(total_ram: int, gpus: dict[str, str]) -> tuple[str, str]:
    if gpus or total_ram >= 16 * GiB:
        return "qwen2.5-coder-1.5b", "q4_k_m (best quality per byte; 7B models fit in 16 GB at q4_k_m)"
    if total_ram >= 6 * GiB:
        return "qwen2.5-coder-0.5b", "q4_k_m"
    return "smollm2-135m", "q4_1 (very little memory: completions will be weak)"


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
    model, quant = recommend(vm.total, gpus)
    table.add_row("Recommended model", f"{model}, quantization {quant}")
    console.print(table)
    if gpus and "CUDA" in gpus and "CUDA = 1" not in build:
        console.print(
            "[yellow]A GPU is present but llama-cpp-python was built without CUDA. Rebuild with "
            'CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-binary llama-cpp-python '
            "llama-cpp-python==0.3.36[/yellow]"
        )
    if not {"avx2", "neon", "asimd"} & set(features):
        console.print("[yellow]No AVX2/NEON found: generation will be slow.[/yellow]")
