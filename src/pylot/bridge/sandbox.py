"""Running code the tools produce (generated tests, a project's test suite) in a sandboxed subprocess.

Each run gets a fresh scratch directory as its working directory and HOME, a minimal environment (no
tokens or keys from ours), a timeout after which the whole process group is killed, and no network:
- Linux with `unshare` usable by this user: `unshare -rn` puts the process in a new user and network
  namespace that has only a loopback device, so nothing outside the machine can be reached.
- elsewhere (macOS, Windows, Linux without user namespaces): the proxy variables point at a dead local
  port, which stops HTTP clients that honour them (pip, requests, httpx, urllib) but not raw sockets.
  `SandboxResult.network_isolated` says which of the two a run got.
This is isolation against accidents, not a security boundary against hostile code: the process still
runs as this user and can read files this user can read.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pylot.bridge.safe_io import shares_inode
from pylot.errors import ToolError

DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens there
MAX_OUTPUT = 64_000  # characters kept of stdout and of stderr
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "TZ")


@dataclass(frozen=True)
class SandboxResult:
    """What a sandboxed run did."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float
    network_isolated: bool

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@lru_cache(maxsize=1)
def unshare_available() -> bool:
    """True when `unshare -rn` works here (Linux with unprivileged user namespaces)."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    try:
        probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def minimal_env(scratch: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """PATH and locale from ours, HOME and TMP in the scratch dir, dead proxies, nothing else."""
    env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
    python_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([python_dir, env.get("PATH", os.defpath)])
    env.setdefault("LANG", "C.UTF-8")
    for key in ("HOME", "USERPROFILE", "TMPDIR", "TEMP", "TMP"):
        env[key] = str(scratch)
    for key in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[key] = DEAD_PROXY
    env["no_proxy"] = env["NO_PROXY"] = ""
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["PIP_NO_INDEX"] = "1"
    env.update(extra or {})
    return env


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + f"\n... [{len(text) - MAX_OUTPUT} more characters]"


SKIPPED_FOLDERS = frozenset({".git", ".venv", "__pycache__", "node_modules", ".pytest_cache"})


def copy_workspace(source: Path, target: Path, *, allow_hard_links: bool = False) -> list[str]:
    """Copy a folder (or one file) of the workspace into `target` by the file tools' rules: nothing outside
    `source` comes along. A symbolic link is copied as a link when it points inside `source` and left out
    when it points outside (or nowhere); a file with more than one hard link is left out unless allowed
    (`tools.allow_hard_links`); caches and VCS folders (SKIPPED_FOLDERS) are not copied. Returns the
    paths, relative to `source`, that were left out.
    """
    source = Path(source)
    base = source.resolve()
    left_out: list[str] = []

    def copy_one(path: Path, dest: Path, shown: str) -> None:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            pointed = path.resolve()
            if pointed.exists() and pointed.is_relative_to(base):
                # Relative, so that it points into the copy: an absolute link would lead a write in the
                # scratch directory back into the workspace.
                dest.symlink_to(os.path.relpath(pointed, path.parent.resolve()), target_is_directory=pointed.is_dir())
            else:
                left_out.append(shown)
        elif stat.S_ISREG(info.st_mode):
            if shares_inode(info) and not allow_hard_links:
                left_out.append(shown)
            else:
                shutil.copy2(path, dest, follow_symlinks=False)
        # sockets, FIFOs and devices are never copied

    if not source.is_dir():
        copy_one(source, target if not target.is_dir() else target / source.name, source.name)
        return left_out
    for folder, subfolders, names in os.walk(source):  # does not descend into linked folders
        here = Path(folder)
        relative = here.relative_to(source)
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in [*subfolders]:
            if (here / name).is_symlink():
                subfolders.remove(name)
                copy_one(here / name, target / relative / name, (relative / name).as_posix())
        for name in sorted(names):
            if name.endswith(".pyc"):
                continue
            copy_one(here / name, target / relative / name, (relative / name).as_posix())
    return left_out


class Sandbox:
    """Runs commands in scratch directories with a timeout, a minimal environment and no network.

    Args:
        timeout_s: Wall-clock limit of one run; the process group is killed after it.
        isolate_network: Cut the network (unshare on Linux, dead proxies elsewhere).
    """

    def __init__(self, timeout_s: float = 60.0, *, isolate_network: bool = True) -> None:
        self.timeout_s = timeout_s
        self.isolate_network = isolate_network

    @contextlib.contextmanager
    def scratch(
        self, files: Mapping[str, str] | None = None, copy_tree: Path | None = None, *, allow_hard_links: bool = False
    ) -> Iterator[Path]:
        """A temporary directory with `copy_tree`'s content (see `copy_workspace`) and `files` (relative
        path -> text) in it."""
        with tempfile.TemporaryDirectory(prefix="pylot-sandbox-") as tmp:
            root = Path(tmp)
            if copy_tree is not None:
                copy_workspace(copy_tree, root, allow_hard_links=allow_hard_links)
            for relative, text in (files or {}).items():
                target = root / relative
                if not target.resolve().is_relative_to(root.resolve()):
                    raise ToolError(f"sandbox file {relative} would land outside the scratch directory")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            yield root

    def run(
        self,
        argv: Sequence[str],
        cwd: Path,
        *,
        env: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
        stdin: str | None = None,
    ) -> SandboxResult:
        """Run argv in cwd (a scratch directory from `scratch()`); never raises for the command's failure."""
        isolated = self.isolate_network and unshare_available()
        command = ["unshare", "-rn", *argv] if isolated else list(argv)
        limit = timeout_s if timeout_s is not None else self.timeout_s
        kwargs: dict[str, object] = {}
        if os.name == "posix":
            kwargs["start_new_session"] = True
        else:
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                command,
                cwd=cwd,
                env=minimal_env(cwd, env),
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                **kwargs,  # type: ignore[call-overload]
            )
        except OSError as exc:
            raise ToolError(f"cannot start {argv[0]}: {exc.strerror or exc}") from exc
        timed_out = False
        try:
            out, err = proc.communicate(stdin, timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            out, err = proc.communicate()
        return SandboxResult(
            returncode=proc.returncode,
            stdout=_truncate(out or ""),
            stderr=_truncate(err or ""),
            timed_out=timed_out,
            duration_s=time.perf_counter() - start,
            network_isolated=isolated,
        )

    def run_python(self, args: Sequence[str], cwd: Path, **kwargs: object) -> SandboxResult:
        """Run this interpreter (so the tests see the same installed packages) with args."""
        return self.run([sys.executable, *args], cwd, **kwargs)  # type: ignore[arg-type]


def _kill_group(proc: subprocess.Popen[str]) -> None:
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()
