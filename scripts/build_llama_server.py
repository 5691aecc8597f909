#!/usr/bin/env python3
"""Build llama.cpp's `llama-server` (and `llama-bench`) from the sources vendored in the pinned
llama-cpp-python sdist, once, cached under ~/.cache/pylot/llama-server/<version-cpu-flags>/.

Used by the external-server tests and the benchmarks' anchors. Prints the path of the binary.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bootstrap import HOME, build_key, cmake_args, llama_sdist, pinned, say, venv_python

EXE = ".exe" if os.name == "nt" else ""


def server_dir() -> Path:
    return HOME / "llama-server" / build_key(pinned("llama-cpp-python"))


def main() -> None:
    target = server_dir()
    binary = target / "bin" / f"llama-server{EXE}"
    if binary.exists():
        print(binary)
        return
    version = pinned("llama-cpp-python")
    sdist = llama_sdist(version, venv_python() if venv_python().exists() else Path(sys.executable))
    work = HOME / "build" / f"llama-server-{version}"
    src = work / f"llama_cpp_python-{version}" / "vendor" / "llama.cpp"
    if not (src / "CMakeLists.txt").exists():
        say(f"unpacking llama.cpp sources from {sdist.name}")
        work.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if "/vendor/llama.cpp/" in m.name]
            tar.extractall(work, members=members, filter="data")
    build = src / "build"
    say("building llama-server (about 5-10 minutes on 2 cores, once)")
    subprocess.run(
        [
            "cmake",
            "-S",
            str(src),
            "-B",
            str(build),
            "-DLLAMA_CURL=OFF",
            "-DLLAMA_BUILD_SERVER=ON",
            "-DLLAMA_BUILD_TESTS=OFF",
            "-DLLAMA_BUILD_EXAMPLES=OFF",
            *shlex.split(cmake_args()),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DBUILD_SHARED_LIBS=OFF",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [
            "cmake",
            "--build",
            str(build),
            "--config",
            "Release",
            "--target",
            "llama-server",
            "llama-bench",
            "-j",
            str(os.cpu_count() or 2),
        ],
        check=True,
    )
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(build / "bin", tmp / "bin")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    print(binary)


if __name__ == "__main__":
    main()
