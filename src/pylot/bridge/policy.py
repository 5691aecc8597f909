"""The permission policy of the code tools: every path inside one workspace root, writes only where allowed.

Paths are resolved (symlinks followed) before they are checked, so neither `..` nor a symlink that points
outside the workspace gets a tool out of it. Writes need the policy not to be read-only and the path,
relative to the root, to match one of the writable globs (`**` crosses directories, `*` does not).

Every check of a path lives here, and every tool goes through it:
- refused outright: a NUL byte, more than MAX_PATH_BYTES in all or MAX_NAME_BYTES in one name, `..`;
- refused after resolving: anything that resolves outside the root, by an absolute path or a symlink.
  A path through /proc (`/proc/self/root/<workspace>/a.py`, `/proc/self/cwd/...`) is resolved like any
  other: one that lands outside is refused, one that lands inside is the workspace file it resolves to,
  and that file is opened from the root (safe_io), never through /proc;
- refused when the file is opened: a symlink swapped in after the check, anything but a regular file,
  and a file with more than one hard link unless `allow_hard_links` (safe_io says why).
Tools read and write files through `read_text`, `read_bytes`, `write_text` and `stage_text`; only the
sandboxed test runs copy the workspace (or a package of it) as it is, links included (see sandbox).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pylot.bridge import safe_io
from pylot.errors import ToolError

# Never writable, whatever the globs say: version control internals and environments.
PROTECTED = ("**/.git/**", ".git/**", "**/.venv/**", ".venv/**")
MAX_PATH_BYTES = 4096  # PATH_MAX on Linux; longer paths fail in the OS anyway
MAX_NAME_BYTES = 255  # NAME_MAX of ext4, APFS and NTFS


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A compiled regex for a glob over POSIX relative paths: `**` any depth, `*` and `?` within a segment."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(relative: str, pattern: str) -> bool:
    return glob_regex(pattern).match(relative) is not None


@dataclass(frozen=True)
class Policy:
    """Where the tools may read and write.

    Args:
        root: The workspace; nothing outside it can be read or written.
        read_only: Refuse every write.
        writable: Globs, relative to root, of the files that may be written (default: all of them).
        allow_hard_links: Read files that have more than one hard link (their twin may be outside root).
    """

    root: Path
    read_only: bool = False
    writable: Sequence[str] = field(default=("**",))
    allow_hard_links: bool = False

    def __post_init__(self) -> None:
        root = Path(self.root).expanduser().resolve()
        if not root.is_dir():
            raise ToolError(f"workspace {root} is not a directory")
        object.__setattr__(self, "root", root)
        object.__setattr__(self, "writable", tuple(self.writable))

    def resolve(self, path: str | Path) -> Path:
        """The absolute, symlink-free path of `path` (relative to root, or absolute inside it)."""
        text = os.fspath(path)
        if "\0" in text:
            raise ToolError("path contains a NUL byte")
        try:
            raw = Path(text).expanduser()
        except RuntimeError:  # ~user of no such user
            raise ToolError(f"path {text}: cannot expand '~'") from None
        if ".." in raw.parts:
            raise ToolError(f"path {path}: '..' is not allowed; give a path inside the workspace")
        candidate = raw if raw.is_absolute() else self.root / raw
        _check_length(candidate)
        try:
            resolved = candidate.resolve()
        except OSError as exc:
            raise ToolError(f"path {path}: {exc.strerror or type(exc).__name__}") from None
        if resolved != self.root and not resolved.is_relative_to(self.root):
            if candidate.is_symlink() or any(p.is_symlink() for p in candidate.parents if p != self.root):
                raise ToolError(f"path {path}: a symlink leads outside the workspace {self.root}")
            raise ToolError(f"path {path} is outside the workspace {self.root}")
        return resolved

    def relative(self, path: str | Path) -> str:
        """The path relative to root, with forward slashes (how globs and results show it)."""
        return self.resolve(path).relative_to(self.root).as_posix()

    def read_path(self, path: str | Path) -> Path:
        """A file that exists inside the workspace."""
        resolved = self.resolve(path)
        if not resolved.is_file():
            raise ToolError(f"{path}: no such file in the workspace")
        return resolved

    def read_bytes(self, path: str | Path) -> bytes:
        """The content of a workspace file, opened without following links (see safe_io)."""
        resolved = self.resolve(path)
        return safe_io.read_bytes(self.root, resolved.relative_to(self.root), allow_hard_links=self.allow_hard_links)

    def read_text(self, path: str | Path, *, errors: str = "strict") -> str:
        """A workspace file as UTF-8 text, with newlines read as open() reads them (`\\r\\n` and `\\r` as `\\n`)."""
        data = self.read_bytes(path)
        try:
            text = data.decode("utf-8", errors)
        except UnicodeDecodeError as exc:  # its message would quote the bytes
            where = f"undecodable byte at offset {exc.start}"
            raise ToolError(f"{self.relative(path)} is not UTF-8 text ({where})") from None
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def can_write(self, path: str | Path) -> bool:
        try:
            self.write_path(path)
        except ToolError:
            return False
        return True

    def write_path(self, path: str | Path) -> Path:
        """A path the tools may write; ToolError says why not."""
        resolved = self.resolve(path)
        if self.read_only:
            raise ToolError(f"{path}: the workspace is read-only")
        relative = resolved.relative_to(self.root).as_posix()
        if any(glob_match(relative, p) for p in PROTECTED):
            raise ToolError(f"{path}: writing under .git or .venv is never allowed")
        if not any(glob_match(relative, p) for p in self.writable):
            raise ToolError(f"{path}: not writable by the policy (writable: {', '.join(self.writable) or 'nothing'})")
        return resolved

    def stage_text(self, path: str | Path, text: str) -> safe_io.StagedFile:
        """Text staged beside a writable file, swapped in by its commit() (several files: stage all first)."""
        resolved = self.write_path(path)
        return safe_io.StagedFile(self.root, resolved.relative_to(self.root), text.encode("utf-8"))

    def write_text(self, path: str | Path, text: str) -> None:
        """Write a writable file atomically as UTF-8, creating its folders; a symlink there is replaced."""
        with self.stage_text(path, text) as staged:
            staged.commit()


def _check_length(candidate: Path) -> None:
    try:
        total = len(os.fsencode(candidate))
        longest = max((len(os.fsencode(part)) for part in candidate.parts), default=0)
    except UnicodeEncodeError:
        raise ToolError("path is not valid text (it has an unpaired surrogate)") from None
    if total > MAX_PATH_BYTES:
        raise ToolError(f"path is longer than {MAX_PATH_BYTES} bytes")
    if longest > MAX_NAME_BYTES:
        raise ToolError(f"path has a name longer than {MAX_NAME_BYTES} bytes")
