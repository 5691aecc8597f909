"""Which files of a workspace are worth indexing, and which of them are tests or documents."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pylot.bridge.policy import Policy, glob_match
from pylot.bridge.tools.languages import detect_language
from pylot.errors import ToolError

TEXT_SUFFIXES = frozenset({".md", ".markdown", ".rst", ".txt", ".toml", ".yaml", ".yml", ".cfg", ".ini"})
SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache",
     ".ruff_cache", "dist", "build", ".tox", "target"}
)  # fmt: skip
MAX_FILE_BYTES = 512_000


def workspace_files(policy: Policy, exclude: Sequence[str] = ()) -> list[Path]:
    """Source and text files of the workspace: tracked or unignored ones when it is a git repository, else a
    walk; never in SKIP_DIRS, an `exclude` glob, minified bundles, big files or symlinks that lead out."""
    root = policy.root
    listed = _git_files(root)
    candidates = listed if listed is not None else _walk(root)
    out = []
    for path in candidates:
        relative = path.relative_to(root)
        if any(part in SKIP_DIRS for part in relative.parts[:-1]):
            continue
        if any(glob_match(relative.as_posix(), pattern) for pattern in exclude):
            continue
        suffix = path.suffix.lower()
        if (detect_language(path) is None and suffix not in TEXT_SUFFIXES) or ".min." in path.name:
            continue
        try:
            if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
                continue
            policy.resolve(path)  # a tracked symlink may point outside the workspace
        except (OSError, ToolError):
            continue
        out.append(path)
    return sorted(out)


_SECONDARY = ("tests/**", "test/**", "**/tests/**", "**/test/**", "**/test_*.py", "**/*_test.*", "**/*.test.*",
              "**/*.spec.*", "docs/**", "**/*.md", "**/*.rst", "**/*.txt")  # fmt: skip


def is_secondary(path: str) -> bool:
    """Tests and documents: they describe code in the same words as the code, and rank just below it."""
    return any(glob_match(path, pattern) for pattern in _SECONDARY)


def minified(source: str) -> bool:
    """A bundle or generated file: long lines, nothing a person would search."""
    lines = source.count("\n") + 1
    return len(source) / lines > 300


def _git_files(root: Path) -> list[Path] | None:
    if shutil.which("git") is None or not (root / ".git").exists():
        return None
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return [root / p for p in proc.stdout.decode("utf-8", errors="replace").split("\0") if p]


def _walk(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
        out.extend(Path(dirpath) / f for f in filenames)
    return out
