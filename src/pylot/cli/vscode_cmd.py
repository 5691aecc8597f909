"""`pylot vscode ...`: the VS Code extension. `status` lists the editors connected to a running server,
`install` builds the .vsix (npm + vsce, offline) and installs it with `code` or `code-server`."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="The VS Code extension: install it, and see which editors are connected to the server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_URL = "http://127.0.0.1:8080"
# The repository's extension sources, when pylot runs from a checkout (an editable install).
DEFAULT_SOURCE = Path(__file__).resolve().parents[3] / "vscode-extension"
EDITOR_CLIS = ("code", "code-server", "codium", "code-insiders")


def _err(message: str) -> None:
    Console(stderr=True, highlight=False).print(f"[red]error:[/red] {message}")


def http_client(timeout: float) -> httpx.Client:
    """Made in one place so that tests can hand in a client bound to an app."""
    return httpx.Client(timeout=timeout)


def fetch_editors(url: str, api_key: str | None) -> list[dict[str, Any]]:
    """`GET /v1/editors` of the server at `url`; raises typer.Exit(1) with a clear message on failure."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with http_client(10.0) as client:
            response = client.get(f"{url.rstrip('/')}/v1/editors", headers=headers)
    except httpx.HTTPError as exc:
        _err(f"no Pylot server answers at {url} ({exc.__class__.__name__}); start one with `pylot serve`")
        raise typer.Exit(1) from exc
    if response.status_code == 401:
        _err("the server wants an API key: pass --api-key or set PYLOT_API_KEY")
        raise typer.Exit(1)
    if response.status_code == 404:
        _err(f"the server at {url} has no editor link (GET /v1/editors is missing); update Pylot")
        raise typer.Exit(1)
    if response.status_code != 200:
        _err(f"GET /v1/editors answered HTTP {response.status_code}: {response.text[:200]}")
        raise typer.Exit(1)
    data = response.json().get("data", [])
    return data if isinstance(data, list) else []


@app.command()
def status(
    url: Annotated[str, typer.Option(help="Base URL of the running Pylot server.")] = DEFAULT_URL,
    api_key: Annotated[
        str | None, typer.Option(envvar="PYLOT_API_KEY", help="API key, if the server needs one.")
    ] = None,
) -> None:
    """List the editors connected to a running server through the editor link."""
    editors = fetch_editors(url, api_key)
    out = Console(highlight=False)
    if not editors:
        out.print("No editor is connected. Open VS Code with the GC-Forged-Pylot extension (`pylot vscode install`).")
        return
    table = Table("id", "editor", "version", "workspace", "connected")
    for e in editors:
        since = dt.datetime.fromtimestamp(float(e.get("connected_at", 0))).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            str(e.get("id", "")),
            str(e.get("editor", "")),
            str(e.get("version", "")),
            "\n".join(map(str, e.get("workspace", []))) or "-",
            since,
        )
    out.print(table)


def find_editor_cli(preferred: str | None = None) -> str | None:
    """The path of the editor command that installs extensions: `preferred`, else the first found on PATH."""
    for name in (preferred,) if preferred else EDITOR_CLIS:
        found = shutil.which(name)
        if found:
            return found
    return None


def build_vsix(source: Path, out: Path) -> Path:
    """`npm ci` when the dependencies are missing, then compile and package with vsce (no network needed
    once the npm cache has them)."""
    npm = shutil.which("npm")
    if npm is None:
        _err("npm is not on PATH: install Node.js 20 or newer, or pass a ready .vsix with --vsix")
        raise typer.Exit(1)
    if not (source / "package.json").is_file():
        _err(f"no extension sources at {source}: pass --source DIR (the repository's vscode-extension) or --vsix")
        raise typer.Exit(1)
    if not (source / "node_modules").is_dir():
        _run([npm, "ci", "--no-audit", "--no-fund"], source, "npm ci")
    _run([npm, "run", "package", "--", "--out", str(out)], source, "packaging the extension")
    return out


def _run(cmd: list[str], cwd: Path | None, what: str) -> None:
    typer.echo(f"{what}: {' '.join(cmd)}", err=True)
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        _err(f"{what} failed (exit {result.returncode}):\n{(result.stdout + result.stderr)[-2000:]}")
        raise typer.Exit(1)


@app.command()
def install(
    source: Annotated[
        Path, typer.Option(help="The extension's sources (the repository's vscode-extension).")
    ] = DEFAULT_SOURCE,
    vsix: Annotated[Path | None, typer.Option(help="Install this ready .vsix instead of building one.")] = None,
    editor: Annotated[
        str | None, typer.Option(help="Editor command: code, code-server, codium (default: found on PATH).")
    ] = None,
) -> None:
    """Build the extension (.vsix) and install it into VS Code or code-server."""
    cli = find_editor_cli(editor)
    if cli is None:
        wanted = editor or " / ".join(EDITOR_CLIS)
        _err(
            f"no editor command found on PATH ({wanted}). In VS Code run 'Shell Command: Install 'code' command in "
            "PATH', or install code-server; then run this again"
        )
        raise typer.Exit(1)
    if vsix is None:
        vsix = build_vsix(source, source / "gc-forged-pylot.vsix")
    elif not vsix.is_file():
        _err(f"no such .vsix: {vsix}")
        raise typer.Exit(1)
    _run([cli, "--install-extension", str(vsix), "--force"], None, f"installing with {os.path.basename(cli)}")
    typer.echo(f"Installed {vsix.name} into {os.path.basename(cli)}. Reload the editor window to activate it.")
