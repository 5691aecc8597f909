"""Progress of long model operations: a rich bar on a terminal, a callback for the web console, or nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as _Bar

ProgressCallback = Callable[[int, int], None]
"""Called as callback(done_bytes, total_bytes) as work advances."""


class Progress:
    """Reports nothing; the base of the other reporters and the one used when output is not a terminal."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0

    def start(self, description: str, total: int) -> None:
        self.total, self.done = total, 0

    def describe(self, description: str) -> None:
        """Say what is happening now, e.g. while pip fetches the next wheel."""

    def advance(self, n: int) -> None:
        self.done += n

    def close(self) -> None:
        pass

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class CallbackProgress(Progress):
    def __init__(self, callback: ProgressCallback) -> None:
        super().__init__()
        self._callback = callback

    def start(self, description: str, total: int) -> None:
        super().start(description, total)
        self._callback(0, total)

    def advance(self, n: int) -> None:
        super().advance(n)
        self._callback(self.done, self.total)


class RichProgress(Progress):
    """Bytes, speed and time left, on stderr."""

    def __init__(self) -> None:
        super().__init__()
        self._bar = _Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._task: TaskID | None = None
        self._title = ""
        self._bar.start()

    def start(self, description: str, total: int) -> None:
        super().start(description, total)
        self._title = description
        if self._task is not None:
            self._bar.stop_task(self._task)
        self._task = self._bar.add_task(description, total=total)

    def describe(self, description: str) -> None:
        if self._task is not None:
            self._bar.update(self._task, description=f"{self._title}: {description}")

    def advance(self, n: int) -> None:
        super().advance(n)
        if self._task is not None:
            self._bar.update(self._task, advance=n)

    def close(self) -> None:
        self._bar.stop()


def make_progress(callback: ProgressCallback | None = None) -> Progress:
    """A callback reporter if one is given, a rich bar if stderr is a terminal, else a silent one."""
    if callback is not None:
        return CallbackProgress(callback)
    if sys.stderr.isatty():
        return RichProgress()
    return Progress()
