"""SemanticSearch: a workspace cut into symbol chunks, found by meaning (embeddings) and by words (FTS5 BM25).

Each chunk gets two vectors: one of its code, one of its signature and docstring (a question in words is
closer to the docstring than to the code); its cosine is the better of the two. Indexing is incremental: a
file whose content hash is unchanged is skipped, and a text embedded before (by the same model) reuses its
vector. A search ranks chunks by a hybrid score,
`semantic_weight * cosine + (1 - semantic_weight) * bm25 / best_bm25`, so an exact identifier still wins
when the words match, and a description in other words still finds the code.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from pylot.bridge.policy import Policy
from pylot.bridge.tool_manager import Tool
from pylot.bridge.tools.chunking import Chunk, chunk_code, chunk_text, split_identifiers
from pylot.bridge.tools.code_parser import CodeParser, content_hash
from pylot.bridge.tools.embedder import Embedder
from pylot.bridge.tools.languages import detect_language
from pylot.bridge.tools.search_store import SearchStore
from pylot.bridge.tools.workspace_files import is_secondary, minified, workspace_files
from pylot.errors import ToolError

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "semantic", "lexical"]
Progress = Callable[[int, int, str], None]  # (files done, files total, current path)

EMBED_BATCH = 16
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "does",
        "for",
        "from",
        "how",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "with",
        "who",
        "why",
        "code",
        "function",
        "functions",
        "file",
        "files",
        "find",
    ]
)


@dataclass(frozen=True)
class SearchHit:
    """One result: a line range of a file, with its scores."""

    path: str
    start_line: int
    end_line: int
    symbol: str | None
    kind: str
    score: float
    semantic: float
    lexical: float
    preview: str
    location: str = field(init=False)  # "path:start-end", what a person or a model opens

    def __post_init__(self) -> None:
        object.__setattr__(self, "location", f"{self.path}:{self.start_line}-{self.end_line}")


@dataclass(frozen=True)
class IndexStats:
    """What one indexing run did."""

    files_seen: int
    files_indexed: int
    files_unchanged: int
    files_removed: int
    chunks: int
    embedded: int  # texts sent to the embedding model: code and summaries of new chunks
    seconds: float


def default_index_path(root: Path, data_dir: Path) -> Path:
    """One index per workspace, named after its absolute path, in Pylot's data directory."""
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return data_dir / "search" / f"{root.name or 'root'}-{digest}.sqlite"


def embedding_text(chunk: Chunk) -> str:
    """What the embedding model reads: where the chunk is, what it is, then its code with words split out."""
    head = f"{chunk.path} {chunk.kind} {chunk.symbol or ''}"
    return f"{split_identifiers(head)}\n{split_identifiers(chunk.text)}"


def summary_text(chunk: Chunk) -> str | None:
    """The chunk's signature and docstring in words: natural-language queries match these best."""
    if not chunk.summary:
        return None
    head = split_identifiers(f"{chunk.path} {chunk.kind} {chunk.symbol or ''}")
    return f"{head}\n{split_identifiers(chunk.summary.splitlines()[0])}\n{chunk.summary}"


def fts_query(query: str) -> str | None:
    words = [w for w in re.findall(r"\w+", f"{query} {split_identifiers(query)}".lower()) if w not in _STOPWORDS]
    unique = list(dict.fromkeys(words))
    return " OR ".join(f'"{w}"' for w in unique) or None


