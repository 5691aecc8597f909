"""Workspace files are opened without following links: hard links refused, symlinks swapped in never followed,
writes atomic and never through a link. Real files, links and symlinks in tmp_path; both ways of opening
(the POSIX walk, and the checked fallback Windows gets) run where the platform has them."""

from __future__ import annotations

import os
import stat
import sys
import threading
from pathlib import Path, PurePath

import pytest

from pylot.bridge import safe_io
from pylot.bridge.policy import Policy
from pylot.errors import ToolError

needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")


@pytest.fixture(params=["walk", "checked"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with the POSIX walk (where there is one) and with the checked fallback."""
    if request.param == "walk" and not safe_io.WALK_WITHOUT_FOLLOWING:
        if sys.platform != "win32":  # every POSIX system has O_NOFOLLOW and dir_fd: its absence is a bug
            pytest.fail("the POSIX walk is unavailable on a POSIX system")
        pytest.skip("Windows has no O_NOFOLLOW / dir_fd: only the checked fallback runs")
    monkeypatch.setattr(safe_io, "WALK_WITHOUT_FOLLOWING", request.param == "walk")
    return str(request.param)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "data.txt").write_text("inside\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.txt").write_text("SECRET\n")
    return root


def outside(workspace: Path) -> Path:
    return workspace.parent / "outside"


def test_a_hard_link_to_a_file_outside_is_not_read(workspace: Path, mode: str) -> None:
    os.link(outside(workspace) / "data.txt", workspace / "linked.txt")
    with pytest.raises(ToolError, match=r"linked\.txt has 2 hard links") as refused:
        Policy(workspace).read_text("linked.txt")
    assert "SECRET" not in str(refused.value)
    assert Policy(workspace, allow_hard_links=True).read_text("linked.txt") == "SECRET\n"  # the setting allows it


@needs_symlinks
def test_a_folder_swapped_for_a_symlink_is_never_followed(workspace: Path, mode: str) -> None:
    # What the policy checked (sub/data.txt, no links) is not what is there at the open: sub now leads out.
    (workspace / "sub").rename(workspace / "sub_real")
    (workspace / "sub").symlink_to(outside(workspace), target_is_directory=True)
    with pytest.raises(ToolError, match="a part of its path is a symlink or not a folder"):
        safe_io.read_bytes(workspace, PurePath("sub/data.txt"))
    with pytest.raises(ToolError, match="symlink"):
        safe_io.write_bytes(workspace, PurePath("sub/new.txt"), b"x")
    assert not (outside(workspace) / "new.txt").exists()


@needs_symlinks
def test_swapping_a_folder_for_a_symlink_during_400_reads_leaks_nothing(workspace: Path) -> None:
    # The race of the issue: a thread swaps sub for a symlink out and back while the policy reads through it.
    # On POSIX every open walks the folders with O_NOFOLLOW, so no read may see the outside file.
    policy = Policy(workspace)
    sub, parked, link_target = workspace / "sub", workspace / "sub_real", outside(workspace)
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            sub.rename(parked)
            sub.symlink_to(link_target, target_is_directory=True)
            sub.unlink()
            parked.rename(sub)

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    leaked = read = refused = 0
    try:
        for _ in range(400):
            try:
                text = policy.read_text("sub/data.txt")
            except ToolError:
                refused += 1  # refused with a message; never an OSError
                continue
            leaked += "SECRET" in text
            read += text == "inside\n"
    finally:
        stop.set()
        swapper.join(10)
    assert leaked == 0
    assert read + refused == 400


@needs_symlinks
def test_a_write_replaces_a_symlink_at_the_target_and_never_follows_it(workspace: Path, mode: str) -> None:
    (workspace / "link.txt").symlink_to(outside(workspace) / "data.txt")
    safe_io.write_bytes(workspace, PurePath("link.txt"), b"new\n")
    assert (outside(workspace) / "data.txt").read_text() == "SECRET\n"
    assert not (workspace / "link.txt").is_symlink()
    assert (workspace / "link.txt").read_text() == "new\n"


def test_a_write_detaches_a_hard_link_instead_of_changing_its_twin(workspace: Path, mode: str) -> None:
    os.link(outside(workspace) / "data.txt", workspace / "linked.txt")
    Policy(workspace).write_text("linked.txt", "mine\n")
    assert (outside(workspace) / "data.txt").read_text() == "SECRET\n"
    assert (workspace / "linked.txt").read_text() == "mine\n"


def test_writes_are_atomic_create_folders_and_keep_the_mode(workspace: Path, mode: str) -> None:
    target = workspace / "sub" / "data.txt"
    target.chmod(0o640)
    policy = Policy(workspace)
    policy.write_text("sub/data.txt", "changed\n")
    policy.write_text("new/deeper/file.md", "# made\n")
    assert target.read_text() == "changed\n"
    assert (workspace / "new" / "deeper" / "file.md").read_text() == "# made\n"
    if sys.platform != "win32":
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert not list(workspace.rglob("*.pylot")), "no staged file is left behind"


def test_a_staged_file_that_is_discarded_changes_nothing(workspace: Path, mode: str) -> None:
    with Policy(workspace).stage_text("sub/data.txt", "never\n"):
        assert len(list((workspace / "sub").glob("*.pylot"))) == 1
    assert (workspace / "sub" / "data.txt").read_text() == "inside\n"
    assert not list(workspace.rglob("*.pylot"))


def test_only_regular_files_are_read(workspace: Path, mode: str) -> None:
    with pytest.raises(ToolError, match=r"not a regular file|a folder"):
        safe_io.read_bytes(workspace, PurePath("sub"))
    with pytest.raises(ToolError, match="no such file"):
        safe_io.read_bytes(workspace, PurePath("sub/missing.txt"))
    with pytest.raises(ToolError, match="a folder, not a file"):
        safe_io.write_bytes(workspace, PurePath("sub"), b"x")


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no FIFOs")
def test_a_fifo_is_refused_without_hanging(workspace: Path, mode: str) -> None:
    os.mkfifo(workspace / "pipe")
    with pytest.raises(ToolError, match="not a regular file"):
        Policy(workspace).read_bytes("pipe")
