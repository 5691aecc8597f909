"""Recall@5 of SemanticSearch on labelled queries over this repository, per ranking mode.

Each query is written in words (not the identifier it should find) and names the file and symbol that
answers it; a query counts as found when one of the first five results is in that file and overlaps the
symbol's lines (looked up with CodeParser at run time, so edits that move code do not break the labels).

    .venv/bin/python benchmarks/semantic_search.py [--db PATH]

The index is built (or updated) in --db, by default the one `pylot index` keeps for this repository.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_busy_flag, write_results

from pylot.bridge.policy import Policy
from pylot.bridge.tools.code_parser import CodeParser
from pylot.bridge.tools.embedder import LlamaEmbedder
from pylot.bridge.tools.semantic_search import SearchHit, SemanticSearch, default_index_path
from pylot.config.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

# (query, [(file, symbol), ...]): any of the targets counts.
QUERIES: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "verify that a downloaded file matches the expected size and sha256",
        [("src/pylot/models/fetch.py", "AtomicWriter.commit")],
    ),
    ("stop a running generation when the client goes away", [("src/pylot/engines/interface.py", "CancelToken")]),
    ("read a YAML or TOML configuration file", [("src/pylot/config/config_manager.py", "load_file")]),
    ("environment variables override the settings", [("src/pylot/config/config_manager.py", "env_overrides")]),
    (
        "least recently used cache with expiry for generation results",
        [("src/pylot/server/result_cache.py", "ModelCache")],
    ),
    ("the key that identifies a cached request", [("src/pylot/server/result_cache.py", "cache_key")]),
    ("how much memory the attention key value cache needs", [("src/pylot/models/memory.py", "kv_cache_bytes")]),
    ("shrink the context window so the model fits in free RAM", [("src/pylot/models/memory.py", "fit_context")]),
    ("read metadata from the header of a GGUF model file", [("src/pylot/models/gguf.py", "read_gguf")]),
    ("require an API key on every HTTP request", [("src/pylot/server/middleware.py", "ApiKeyMiddleware")]),
    ("reject request bodies that are too large", [("src/pylot/server/middleware.py", "BodyLimitMiddleware")]),
    (
        "turn exceptions into OpenAI-shaped error JSON",
        [("src/pylot/server/errors.py", "error_body"), ("src/pylot/server/errors.py", "pylot_error_response")],
    ),
    (
        "hold back text that may be the beginning of a stop sequence",
        [("src/pylot/engines/llama_cpp/text_stream.py", "StopMatcher")],
    ),
    ("assemble bytes into whole UTF-8 characters", [("src/pylot/engines/llama_cpp/text_stream.py", "Utf8Assembler")]),
    ("let requests take turns in the order they arrived", [("src/pylot/engines/llama_cpp/gate.py", "FairGate")]),
    ("download a wheel from the package registry with pip", [("src/pylot/models/fetch.py", "download_wheel")]),
    ("Prometheus metrics endpoint", [("src/pylot/server/routes/info.py", "metrics")]),
    ("store accepted or dismissed suggestions", [("src/pylot/completion/feedback.py", "FeedbackStore")]),
    (
        "report the CPU features and GPU runtimes of this machine",
        [("src/pylot/cli/doctor.py", "cpu_features"), ("src/pylot/cli/doctor.py", "run_doctor")],
    ),
    ("the special tokens for fill-in-the-middle", [("src/pylot/engines/llama_cpp/engine.py", "LlamaLLM.fim_tokens")]),
    ("make a model file smaller with a lower precision type", [("src/pylot/models/quantize.py", "quantize")]),
    ("decode a stream of server-sent events", [("src/pylot/engines/llama_server/sse_decode.py", "SSEDecoder")]),
]


def targets_lines(parser: CodeParser) -> dict[tuple[str, str], tuple[int, int] | None]:
    out: dict[tuple[str, str], tuple[int, int] | None] = {}
    for _, targets in QUERIES:
        for path, symbol in targets:
            file = ROOT / path
            found = parser.parse(file.read_text(encoding="utf-8"), path=path).find(symbol) if file.exists() else []
            out[(path, symbol)] = (found[0].start_line, found[0].end_line) if found else None
    return out


def rank_of(
    hits: list[SearchHit], targets: list[tuple[str, str]], lines: dict, *, file_only: bool = False
) -> int | None:  # type: ignore[type-arg]
    """1-based rank of the first hit on a target symbol (or only in its file), None when none is in the list."""
    for rank, hit in enumerate(hits, 1):
        for path, symbol in targets:
            span = lines[(path, symbol)]
            if span and hit.path == path and (file_only or (hit.start_line <= span[1] and hit.end_line >= span[0])):
                return rank
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=None, help="Index file (default: the one `pylot index` uses).")
    add_busy_flag(ap)
    args = ap.parse_args()
    settings = Settings()
    db = args.db or default_index_path(ROOT, settings.data_dir())
    embedder = LlamaEmbedder.minilm(settings.store_dir(), settings.home() / "downloads" / "models")
    search = SemanticSearch(
        Policy(ROOT), embedder, db, exclude=["benchmarks/semantic_search.py", "benchmarks/results/**"]
    )
    started = time.perf_counter()
    stats = search.index(lambda done, total, path: print(f"\rindexing {done}/{total}", end="", file=sys.stderr))
    print(file=sys.stderr)
    lines = targets_lines(search.parser)
    labelled = [(q, t) for q, t in QUERIES if any(lines[x] for x in t)]
    rows = []
    misses: dict[str, list[str]] = {}
    for mode in ("hybrid", "semantic", "lexical"):
        found = files_found = 0
        reciprocal = 0.0
        t0 = time.perf_counter()
        for query, targets in labelled:
            hits = search.search(query, limit=5, mode=mode)  # type: ignore[arg-type]
            rank = rank_of(hits, targets, lines)
            files_found += rank_of(hits, targets, lines, file_only=True) is not None
            if rank:
                found += 1
                reciprocal += 1 / rank
            else:
                misses.setdefault(mode, []).append(query)
        per_query = (time.perf_counter() - t0) / len(labelled)
        rows.append(
            {
                "mode": mode,
                "queries": len(labelled),
                "recall@5": f"{found / len(labelled):.2f}",
                "MRR@5": f"{reciprocal / len(labelled):.2f}",
                "file recall@5": f"{files_found / len(labelled):.2f}",
                "ms per query": f"{per_query * 1000:.0f}",
            }
        )
    notes = [
        f"Index of this repository: {stats.files_seen} files, {search_chunk_count(search)} chunks, embedding model "
        f"{embedder.model_id} (GGUF converted from the registry wheel, run by llama.cpp); each chunk has a vector "
        f"of its code and one of its signature and docstring. This run embedded {stats.embedded} texts in "
        f"{time.perf_counter() - started:.0f}s (files unchanged since the last run are skipped).",
        "Semantic score of a chunk: the better cosine of its two vectors.",
        "recall@5: a result overlaps the expected symbol; file recall@5: a result is in the expected file.",
        "hybrid = 0.6 x cosine + 0.4 x BM25/best BM25 (SQLite FTS5, porter stemming, identifiers split into "
        "words); tests and documents score x0.85 in every mode.",
        "Queries and their expected file/symbol are in benchmarks/semantic_search.py; they describe the code in "
        "other words than its identifiers.",
    ]
    for mode, queries in misses.items():
        notes.append(f"Missed by {mode}: " + "; ".join(f"'{q}'" for q in queries))
    write_results("semantic_search", "Semantic code search: recall@5 on this repository", rows, notes)
    search.close()


def search_chunk_count(search: SemanticSearch) -> int:
    with search.store.read() as db:
        return int(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])


if __name__ == "__main__":
    main()
