"""Logging set-up: levels from the config; prompts and code are only ever logged at DEBUG."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(level: str = "INFO", file: Path | None = None) -> None:
    root = logging.getLogger("pylot")
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_pylot", False):
            root.removeHandler(handler)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._pylot = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.propagate = False