class SemanticSearch:
    """Indexes the files of a workspace and answers natural-language or identifier queries.

    Args:
        policy: The workspace to index.
        embedder: The embedding model, or a function that loads it on first use.
        db_path: Where the index lives (see default_index_path).
        parser: A shared CodeParser.
        semantic_weight: Share of the cosine similarity in the hybrid score.
        secondary_weight: Factor on the score of tests and documents, so that the code itself ranks first
            when both match about as well (1.0 treats them alike).
        exclude: Globs of workspace files not to index.
    """

    def __init__(
        self,
        policy: Policy,
        embedder: Embedder | Callable[[], Embedder],
        db_path: Path,
        *,
        parser: CodeParser | None = None,
        semantic_weight: float = 0.6,
        secondary_weight: float = 0.85,
        exclude: Sequence[str] = (),
    ) -> None:
        self.policy = policy
        self._embedder = embedder
        self.store = SearchStore(db_path)
        self.parser = parser or CodeParser(policy)
        self.semantic_weight = semantic_weight
        self.secondary_weight = secondary_weight
        self.exclude = tuple(exclude)
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None  # (chunk ids, unit vectors)

    @property
    def embedder(self) -> Embedder:
        if callable(self._embedder) and not hasattr(self._embedder, "embed"):
            self._embedder = self._embedder()
        return self._embedder  # type: ignore[return-value]

    def tools(self) -> list[Tool]:
        return [
            Tool.from_function(self.search_code, timeout_s=120),
            Tool.from_function(self.index_code, timeout_s=3600),
        ]

    # ---- the tools ----------------------------------------------------------------------------------

    def search_code(self, query: str, limit: int = 5, mode: Mode = "hybrid") -> list[SearchHit]:
        """Find code by meaning or by name in the indexed workspace; results are file:line ranges with scores.

        Args:
            query: What you are looking for, in words or identifiers.
            limit: How many results.
            mode: hybrid (embeddings + BM25), semantic (embeddings only) or lexical (BM25 only).
        """
        return self.search(query, limit=limit, mode=mode)

    def index_code(self) -> IndexStats:
        """Index the workspace for search_code; only files changed since the last run are read again."""
        return self.index()

    # ---- indexing ------------------------------------------------------------------------------------

    def files(self) -> list[Path]:
        """The files worth indexing (see workspace_files)."""
        return workspace_files(self.policy, self.exclude)

    def index(self, progress: Progress | None = None) -> IndexStats:
        """Bring the index up to date with the workspace."""
        started = time.perf_counter()
        files = self.files()
        with self.store.read() as db:
            known = dict(db.execute("SELECT path, hash FROM files").fetchall())
        model = self.embedder.model_id
        seen: set[str] = set()
        indexed = unchanged = chunk_count = embedded = 0
        pending: dict[str, str] = {}  # text hash -> embedding text, waiting for the model
        for n, file in enumerate(files, 1):
            relative = file.relative_to(self.policy.root).as_posix()
            if progress:
                progress(n - 1, len(files), relative)
            try:
                data = self.policy.read_bytes(file)
            except ToolError:  # gone, unreadable, or refused (a hard link, a symlink swapped in)
                log.info("skipping a file the policy does not read")
                continue
            if b"\0" in data[:8192]:
                continue
            seen.add(relative)
            digest = content_hash(data)
            if known.get(relative) == digest:
                unchanged += 1
                continue
            source = data.decode("utf-8", errors="replace")
            if minified(source):
                continue
            chunks = self._chunks(relative, source)
            with self.store.transaction() as db:
                self._replace_file(db, relative, digest, detect_language(file, source), chunks)
            for chunk in chunks:
                for text in (embedding_text(chunk), summary_text(chunk)):
                    if text:
                        pending[content_hash(text)] = text
            chunk_count += len(chunks)
            indexed += 1
            if len(pending) >= EMBED_BATCH * 4:
                embedded += self._embed_pending(pending, model)
        embedded += self._embed_pending(pending, model)
        removed = [p for p in known if p not in seen]
        with self.store.transaction() as db:
            for path in removed:
                db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE path = ?)", (path,))
                db.execute("DELETE FROM files WHERE path = ?", (path,))
            db.execute(
                "DELETE FROM vectors WHERE hash NOT IN "
                "(SELECT hash FROM chunks UNION SELECT summary_hash FROM chunks WHERE summary_hash IS NOT NULL)"
            )
        # A different model than the one that built the index: embed what it has no vectors for.
        embedded += self._embed_missing(model)
        self._matrix = None
        if progress:
            progress(len(files), len(files), "")
        stats = IndexStats(
            len(files), indexed, unchanged, len(removed), chunk_count, embedded, time.perf_counter() - started
        )
        log.info(
            "indexed %d files (%d changed, %d removed), %d chunks, %d embedded in %.1fs",
            stats.files_seen,
            stats.files_indexed,
            stats.files_removed,
            stats.chunks,
            stats.embedded,
            stats.seconds,
        )
        return stats

    def _chunks(self, relative: str, source: str) -> list[Chunk]:
        language = detect_language(relative, source)
        if language is None:
            return chunk_text(relative, source)
        return chunk_code(relative, source, self.parser.parse(source, language=language, path=relative))

    def _replace_file(self, db, relative: str, digest: str, language: str | None, chunks: list[Chunk]) -> None:  # type: ignore[no-untyped-def]
        db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE path = ?)", (relative,))
        db.execute("DELETE FROM files WHERE path = ?", (relative,))
        db.execute(
            "INSERT INTO files (path, hash, language, indexed_at) VALUES (?, ?, ?, ?)",
            (relative, digest, language, time.time()),
        )
        for chunk in chunks:
            preview = next((ln.strip() for ln in chunk.text.splitlines() if ln.strip()), "")[:160]
            summary = summary_text(chunk)
            cursor = db.execute(
                "INSERT INTO chunks (path, start_line, end_line, symbol, kind, preview, hash, summary_hash) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (
                    relative,
                    chunk.start_line,
                    chunk.end_line,
                    chunk.symbol,
                    chunk.kind,
                    preview,
                    content_hash(embedding_text(chunk)),
                    content_hash(summary) if summary else None,
                ),
            )
            db.execute(
                "INSERT INTO chunks_fts (rowid, path, symbol, body) VALUES (?, ?, ?, ?)",
                (
                    cursor.lastrowid,
                    split_identifiers(relative),
                    split_identifiers(chunk.symbol or ""),
                    f"{chunk.text}\n{split_identifiers(chunk.text)}",
                ),
            )

    def _embed_pending(self, pending: dict[str, str], model: str) -> int:
        if not pending:
            return 0
        with self.store.read() as db:
            have = {
                h
                for (h,) in db.execute(
                    f"SELECT hash FROM vectors WHERE model = ? AND hash IN ({','.join('?' * len(pending))})",
                    (model, *pending),
                )
            }
        todo = [(h, t) for h, t in pending.items() if h not in have]
        pending.clear()
        for i in range(0, len(todo), EMBED_BATCH):
            batch = todo[i : i + EMBED_BATCH]
            vectors = self.embedder.embed([t for _, t in batch])
            with self.store.transaction() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO vectors (hash, model, vector) VALUES (?, ?, ?)",
                    [
                        (h, model, np.asarray(v, dtype=np.float32).tobytes())
                        for (h, _), v in zip(batch, vectors, strict=True)
                    ],
                )
        return len(todo)

    def _embed_missing(self, model: str) -> int:
        """Vectors the index lacks for `model` (another model built it): cut those files again and embed."""
        with self.store.read() as db:
            paths = [
                p
                for (p,) in db.execute(
                    "SELECT DISTINCT c.path FROM chunks c WHERE NOT EXISTS "
                    "(SELECT 1 FROM vectors v WHERE v.model = ? AND v.hash = c.hash)",
                    (model,),
                )
            ]
        pending: dict[str, str] = {}
        for path in paths:
            try:
                source = self.policy.read_text(path, errors="replace")
            except ToolError:
                source = ""
            for chunk in self._chunks(path, source):
                for text in (embedding_text(chunk), summary_text(chunk)):
                    if text:
                        pending[content_hash(text)] = text
        return self._embed_pending(pending, model)

    # ---- searching -----------------------------------------------------------------------------------

    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(chunk id per row, unit vectors): a chunk has a row for its code and one for its summary."""
        if self._matrix is None:
            with self.store.read() as db:
                rows = db.execute(
                    "SELECT c.id, v.vector FROM chunks c JOIN vectors v "
                    "ON v.model = ? AND (v.hash = c.hash OR v.hash = c.summary_hash)",
                    (self.embedder.model_id,),
                ).fetchall()
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            matrix = (
                np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
                if rows
                else np.zeros((0, 1), dtype=np.float32)
            )
            self._matrix = (ids, matrix)
        return self._matrix

    def search(self, query: str, *, limit: int = 5, mode: Mode = "hybrid") -> list[SearchHit]:
        if not query.strip():
            raise ToolError("search_code: the query is empty")
        if not 1 <= limit <= 100:
            raise ToolError("search_code: argument 'limit' must be between 1 and 100")
        with self.store.read() as db:
            if db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 0:
                raise ToolError("the workspace is not indexed yet; run index_code (or `pylot index`) first")
        semantic: dict[int, float] = {}
        lexical: dict[int, float] = {}
        pool = max(50, limit * 10)
        cosines: dict[int, float] = {}
        if mode in ("hybrid", "semantic"):
            ids, matrix = self._vectors()
            if len(ids):
                q = np.asarray(self.embedder.embed([split_identifiers(query) or query])[0], dtype=np.float32)
                scores = matrix @ q
                for c, x in zip(ids.tolist(), scores.tolist(), strict=True):
                    if x > cosines.get(c, -2.0):  # the better of a chunk's code and summary vectors
                        cosines[c] = x
                semantic = dict(sorted(cosines.items(), key=lambda item: -item[1])[:pool])
        if mode in ("hybrid", "lexical"):
            match = fts_query(query)
            if match:
                with self.store.read() as db:
                    rows = db.execute(
                        "SELECT rowid, bm25(chunks_fts, 1.0, 4.0, 1.0) FROM chunks_fts WHERE chunks_fts MATCH ? "
                        "ORDER BY rank LIMIT ?",
                        (match, pool),
                    ).fetchall()
                best = max((-score for _, score in rows), default=0.0) or 1.0
                lexical = {int(rowid): -score / best for rowid, score in rows}
        weight = {"hybrid": self.semantic_weight, "semantic": 1.0, "lexical": 0.0}[mode]
        candidates = set(semantic) | set(lexical)
        for c in candidates:
            if c not in semantic and c in cosines:
                semantic[c] = cosines[c]
        found = self._rows(candidates)
        scored = []
        for cid, row in found.items():
            score = weight * semantic.get(cid, 0.0) + (1 - weight) * lexical.get(cid, 0.0)
            if is_secondary(row[1]):
                score *= self.secondary_weight
            scored.append((score, cid))
        scored.sort(key=lambda x: -x[0])
        hits = []
        for score, cid in scored[:limit]:
            _, path, start, end, symbol, kind, preview = found[cid]
            sem, lex = round(semantic.get(cid, 0.0), 4), round(lexical.get(cid, 0.0), 4)
            hits.append(SearchHit(path, start, end, symbol, kind, round(score, 4), sem, lex, preview))
        return hits

    def _rows(self, chunk_ids: Iterable[int]) -> dict[int, tuple]:  # type: ignore[type-arg]
        wanted = list(chunk_ids)
        if not wanted:
            return {}
        with self.store.read() as db:
            return {
                r[0]: r
                for r in db.execute(
                    "SELECT id, path, start_line, end_line, symbol, kind, preview FROM chunks "
                    f"WHERE id IN ({','.join('?' * len(wanted))})",
                    wanted,
                )
            }

    def close(self) -> None:
        self.store.close()
