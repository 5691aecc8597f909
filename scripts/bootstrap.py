#!/usr/bin/env python3
"""Idempotent set-up: the venv, llama-cpp-python (built once, cached as a wheel), Pylot itself.

Run with any Python 3.10+: `python scripts/bootstrap.py`. It works the same on Linux, macOS and Windows;
`make run` and `make test` call it. Heavy builds are cached under ~/.cache/pylot keyed by version, CPU
and build flags, so a warm run takes seconds.

Environment: CMAKE_ARGS (llama.cpp build flags, e.g. -DGGML_CUDA=on; default: native code without AMX,
see `cmake_args`), PYLOT_HOME (cache root).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
HOME = Path(os.environ.get("PYLOT_HOME", Path.home() / ".cache" / "pylot")).expanduser()


def say(message: str) -> None:
    print(f"[bootstrap] {message}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(c) for c in cmd], check=True, env=env)


def pinned(name: str) -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(rf'"{re.escape(name)}==([^";]+)"', text)
    if not match:
        raise SystemExit(f"pyproject.toml does not pin {name}")
    return match.group(1)


def cpu_key() -> str:
    """Wheels built with GGML_NATIVE only run on CPUs with the same features: key the cache by them."""
    flags = platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                flags += " ".join(
                    sorted(
                        f
                        for f in line.split(":", 1)[1].split()
                        if f.startswith(("avx", "fma", "f16c", "sse", "asimd", "sve"))
                    )
                )
                break
    else:
        flags += platform.processor()
    return hashlib.sha256(flags.encode()).hexdigest()[:10]


def cmake_args() -> str:
    """llama.cpp's build flags: CMAKE_ARGS when set, else code for this CPU.

    Without AMX on x86: on Sapphire Rapids CPUs ggml repacks Q4_K weights for AMX and then segfaults in
    the first decode (seen here with Qwen2.5-Coder Q4_K_M; llama.cpp issue 20824). AVX-512 stays on.
    """
    given = os.environ.get("CMAKE_ARGS")
    if given:
        return given
    args = "-DGGML_NATIVE=ON"
    if platform.machine().lower() in ("x86_64", "amd64") and os.name != "nt":
        args += " -DCMAKE_C_FLAGS=-mno-amx-int8 -DCMAKE_CXX_FLAGS=-mno-amx-int8"
    return args


def build_key(version: str) -> str:
    tag = f"py{sys.version_info.major}{sys.version_info.minor}-{platform.system().lower()}"
    return f"{version}-{tag}-{cpu_key()}-{hashlib.sha256(cmake_args().encode()).hexdigest()[:8]}"


def ensure_venv() -> Path:
    py = venv_python()
    if not py.exists():
        say(f"creating {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    return py


def llama_sdist(version: str, py: Path) -> Path:
    downloads = HOME / "downloads"
    sdist = downloads / f"llama_cpp_python-{version}.tar.gz"
    if not sdist.exists():
        say(f"downloading the llama-cpp-python {version} source")
        run(
            py,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"llama-cpp-python=={version}",
            "-d",
            downloads,
        )
    return sdist


def ensure_llama_wheel(py: Path) -> Path:
    version = pinned("llama-cpp-python")
    wheel_dir = HOME / "wheels" / f"llama-cpp-python-{build_key(version)}"
    wheels = sorted(wheel_dir.glob("llama_cpp_python-*.whl"))
    if wheels:
        return wheels[-1]
    sdist = llama_sdist(version, py)
    env = {
        **os.environ,
        "CMAKE_ARGS": cmake_args(),
        "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2),
    }
    say(f"building llama-cpp-python {version} (about 8-15 minutes on 2 cores, once; cached in {wheel_dir})")
    tmp = wheel_dir.with_name(wheel_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    run(py, "-m", "pip", "wheel", "--no-deps", "-w", tmp, sdist, env=env)
    shutil.rmtree(wheel_dir, ignore_errors=True)
    tmp.rename(wheel_dir)  # the cache entry appears only when the build is whole
    return sorted(wheel_dir.glob("llama_cpp_python-*.whl"))[-1]


def installed_version(py: Path, dist: str) -> str | None:
    out = subprocess.run(
        [str(py), "-c", f"import importlib.metadata as m; print(m.version('{dist}'))"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() if out.returncode == 0 else None


def main() -> None:
    py = ensure_venv()
    wheel = ensure_llama_wheel(py)
    stamp = VENV / ".pylot-stamp"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + str(wheel).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == want and installed_version(py, "gc-forged-pylot"):
        say("environment up to date")
        return
    installed = VENV / ".pylot-llama-wheel"  # the build in the venv: a rebuild with new flags keeps the version
    if (
        installed_version(py, "llama_cpp_python") != pinned("llama-cpp-python")
        or not installed.exists()
        or installed.read_text() != str(wheel)
    ):
        say(f"installing {wheel.name}")
        run(py, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", wheel)
        installed.write_text(str(wheel))
    say("installing gc-forged-pylot and its pinned dependencies")
    run(py, "-m", "pip", "install", "--quiet", "--upgrade", "pip==25.3")
    run(py, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]")
    stamp.write_text(want)
    say("environment ready")


if __name__ == "__main__":
    main()
