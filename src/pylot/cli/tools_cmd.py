"""`pylot tools list|call`, `pylot index` and `pylot search`: the code tools from the terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from pylot.engines.interface import LLMInterface
from pylot.errors import PylotError

tools_app = typer.Typer(
    name="tools", help="The code tools: list them or call one.", no_args_is_help=True, add_completion=False
)

WorkspaceOpt = Annotated[
    Path, typer.Option("--workspace", "-w", help="Workspace root: tools read and write only inside it.")
]
ReadOnlyOpt = Annotated[bool, typer.Option("--read-only", help="Refuse every write.")]


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _settings(ctx: typer.Context) -> Any:
    obj = ctx.find_root().obj
    if obj is not None and hasattr(obj, "settings"):
        return obj.settings
    from pylot.config.settings import Settings

    return Settings()


def lazy_llm(settings: Any) -> LLMInterface:
    """The configured model, loaded on the first call that needs it, so that other tools start at once."""
    from pylot.bridge.tools.deferred_llm import DeferredLLM

    engine: list[LLMInterface] = []

    def resolve() -> LLMInterface:
        if not engine:
            from pylot.engines.loader import load_engine

            typer.secho(f"Loading {settings.model.model} ...", err=True)
            engine.append(load_engine(settings))
        return engine[0]

    return DeferredLLM(resolve)


def _manager(ctx: typer.Context, workspace: Path, read_only: bool = False) -> Any:
    from pylot.bridge.policy import Policy
    from pylot.bridge.tools import create_tool_manager

    settings = _settings(ctx)
    policy = Policy(workspace, read_only=read_only, allow_hard_links=settings.tools.allow_hard_links)
    return create_tool_manager(policy, llm=lazy_llm(settings), settings=settings)


@tools_app.command("list")
def list_tools(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON Schemas (OpenAI tools shape).")] = False,
    workspace: WorkspaceOpt = Path(),
) -> None:
    """List the tools and what they do."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    try:
        manager = _manager(ctx, workspace)
    except PylotError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(manager.openai_tools(), indent=2))
        return
    table = Table("tool", "arguments", "description", box=None)
    for tool in manager.list_tools():
        props = tool.parameters["properties"]
        required = set(tool.parameters["required"])
        args = " ".join(name if name in required else f"[{name}]" for name in props)
        table.add_row(tool.name, escape(args), escape(tool.description))
    Console().print(table)


@tools_app.command("call")
def call_tool(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Tool name (see `pylot tools list`).")],
    args: Annotated[str, typer.Option("--args", "-a", help="Arguments as a JSON object.")] = "{}",
    workspace: WorkspaceOpt = Path(),
    read_only: ReadOnlyOpt = False,
) -> None:
    """Call one tool with JSON arguments and print its result as JSON."""
    try:
        manager = _manager(ctx, workspace, read_only)
        result = manager.call(name, args)
    except PylotError as exc:
        _fail(str(exc))
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False))


def _search_engine(ctx: typer.Context, workspace: Path, exclude: Sequence[str] = ()) -> Any:
    from pylot.bridge.policy import Policy
    from pylot.bridge.tools.embedder import default_embedder
    from pylot.bridge.tools.semantic_search import SemanticSearch, default_index_path

    settings = _settings(ctx)
    policy = Policy(workspace, read_only=True, allow_hard_links=settings.tools.allow_hard_links)
    llm = lazy_llm(settings)

    def embedder() -> Any:
        return default_embedder(settings.store_dir(), settings.home() / "downloads" / "models", llm)

    return SemanticSearch(policy, embedder, default_index_path(policy.root, settings.data_dir()), exclude=exclude)


def index(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The workspace to index (default: here).")] = Path(),
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", "-x", help="Glob of files not to index (repeatable).")
    ] = None,
) -> None:
    """Index a workspace for `pylot search`: symbol chunks, embeddings and a full-text index."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    try:
        engine = _search_engine(ctx, path, exclude or ())
        with Progress(
            TextColumn("[bold]indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            transient=True,
        ) as bar:
            task = bar.add_task("", total=None)

            def progress(done: int, total: int, current: str) -> None:
                bar.update(task, completed=done, total=total, description=current[-60:])

            stats = engine.index(progress)
        engine.close()
    except PylotError as exc:
        _fail(str(exc))
    typer.echo(
        f"{stats.files_seen} files: {stats.files_indexed} indexed, {stats.files_unchanged} unchanged, "
        f"{stats.files_removed} removed; {stats.chunks} chunks, {stats.embedded} embedded in {stats.seconds:.1f}s"
    )


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for, in words or identifiers.")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many results.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, semantic or lexical.")] = "hybrid",
    workspace: WorkspaceOpt = Path(),
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Search the indexed workspace; prints file:line ranges with scores."""
    from pylot.bridge.tool_schema import jsonable

    if mode not in ("hybrid", "semantic", "lexical"):
        _fail(f"--mode must be hybrid, semantic or lexical, not {mode}")
    try:
        engine = _search_engine(ctx, workspace)
        hits = engine.search(query, limit=limit, mode=mode)
        engine.close()
    except PylotError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(jsonable(hits), indent=2))
        return
    if not hits:
        typer.echo("no results", err=True)
    for hit in hits:
        label = f"  {hit.kind} {hit.symbol}" if hit.symbol else f"  {hit.kind}"
        sys.stdout.write(f"{hit.location}  {hit.score:.3f}{label}\n")
