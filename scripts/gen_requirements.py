#!/usr/bin/env python3
"""Writes requirements.txt from pyproject.toml, the single source of the pinned dependencies."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = "# Generated from pyproject.toml by scripts/gen_requirements.py (make requirements). Do not edit.\n"


def render() -> str:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return HEADER + "".join(f"{dep}\n" for dep in project["dependencies"])


if __name__ == "__main__":
    (ROOT / "requirements.txt").write_text(render(), encoding="utf-8")
    print("wrote requirements.txt")
