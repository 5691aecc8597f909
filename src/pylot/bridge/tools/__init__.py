"""The code tools, and `create_tool_manager`, which registers them all for one workspace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pylot.bridge.policy import Policy
from pylot.bridge.sandbox import Sandbox
from pylot.bridge.tool_manager import Tool, ToolManager
from pylot.bridge.tools.code_parser import CodeParser
from pylot.bridge.tools.code_refactor import CodeRefactor
from pylot.bridge.tools.deferred_llm import DeferredLLM
from pylot.bridge.tools.doc_generator import DocumentationGenerator
from pylot.bridge.tools.embedder import Embedder, default_embedder
from pylot.bridge.tools.pytest_runner import TestRunner
from pylot.bridge.tools.semantic_search import SemanticSearch, default_index_path
from pylot.bridge.tools.unit_test_generator import TestGenerator
from pylot.config.settings import Settings
from pylot.engines.interface import LLMInterface

__all__ = [
    "CodeParser",
    "CodeRefactor",
    "DeferredLLM",
    "DocumentationGenerator",
    "SemanticSearch",
    "TestGenerator",
    "TestRunner",
    "create_tool_manager",
]


def create_tool_manager(
    policy: Policy,
    *,
    llm: LLMInterface | None = None,
    settings: Settings | None = None,
    embedder: Embedder | Callable[[], Embedder] | None = None,
    index_path: Path | None = None,
    sandbox: Sandbox | None = None,
) -> ToolManager:
    """A ToolManager with every code tool for the workspace of `policy`.

    The model-based tools (generate_tests, add_docstrings) are registered only when `llm` is given. The
    embedding model loads on the first search or index call: MiniLM from the model store (fetched and
    converted on first use), or the code model's own embeddings when MiniLM cannot be had.
    """
    settings = settings or Settings()
    parser = CodeParser(policy)

    def load_embedder() -> Embedder:
        return default_embedder(settings.store_dir(), settings.home() / "downloads" / "models", llm)

    search = SemanticSearch(
        policy,
        embedder or load_embedder,
        index_path or default_index_path(policy.root, settings.data_dir()),
        parser=parser,
    )
    tools: list[Tool] = [
        parser,  # the code_parser tool: source given as text
        *parser.tools(),
        *CodeRefactor(policy, parser).tools(),
        *search.tools(),
        *TestRunner(policy, sandbox).tools(),
        *DocumentationGenerator(policy, llm, parser).tools(),
    ]
    if llm is not None:
        tools += TestGenerator(policy, llm, sandbox).tools()
    return ToolManager(tools)
