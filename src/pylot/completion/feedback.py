"""Suggestion feedback (view / accept / dismiss) in SQLite, with numbered migrations."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def m001_create_events(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            completion_id TEXT NOT NULL,
            event TEXT NOT NULL CHECK (event IN ('view', 'accept', 'dismiss')),
            language TEXT,
            latency_ms REAL,
            created_at REAL NOT NULL
        )"""
    )
    db.execute("CREATE INDEX events_completion ON events (completion_id)")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [m001_create_events]


def migrate(db: sqlite3.Connection) -> None:
    """Apply the migrations this database has not seen yet, each in its own transaction."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    for migration in MIGRATIONS:
        if migration.__name__ in done:
            continue
        with db:
            migration(db)
            db.execute("INSERT INTO _migrations VALUES (?, ?)", (migration.__name__, time.time()))


@dataclass
class FeedbackStats:
    views: int
    accepts: int
    dismisses: int

    @property
    def acceptance_rate(self) -> float:
        shown = max(self.views, self.accepts + self.dismisses)
        return self.accepts / shown if shown else 0.0


class FeedbackStore:
    """Records what users did with suggestions; holds ids and sizes, never code."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            migrate(self._db)

    def record(
        self, completion_id: str, event: str, language: str | None = None, latency_ms: float | None = None
    ) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO events (completion_id, event, language, latency_ms, created_at) VALUES (?, ?, ?, ?, ?)",
                (completion_id, event, language, latency_ms, time.time()),
            )

    def stats(self) -> FeedbackStats:
        with self._lock:
            counts = dict(self._db.execute("SELECT event, COUNT(*) FROM events GROUP BY event").fetchall())
        return FeedbackStats(counts.get("view", 0), counts.get("accept", 0), counts.get("dismiss", 0))

    def close(self) -> None:
        with self._lock:
            self._db.close()
