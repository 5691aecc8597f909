"""The permission policy of the code tools: every path inside one workspace root, writes only where allowed.

Paths are resolved (symlinks followed) before they are checked, so neither `..` nor a symlink that points
outside the workspace gets a tool out of it. Writes need the policy not to be read-only and the path,
relative to the root, to match one of the writable globs (`**` crosses directories, `*` does not).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pylot.errors import ToolError

# Never writable, whatever the globs say: version control internals and environments.
PROTECTED = ("**/.git/**", ".git/**", "**/.venv/**", ".venv/**")


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
    """

    root: Path
    read_only: bool = False
    writable: Sequence[str] = field(default=("**",))

    def __post_init__(self) -> None:
        root = Path(self.root).expanduser().resolve()
        if not root.is_dir():
            raise ToolError(f"workspace {root} is not a directory")
        object.__setattr__(self, "root", root)
        object.__setattr__(self, "writable", tuple(self.writable))

    def resolve(self, path: str | Path) -> Path:
        """The absolute, symlink-free path of `path` (relative to root, or absolute inside it)."""
        raw = Path(path).expanduser()
        if ".." in raw.parts:
            raise ToolError(f"path {path}: '..' is not allowed; give a path inside the workspace")
        candidate = raw if raw.is_absolute() else self.root / raw
        resolved = candidate.resolve()
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
