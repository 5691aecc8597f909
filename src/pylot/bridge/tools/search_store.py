"""The SQLite store behind SemanticSearch: files, chunks, vectors and an FTS5 index, with numbered migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def m001_create_tables(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        CREATE TABLE files (
            path TEXT PRIMARY KEY,
            hash TEXT NOT NULL,
            language TEXT,
            indexed_at REAL NOT NULL
        );
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,
            start_line INTEGER NOT NULL,
            end_line INTEGER NOT NULL,
            symbol TEXT,
            kind TEXT NOT NULL,
            preview TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX chunks_path ON chunks(path);
        CREATE INDEX chunks_hash ON chunks(hash);
        -- Vectors are keyed by the chunk's content hash and the model, so moved code is not embedded again.
        CREATE TABLE vectors (
            hash TEXT NOT NULL,
            model TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (hash, model)
        );
        CREATE VIRTUAL TABLE chunks_fts USING fts5(path, symbol, body, tokenize = 'porter unicode61');
        """,
    )


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Statements one by one: executescript() would commit the migration's transaction half way."""
    body = "\n".join(line for line in script.splitlines() if not line.strip().startswith("--"))
    for statement in body.split(";"):
        if statement.strip():
            db.execute(statement)


def m002_chunk_summaries(db: sqlite3.Connection) -> None:
    """A second vector per chunk, of its signature and docstring. Forget the files so that the next index
    cuts them again; their code vectors are kept (keyed by text hash), so only the summaries are embedded."""
    db.execute("ALTER TABLE chunks ADD COLUMN summary_hash TEXT")
    db.execute("CREATE INDEX chunks_summary_hash ON chunks(summary_hash)")
    db.execute("DELETE FROM chunks_fts")
    db.execute("DELETE FROM chunks")
    db.execute("DELETE FROM files")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [m001_create_tables, m002_chunk_summaries]


class SearchStore:
    """One SQLite file per workspace; a single connection shared by threads under a lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        self._migrate()

    def _migrate(self) -> None:
        with self.transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                migration(db)
                db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self.db

    def close(self) -> None:
        with self._lock:
            self.db.close()
