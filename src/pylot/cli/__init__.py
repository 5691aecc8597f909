"""The `pylot` command: serve, complete, chat, models, doctor."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from pylot import __version__
from pylot.errors import PylotError

app = typer.Typer(
    name="pylot",
    help="GC-Forged-Pylot: a private code assistant on llama.cpp. Your code never leaves this machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML or TOML config file (default ~/.cache/pylot/config.yaml)."),
]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model id from the store, or a .gguf path.")]


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def load_config(config: Path | None, overrides: dict[str, Any] | None = None) -> Any:
    from pylot.config.config_manager import ConfigManager, default_config_path

    return ConfigManager(config or default_config_path(), overrides=overrides)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pylot {__version__}")
        raise typer.Exit()


class LazyConfig:
    """The user's config, read only when a sub-command asks for `.settings`."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._manager: Any = None

    @property
    def settings(self) -> Any:
        if self._manager is None:
            try:
                self._manager = load_config(self.path)
            except PylotError as exc:
                fail(str(exc))
        assert self._manager is not None
        return self._manager.settings


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file for sub-commands such as `models`.")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """GC-Forged-Pylot command line."""
    ctx.obj = LazyConfig(config)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1: private).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080).")] = None,
    model: ModelOpt = None,
    api_key: Annotated[list[str] | None, typer.Option("--api-key", help="Require this API key (repeatable).")] = None,
    n_ctx: Annotated[int | None, typer.Option("--n-ctx", help="Context window in tokens.")] = None,
    config: ConfigOpt = None,
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = None,
) -> None:
    """Start the server: OpenAI-compatible API, /infill, WebSockets, metrics and the web console."""
    from pylot.logs import setup_logging
    from pylot.server import PylotServer

    overrides: dict[str, dict[str, Any]] = {}
    for section, key, value in (
        ("server", "host", host),
        ("server", "port", port),
        ("model", "model", model),
        ("server", "api_keys", api_key or None),
        ("model", "n_ctx", n_ctx),
        ("logging", "level", log_level),
    ):
        if value is not None:
            overrides.setdefault(section, {})[key] = value
    try:
        manager = load_config(config, overrides)
        s = manager.settings
        setup_logging(s.logging.level, s.logging.file)
        server = PylotServer(manager)
        typer.secho(f"Loading {s.model.model} ...", err=True)
        server.load_model()
        typer.secho(f"Pylot {__version__} serving {s.model.model} on {server.url} (Ctrl+C to stop)", err=True)
        if s.server.host not in ("127.0.0.1", "localhost", "::1") and not s.server.api_keys:
            typer.secho("warning: listening beyond this machine without an API key", fg=typer.colors.YELLOW, err=True)
        server.run()
    except PylotError as exc:
        fail(str(exc))


CLI_TIME_LIMIT_S = 60.0


def _read_context(file: Path | None, line: int | None, column: int | None) -> tuple[str, str]:
    if file is None:
        if line is not None or column is not None:
            raise PylotError("--line and --column need a FILE; code from stdin is completed at its end")
        return sys.stdin.read(), ""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PylotError(f"cannot read {file}: {exc}") from exc
    if line is None:
        return text, ""
    lines = text.splitlines(keepends=True)
    if not 1 <= line <= len(lines) + 1:
        raise PylotError(f"{file} has {len(lines)} lines; --line {line} is outside it")
    offset = sum(len(x) for x in lines[: line - 1])
    current = lines[line - 1] if line <= len(lines) else ""
    end = len(current.rstrip("\r\n"))
    if column is not None and column - 1 > end:
        raise PylotError(f"line {line} of {file} has {end} characters; --column {column} is past its end")
    col = end if column is None else column - 1
    return text[: offset + col], text[offset + col :]


@app.command()
def complete(
    file: Annotated[Path | None, typer.Argument(help="Source file; omit to read code from stdin.")] = None,
    line: Annotated[int | None, typer.Option("--line", "-l", min=1, help="Cursor line (1-based).")] = None,
    column: Annotated[
        int | None, typer.Option("--column", min=1, help="Cursor column (1-based; default: end of line).")
    ] = None,
    max_tokens: Annotated[int, typer.Option(min=1, help="Most tokens to generate.")] = 64,
    model: ModelOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Complete code at a cursor position (fill-in-the-middle), or at the end of the code read from stdin.

    Both go through the editor's pipeline, so a completion ends where the code ends (the rest of the line,
    or the block the cursor opens), not in an example and prose after it.
    """
    from pylot.completion import CodeCompletionRequest, CompletionPipeline
    from pylot.engines.loader import load_engine
    from pylot.logs import setup_logging

    try:
        manager = load_config(config, {"model": {"model": model}} if model else None)
        setup_logging("WARNING")
        prefix, suffix = _read_context(file, line, column)
        engine = load_engine(manager.settings)
        s, g = manager.settings, manager.settings.generation
        pipeline = CompletionPipeline(lambda: engine, lambda: s.completion, g.params)
        language = "python" if file is not None and file.suffix in (".py", ".pyi") else None
        request = CodeCompletionRequest(
            prefix,
            suffix,
            filename=str(file) if file is not None else None,
            language=language,
            max_tokens=max_tokens,
            # Someone at a terminal waits for the answer: the editor's time limit is for keystrokes.
            time_limit_s=max(s.completion.time_limit_s, CLI_TIME_LIMIT_S),
        )
        sys.stdout.write(pipeline.complete(request).text)
        sys.stdout.write("\n")
    except PylotError as exc:
        fail(str(exc))


@app.command()
def chat(
    message: Annotated[
        str | None, typer.Option("--message", "-p", help="One message; omit for a conversation.")
    ] = None,
    system: Annotated[str, typer.Option(help="System prompt.")] = "You are a helpful coding assistant.",
    model: ModelOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Chat with the model in the terminal (Ctrl+D or /exit to leave)."""
    from pylot.engines.loader import load_engine
    from pylot.logs import setup_logging

    try:
        manager = load_config(config, {"model": {"model": model}} if model else None)
        setup_logging("WARNING")
        engine = load_engine(manager.settings)
        g = manager.settings.generation
        params = g.params(max_tokens=max(g.max_tokens, 512))  # an answer in a terminal may be long
        history: list[dict[str, str]] = [{"role": "system", "content": system}]
        interactive = message is None
        while True:
            if interactive:
                try:
                    text = input("you> ")
                except EOFError:
                    break
                if text.strip() in ("/exit", "/quit"):
                    break
                if not text.strip():
                    continue
            else:
                text = message or ""
            history.append({"role": "user", "content": text})
            reply: list[str] = []
            for chunk in engine.stream_chat(history, params):
                reply.append(chunk.text)
                sys.stdout.write(chunk.text)
                sys.stdout.flush()
            sys.stdout.write("\n")
            history.append({"role": "assistant", "content": "".join(reply)})
            if not interactive:
                break
    except PylotError as exc:
        fail(str(exc))


@app.command()
def doctor() -> None:
    """Check this machine: CPU features, memory, GPU runtimes, the llama.cpp build, and what to run."""
    from pylot.cli.doctor import run_doctor

    run_doctor()


def _mount_subcommands() -> None:
    from pylot.cli import models_cmd, tools_cmd, vscode_cmd

    app.add_typer(models_cmd.app, name="models")
    app.add_typer(vscode_cmd.app, name="vscode")
    app.add_typer(tools_cmd.tools_app, name="tools")
    app.command()(tools_cmd.index)
    app.command()(tools_cmd.search)


_mount_subcommands()


def main() -> None:
    app()
