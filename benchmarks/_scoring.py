"""Scoring infilled code: by running a problem's tests, or by closeness to the true text."""

from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def passes(program: str) -> bool:
    """True when a check program exits 0: isolated mode, a scratch directory, 15 s at most."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "check.py"
        path.write_text(program, encoding="utf-8")
        try:
            r = subprocess.run(
                [sys.executable, "-I", str(path)],
                cwd=tmp,
                capture_output=True,
                timeout=15,
                env={"PATH": "/usr/bin:/bin"},
            )
        except subprocess.TimeoutExpired:
            return False
    return r.returncode == 0


def pass_rate(programs: list[str]) -> float:
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(passes, programs))
    return sum(results) / len(results) if results else 0.0


def normalized(code: str) -> str:
    """Lines with trailing spaces removed, leading and trailing blank lines dropped."""
    return "\n".join(line.rstrip() for line in code.split("\n")).strip("\n")


def exact(answer: str, truth: str) -> bool:
    return normalized(answer) == normalized(truth)


def similarity(answer: str, truth: str) -> float:
    """Edit similarity in [0, 1] (difflib's ratio of matching characters)."""
    return difflib.SequenceMatcher(None, normalized(answer), normalized(truth), autojunk=False).ratio()
