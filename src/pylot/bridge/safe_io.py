"""Reading and writing workspace files without following links, so the file opened is the file checked.

The policy resolves a path and checks that it lies inside the root, but a folder on the way can be swapped
for a symlink between that check and the open. So a file is opened by its resolved path relative to the
root, one component at a time:
- POSIX: from a descriptor of the root, each folder with O_DIRECTORY | O_NOFOLLOW relative to its parent
  (openat), then the file with O_NOFOLLOW; a symlink anywhere on the way fails the open.
- Windows, which has neither: the path is opened, then it must still name the open file (st_dev, st_ino)
  and still resolve to itself. A swap undone in the instant between the two gets through; the walk rules
  that out.
Only a regular file is read, and one with more than one hard link only when allowed: a hard link is the
same file as its twin, which may lie outside the workspace, and nothing tells the two apart.
A write goes to a new temporary file in the target's folder, reached the same way, renamed over the
target: a symlink there is replaced, never written through; a hard link is detached, its twin unchanged.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path, PurePath
from types import TracebackType

from pylot.errors import ToolError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_COMMON = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted in the workspace must not hang the open
_LINK_ERRNOS = frozenset({errno.ELOOP, errno.ENOTDIR, errno.EMLINK})  # EMLINK: O_NOFOLLOW on a link, BSD

# False on Windows; tests set it to False to run the checked fallback on POSIX too. (os.replace takes dir_fd
# wherever os.rename does.)
WALK_WITHOUT_FOLLOWING = bool(_NOFOLLOW and _DIRECTORY) and {os.open, os.stat, os.mkdir, os.rename, os.unlink} <= (
    os.supports_dir_fd
)


def shares_inode(info: os.stat_result) -> bool:
    """A regular file with more than one hard link: its twin may be a file outside the workspace."""
    return stat.S_ISREG(info.st_mode) and info.st_nlink > 1


def read_bytes(root: Path, relative: PurePath, *, allow_hard_links: bool = False) -> bytes:
    """The content of the regular file root/relative, where relative has no symlinks and no `..` in it."""
    shown = relative.as_posix()
    if not relative.parts:
        raise ToolError(f"{shown}: a folder, not a file")
    try:
        fd = _open_walking(root, relative) if WALK_WITHOUT_FOLLOWING else _open_checked(root, relative)
    except OSError as exc:
        raise _refusal(shown, exc, "read") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ToolError(f"{shown}: not a regular file")
        if shares_inode(info) and not allow_hard_links:
            raise ToolError(
                f"{shown} has {info.st_nlink} hard links, and a hard link may be a file outside the workspace, "
                "so it is not read (the setting tools.allow_hard_links allows such files)"
            )
        with open(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError as exc:
        raise _refusal(shown, exc, "read") from None
    finally:
        os.close(fd)


def write_bytes(root: Path, relative: PurePath, data: bytes) -> None:
    """Replace root/relative with data, atomically; missing folders on the way are created."""
    with StagedFile(root, relative, data) as staged:
        staged.commit()


class StagedFile:
    """New content in a temporary file beside its target; commit() renames it over the target.

    Several files are written all-or-nothing by staging every one of them before committing any.
    """

    def __init__(self, root: Path, relative: PurePath, data: bytes) -> None:
        if not relative.parts:
            raise ToolError(f"{relative.as_posix()}: a folder, not a file")
        self.shown = relative.as_posix()
        self._name = relative.name
        self._folder = root.joinpath(relative).parent
        self._folder_fd: int | None = None
        self._temp: str | None = None
        try:
            if WALK_WITHOUT_FOLLOWING:
                self._folder_fd = _open_folder(root, relative.parts[:-1], create=True)
            else:
                self._folder.mkdir(parents=True, exist_ok=True)
                _check_unchanged(self._folder)
            self._write(data)
        except OSError as exc:
            self.discard()
            raise _refusal(self.shown, exc, "written") from None
        except BaseException:
            self.discard()
            raise

    def _write(self, data: bytes) -> None:
        existing = self._stat_target()
        if existing is not None and stat.S_ISDIR(existing.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder")
        temp = f".staged-{secrets.token_hex(8)}.pylot"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _COMMON
        if self._folder_fd is not None:
            fd = os.open(temp, flags, 0o666, dir_fd=self._folder_fd)
        else:
            fd = os.open(self._folder / temp, flags, 0o666)
        self._temp = temp
        with os.fdopen(fd, "wb") as f:
            if existing is not None and stat.S_ISREG(existing.st_mode) and hasattr(os, "fchmod"):
                os.fchmod(fd, stat.S_IMODE(existing.st_mode))  # the replacement keeps the file's mode
            f.write(data)

    def _stat_target(self) -> os.stat_result | None:
        try:
            if self._folder_fd is not None:
                return os.stat(self._name, dir_fd=self._folder_fd, follow_symlinks=False)
            return os.stat(self._folder / self._name, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def commit(self) -> None:
        """Rename the staged file over the target (a symlink there is replaced, not followed)."""
        if self._temp is None:
            raise ToolError(f"{self.shown}: nothing staged to commit")
        try:
            if self._folder_fd is not None:
                os.replace(self._temp, self._name, src_dir_fd=self._folder_fd, dst_dir_fd=self._folder_fd)
            else:
                os.replace(self._folder / self._temp, self._folder / self._name)
        except OSError as exc:
            raise _refusal(self.shown, exc, "written") from None
        self._temp = None

    def discard(self) -> None:
        """Remove the staged file unless it was committed; idempotent."""
        if self._temp is not None:
            with contextlib.suppress(OSError):
                if self._folder_fd is not None:
                    os.unlink(self._temp, dir_fd=self._folder_fd)
                else:
                    (self._folder / self._temp).unlink()
            self._temp = None
        if self._folder_fd is not None:
            os.close(self._folder_fd)
            self._folder_fd = None

    def __enter__(self) -> StagedFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()


def _open_walking(root: Path, relative: PurePath) -> int:
    folder = _open_folder(root, relative.parts[:-1], create=False)
    try:
        return os.open(relative.parts[-1], os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _COMMON, dir_fd=folder)
    finally:
        os.close(folder)


def _open_folder(root: Path, parts: Sequence[str], *, create: bool) -> int:
    """A descriptor of root/parts, each folder opened relative to its parent without following a symlink."""
    flags = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _COMMON
    fd = os.open(root, flags)
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=fd)
            child = os.open(part, flags, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_checked(root: Path, relative: PurePath) -> int:
    """Where links cannot be refused at the open: open, then check it is still the file the path names."""
    path = root.joinpath(relative)
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | _COMMON)
    try:
        opened, now = os.fstat(fd), os.stat(path)
        if (opened.st_dev, opened.st_ino) != (now.st_dev, now.st_ino):
            raise OSError(errno.ELOOP, "the file changed while it was opened")
        _check_unchanged(path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_unchanged(path: Path) -> None:
    """The path is still free of symlinks: it resolves to itself."""
    if os.path.normcase(os.path.realpath(path)) != os.path.normcase(str(path)):
        raise OSError(errno.ELOOP, "a symlink appeared on the path")


def _refusal(shown: str, exc: OSError, done: str) -> ToolError:
    """A ToolError that says what is wrong with the path; OS errors never carry file content."""
    if exc.errno in _LINK_ERRNOS:
        return ToolError(f"{shown}: a part of its path is a symlink or not a folder, so it is not {done}")
    if isinstance(exc, FileNotFoundError):
        return ToolError(f"{shown}: no such file in the workspace")
    if isinstance(exc, IsADirectoryError):
        return ToolError(f"{shown}: a folder, not a file")
    if isinstance(exc, PermissionError):
        return ToolError(f"{shown}: permission denied")
    return ToolError(f"{shown}: not {done} ({exc.strerror or type(exc).__name__})")
