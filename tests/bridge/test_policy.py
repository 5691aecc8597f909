"""The permission policy (paths inside the workspace, writes where allowed) and the sandbox that runs code."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from pathlib import Path

import pytest

from pylot.bridge.policy import Policy, glob_match
from pylot.bridge.sandbox import DEAD_PROXY, Sandbox, unshare_available
from pylot.errors import ToolError


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "a.py").write_text("x = 1\n")
    (root / "docs").mkdir()
    (root / ".git").mkdir()
    (tmp_path / "outside.txt").write_text("secret\n")
    return root


def test_paths_resolve_inside_the_workspace(workspace: Path) -> None:
    policy = Policy(workspace)
    assert policy.resolve("src/pkg/a.py") == workspace.resolve() / "src/pkg/a.py"
    assert policy.resolve(workspace / "src") == workspace.resolve() / "src"
    assert policy.relative(workspace / "src/pkg/a.py") == "src/pkg/a.py"
    assert policy.read_path("src/pkg/a.py").read_text() == "x = 1\n"
    with pytest.raises(ToolError, match="no such file"):
        policy.read_path("src/missing.py")


@pytest.mark.parametrize("path", ["../outside.txt", "src/../../outside.txt", "src/pkg/../../.."])
def test_dot_dot_is_refused(workspace: Path, path: str) -> None:
    with pytest.raises(ToolError, match=r"'\.\.' is not allowed"):
        Policy(workspace).resolve(path)


def test_absolute_paths_outside_are_refused(workspace: Path) -> None:
    with pytest.raises(ToolError, match="outside the workspace"):
        Policy(workspace).resolve(workspace.parent / "outside.txt")


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlinks_cannot_escape(workspace: Path) -> None:
    (workspace / "escape.txt").symlink_to(workspace.parent / "outside.txt")
    (workspace / "escape_dir").symlink_to(workspace.parent, target_is_directory=True)
    (workspace / "inside.py").symlink_to(workspace / "src/pkg/a.py")
    policy = Policy(workspace)
    with pytest.raises(ToolError, match="symlink leads outside"):
        policy.read_path("escape.txt")
    with pytest.raises(ToolError, match="symlink leads outside"):
        policy.read_path("escape_dir/outside.txt")
    assert policy.read_path("inside.py").name == "a.py"  # a symlink that stays inside is fine


def test_nul_bytes_and_over_long_paths_are_refused_by_name(workspace: Path) -> None:
    policy = Policy(workspace)
    with pytest.raises(ToolError, match=r"^path contains a NUL byte$"):
        policy.read_path("src/a\x00b.py")
    with pytest.raises(ToolError, match="longer than 4096 bytes"):
        policy.read_path("a" * 5000)
    with pytest.raises(ToolError, match="longer than 4096 bytes"):
        policy.resolve("a/" * 2100)  # many short names
    with pytest.raises(ToolError, match="a name longer than 255 bytes"):
        policy.write_path("src/" + "x" * 256 + ".py")
    assert policy.resolve("src/" + "x" * 252 + ".py").name == "x" * 252 + ".py"  # 255 is fine
    with pytest.raises(ToolError, match="cannot expand '~'"):
        policy.resolve("~no-such-user-of-pylot/x.py")


@pytest.mark.skipif(sys.platform != "linux", reason="/proc is Linux's (on Linux a missing /proc fails the test)")
def test_proc_paths_resolve_like_any_other(workspace: Path) -> None:
    # /proc/self/root/<workspace>/... is the workspace file itself: resolved, then read from the root (never
    # through /proc); one that resolves elsewhere is outside, like any absolute path.
    policy = Policy(workspace)
    assert policy.read_text(f"/proc/self/root{workspace.resolve()}/src/pkg/a.py") == "x = 1\n"
    with pytest.raises(ToolError, match="outside the workspace"):
        policy.read_text(f"/proc/self/root{workspace.parent.resolve()}/outside.txt")
    with pytest.raises(ToolError, match="outside the workspace"):
        policy.read_text("/proc/self/environ")


def test_text_is_read_as_utf8_and_a_bad_byte_is_named_not_quoted(workspace: Path) -> None:
    (workspace / "crlf.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    (workspace / "latin1.py").write_bytes(b"PASSWORD = 'hunter2' # caf\xe9\n")
    policy = Policy(workspace)
    assert policy.read_text("crlf.py") == "a = 1\nb = 2\n"  # as open() reads it
    with pytest.raises(ToolError, match=r"latin1\.py is not UTF-8 text \(undecodable byte at offset 26\)") as bad:
        policy.read_text("latin1.py")
    assert "hunter2" not in str(bad.value)
    assert policy.read_text("latin1.py", errors="replace").endswith("caf\ufffd\n")


def test_read_only_refuses_every_write(workspace: Path) -> None:
    policy = Policy(workspace, read_only=True)
    with pytest.raises(ToolError, match="read-only"):
        policy.write_path("src/pkg/a.py")
    assert not policy.can_write("docs/new.md")


def test_writable_globs(workspace: Path) -> None:
    policy = Policy(workspace, writable=["src/**/*.py", "docs/*.md"])
    assert policy.write_path("src/pkg/a.py").name == "a.py"
    assert policy.can_write("src/new.py") and policy.can_write("docs/api.md")
    assert not policy.can_write("docs/deep/api.md")  # * does not cross directories
    assert not policy.can_write("setup.cfg")
    with pytest.raises(ToolError, match="not writable by the policy"):
        policy.write_path("README.md")


def test_git_and_venv_are_never_writable(workspace: Path) -> None:
    policy = Policy(workspace)
    assert policy.can_write("src/pkg/a.py")
    assert not policy.can_write(".git/config")
    assert not policy.can_write("sub/.venv/lib/x.py")


def test_glob_semantics() -> None:
    assert glob_match("a/b/c.py", "**/*.py") and glob_match("c.py", "**/*.py")
    assert glob_match("a/b/c.py", "a/**") and not glob_match("b/c.py", "a/**")
    assert glob_match("a/x.md", "a/?.md") and not glob_match("a/xy.md", "a/?.md")


def test_workspace_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="not a directory"):
        Policy(tmp_path / "nope")


# ---- sandbox -----------------------------------------------------------------------------------------------


def test_runs_in_a_scratch_dir_with_a_minimal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYLOT_TEST_SECRET_TOKEN", "do-not-leak")
    sandbox = Sandbox(timeout_s=30)
    code = (
        "import os, pathlib; print(os.getcwd()); print(os.environ.get('PYLOT_TEST_SECRET_TOKEN')); "
        "print(os.environ['HOME']); print(os.environ['https_proxy']); print(pathlib.Path('data.txt').read_text())"
    )
    with sandbox.scratch({"data.txt": "hello"}) as scratch:
        result = sandbox.run_python(["-c", code], scratch)
        cwd, token, home, proxy, data = result.stdout.splitlines()
        assert Path(cwd).resolve() == scratch.resolve()
        assert Path(home).resolve() == scratch.resolve()
    assert result.ok and result.returncode == 0
    assert token == "None"
    assert proxy == DEAD_PROXY
    assert data == "hello"
    assert not scratch.exists(), "the scratch dir is removed afterwards"


def test_timeout_kills_the_process_group() -> None:
    sandbox = Sandbox(timeout_s=1)
    child = "import time; time.sleep(60)"
    code = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(60)"
    with sandbox.scratch() as scratch:
        result = sandbox.run_python(["-c", code], scratch)
    assert result.timed_out and not result.ok
    assert result.duration_s < 10


def test_scratch_files_cannot_escape() -> None:
    with pytest.raises(ToolError, match="outside the scratch"), Sandbox().scratch({"../evil.txt": "x"}):
        pass


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_the_scratch_copy_takes_nothing_from_outside_the_workspace(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("private key")
    ws = tmp_path / "ws"
    (ws / "pkg").mkdir(parents=True)
    (ws / "pkg" / "mod.py").write_text("X = 1\n")
    (ws / "pkg" / "alias.py").symlink_to((ws / "pkg" / "mod.py").resolve())  # absolute, inside: kept
    (ws / "leak.txt").symlink_to(outside / "secret.txt")  # points outside: left out
    (ws / "outside_dir").symlink_to(outside, target_is_directory=True)
    os.link(outside / "secret.txt", ws / "twin.txt")  # a hard link to a file outside: left out
    (ws / ".git").mkdir()
    (ws / ".git" / "config").write_text("[core]")
    with Sandbox().scratch(copy_tree=ws) as scratch:
        assert (scratch / "pkg" / "mod.py").read_text() == "X = 1\n"
        alias = scratch / "pkg" / "alias.py"
        assert alias.is_symlink() and not os.path.isabs(os.readlink(alias))  # points into the copy
        alias.write_text("X = 2\n")
        assert (ws / "pkg" / "mod.py").read_text() == "X = 1\n"  # a write in the copy stays in the copy
        for gone in ("leak.txt", "outside_dir", "twin.txt", ".git"):
            assert not os.path.lexists(scratch / gone), gone
    with Sandbox().scratch(copy_tree=ws, allow_hard_links=True) as scratch:
        assert (scratch / "twin.txt").read_text() == "private key"  # tools.allow_hard_links: the user's choice


def test_no_network_inside_the_sandbox() -> None:
    # A server on this machine's loopback: reachable from here, not from inside the sandbox.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    server.settimeout(10)

    def accept() -> None:
        with contextlib.suppress(OSError):  # nobody came (the point of the test), or the socket was closed
            server.accept()[0].close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    code = (
        "import socket, urllib.request\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=3); print('socket: connected')\n"
        "except OSError as e:\n"
        "    print('socket: refused')\n"
        "try:\n"
        "    urllib.request.urlopen('http://example.com', timeout=3); print('http: connected')\n"
        "except Exception as e:\n"
        "    print('http: refused')\n"
    )
    sandbox = Sandbox(timeout_s=30)
    with sandbox.scratch() as scratch:
        result = sandbox.run_python(["-c", code], scratch)
    socket.create_connection(("127.0.0.1", port), timeout=3).close()  # reachable from outside the sandbox
    thread.join(5)
    server.close()
    assert "http: refused" in result.stdout, result.stderr
    if unshare_available():
        assert result.network_isolated
        assert "socket: refused" in result.stdout, "a new network namespace cannot reach the host's loopback"
    else:
        assert not result.network_isolated  # documented limit: raw sockets are not stopped by dead proxies


def test_network_isolation_can_be_turned_off() -> None:
    sandbox = Sandbox(isolate_network=False)
    with sandbox.scratch() as scratch:
        result = sandbox.run_python(["-c", "print(1)"], scratch)
    assert not result.network_isolated and result.stdout.strip() == "1"


def test_missing_program_is_a_tool_error() -> None:
    sandbox = Sandbox(isolate_network=False)
    with sandbox.scratch() as scratch, pytest.raises(ToolError, match="cannot start"):
        sandbox.run([os.path.join(str(scratch), "no-such-program")], scratch)
