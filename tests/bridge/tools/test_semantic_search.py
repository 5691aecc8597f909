"""SemanticSearch over the polyglot fixture with the real MiniLM embedding model."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pylot.bridge.policy import Policy
from pylot.bridge.tools.chunking import chunk_code, split_identifiers
from pylot.bridge.tools.code_parser import CodeParser
from pylot.bridge.tools.embedder import LLMEmbedder
from pylot.bridge.tools.semantic_search import SemanticSearch
from pylot.errors import ToolError
from tests.bridge.tools.conftest import FIXTURE


@pytest.fixture
def search(project: Path, minilm: object, tmp_path: Path) -> Iterator[SemanticSearch]:
    engine = SemanticSearch(Policy(project), minilm, tmp_path / "index.sqlite")  # type: ignore[arg-type]
    yield engine
    engine.close()


def test_minilm_embeddings_are_unit_vectors_that_mean_something(minilm: object) -> None:
    a, b, c = minilm.embed(  # type: ignore[attr-defined]
        ["take a percentage off a price", "apply a discount to the cost", "the histogram of byte values"]
    )
    assert len(a) == 384
    assert abs(sum(x * x for x in a) - 1.0) < 1e-3
    cos = lambda u, v: sum(x * y for x, y in zip(u, v, strict=True))  # noqa: E731
    assert cos(a, b) > cos(a, c) + 0.2


def test_chunks_follow_symbols() -> None:
    source = (FIXTURE / "inventory/pricing.py").read_text()
    chunks = chunk_code("inventory/pricing.py", source, CodeParser().parse(source, path="inventory/pricing.py"))
    by_symbol = {c.symbol: c for c in chunks}
    assert {"apply_discount", "total_price", "clamp", "price_label"} <= set(by_symbol)
    assert by_symbol["clamp"].text.startswith("def clamp(")
    assert chunks[0].kind == "module" and chunks[0].start_line == 1  # docstring, imports, constants
    assert split_identifiers("parseConfig load_YAML_file") == "parse config load yaml file"


def test_index_then_search_by_meaning_and_by_name(search: SemanticSearch) -> None:
    stats = search.index()
    assert stats.files_indexed == stats.files_seen >= 12
    assert stats.chunks > 30
    assert stats.chunks < stats.embedded <= 2 * stats.chunks  # code, and signature + docstring

    hits = search.search("take a percentage off a price", limit=3)
    assert hits[0].path == "inventory/pricing.py" and hits[0].symbol == "apply_discount"
    assert hits[0].location == f"inventory/pricing.py:{hits[0].start_line}-{hits[0].end_line}"
    assert hits[0].score > hits[-1].score

    assert search.search("determinant of a matrix", limit=3)[0].path == "cpp/matrix.cpp"
    assert search.search("ledger balance", limit=3)[0].path == "csharp/Ledger.cs"
    lexical = search.search("histogram", limit=1, mode="lexical")[0]
    assert (lexical.path, lexical.symbol, lexical.semantic) == ("rust/lib.rs", "histogram", 0.0)
    semantic = search.search("count how often each byte occurs", limit=3, mode="semantic")
    assert "rust/lib.rs" in [h.path for h in semantic]

    from pylot.bridge.tool_manager import ToolManager

    (as_tool,) = ToolManager(search.tools()).call("search_code", {"query": "take a percentage off a price", "limit": 1})
    assert as_tool["location"] == hits[0].location and as_tool["symbol"] == "apply_discount"


def test_reindex_is_incremental(search: SemanticSearch, project: Path) -> None:
    search.index()
    again = search.index()
    assert (again.files_indexed, again.embedded, again.files_unchanged) == (0, 0, again.files_seen)

    pricing = project / "inventory/pricing.py"
    pricing.write_text(pricing.read_text() + "\n\ndef shipping_cost(weight_grams: int) -> int:\n    return 500\n")
    (project / "ruby/report.rb").unlink()
    changed = search.index()
    assert (changed.files_indexed, changed.files_removed) == (1, 1)
    assert changed.embedded <= 2, "only the new chunk (and the moved module tail) are embedded again"
    assert search.search("shipping cost for a parcel by weight", limit=1)[0].symbol == "shipping_cost"
    assert all(h.path != "ruby/report.rb" for h in search.search("orders report total", limit=10))


def test_search_before_indexing_and_bad_arguments(search: SemanticSearch) -> None:
    with pytest.raises(ToolError, match="not indexed"):
        search.search("anything")
    with pytest.raises(ToolError, match="limit"):
        search.search("anything", limit=0)
    with pytest.raises(ToolError, match="empty"):
        search.search("  ")


def test_exclude_globs_and_symlinks_out(project: Path, minilm: object, tmp_path: Path) -> None:
    (tmp_path / "secret.py").write_text("TOKEN = 'x'\n")
    (project / "inventory" / "leak.py").symlink_to(tmp_path / "secret.py")
    engine = SemanticSearch(Policy(project), minilm, tmp_path / "x.sqlite", exclude=["web/**", "**/*.rb"])  # type: ignore[arg-type]
    files = {p.relative_to(project).as_posix() for p in engine.files()}
    assert "inventory/leak.py" not in files, "a symlink out of the workspace is not indexed"
    engine.close()
    assert "inventory/pricing.py" in files
    assert not {f for f in files if f.startswith("web/") or f.endswith(".rb")}


def test_code_model_embeddings_as_the_fallback(qwen: object) -> None:
    embedder = LLMEmbedder(qwen)  # type: ignore[arg-type]
    (vector,) = embedder.embed(["def add(a, b): return a + b"])
    assert embedder.model_id == "llm:qwen2.5-coder-0.5b"
    assert len(vector) == embedder.dim > 100
    assert abs(sum(x * x for x in vector) - 1.0) < 1e-3


def cli_app() -> object:
    import typer

    from pylot.cli.tools_cmd import index, search

    app = typer.Typer()
    app.command()(index)
    app.command()(search)
    return app


def test_cli_index_then_search(tmp_path: Path, minilm: object, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "p"
    shutil.copytree(FIXTURE / "inventory", project / "inventory")  # a small workspace keeps this test quick
    monkeypatch.setattr("pylot.bridge.tools.embedder.default_embedder", lambda *a, **k: minilm)
    runner = CliRunner()
    indexed = runner.invoke(cli_app(), ["index", str(project)])  # type: ignore[arg-type]
    assert indexed.exit_code == 0, indexed.output
    assert "indexed" in indexed.output and "embedded" in indexed.output
    found = runner.invoke(cli_app(), ["search", "take a percentage off a price", "-w", str(project), "-n", "2"])  # type: ignore[arg-type]
    assert found.exit_code == 0, found.output
    first = found.output.splitlines()[0]
    assert first.startswith("inventory/pricing.py:") and "apply_discount" in first


def test_tests_and_documents_rank_second_and_bundles_are_skipped() -> None:
    from pylot.bridge.tools.workspace_files import is_secondary, minified

    assert is_secondary("tests/server/test_result_cache.py") and is_secondary("docs/api.md")
    assert is_secondary("web/src/app.test.ts") and is_secondary("go/stock_test.go")
    assert not is_secondary("src/pylot/server/result_cache.py")
    assert minified("var a=1;" * 200) and not minified("def f():\n    return 1\n")
