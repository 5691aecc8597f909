"""The VS Code extension in a real VS Code (code-server, driven by Playwright through Debian's Chromium),
against a real Pylot server with the real default model.

Needs `scripts/e2e_vscode_setup.sh` to have run (it installs Node 24, code-server and playwright-core into
~/.cache/pylot/e2e and builds the .vsix); the module is skipped with that reason otherwise.
The browser-side steps live in vscode-extension/e2e/drive-code-server.cjs; screenshots go to
test-artifacts/vscode/.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import tools_missing

REPO = Path(__file__).resolve().parents[2]
DRIVER = REPO / "vscode-extension" / "e2e" / "drive-code-server.cjs"
E2E_HOME = Path(os.environ.get("PYLOT_E2E_HOME", Path.home() / ".cache" / "pylot" / "e2e"))


def _tools() -> dict[str, Any] | None:
    try:
        manifest = json.loads((E2E_HOME / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    paths = [manifest.get(k) for k in ("node", "code_server", "chromium", "vsix")]
    if not all(p and Path(p).exists() for p in paths):
        return None
    if not (Path(manifest.get("playwright_dir", "")) / "node_modules" / "playwright-core").is_dir():
        return None
    return manifest


TOOLS = _tools()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


pytestmark = [pytest.mark.slow, pytest.mark.model]


@pytest.fixture(scope="module", autouse=True)
def _tools_set_up() -> None:
    """Skipped on a developer's machine without the tools; on CI (where `make test` sets them up) a failure."""
    if TOOLS is None:
        reason = (
            f"VS Code e2e tools are not set up (no valid {E2E_HOME / 'manifest.json'}): run scripts/e2e_vscode_setup.sh"
        )
        tools_missing(reason)


# Settings that keep VS Code quiet and predictable: only our inline provider suggests anything.
# Use current value forms only: when VS Code migrates an old one at start (e.g. extensions.autoUpdate: false
# -> "off") it rewrites settings.json, and code-server 4.139 then drops the machine-scoped
# gcForgedPylot.serverUrl for the whole session.
BASE_SETTINGS: dict[str, Any] = {
    "editor.inlineSuggest.enabled": True,
    "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
    "editor.wordBasedSuggestions": "off",
    "editor.suggestOnTriggerCharacters": False,
    "editor.autoClosingBrackets": "never",
    "editor.autoClosingQuotes": "never",
    "files.autoSave": "off",
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": "off",
    "security.workspace.trust.enabled": False,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "chat.disableAIFeatures": True,
    "git.enabled": False,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
}

COMPLETE_FILE = '''def multiply(a, b):
    """Return the product of a and b."""
    return a * b


def add(a, b):
    return'''

DOCSTRING_FILE = """import math


def circle_area(radius):
    return math.pi * radius ** 2
"""


@dataclass
class CodeServer:
    url: str
    workspace: Path
    log: Path


@pytest.fixture
def code_server_factory() -> Iterator[Any]:
    """Starts code-server with the .vsix installed and the given user settings; stops them all afterwards."""
    assert TOOLS is not None
    procs: list[subprocess.Popen[bytes]] = []
    node_bin = str(Path(TOOLS["node"]).parent)

    # Unix sockets (code-server's IPC, Chromium's singleton) need short paths: pytest's tmp_path is too deep.
    scratch = Path(tempfile.mkdtemp(prefix="pylot-vsc-"))

    def start(name: str, settings: dict[str, Any], files: dict[str, str]) -> CodeServer:
        root = scratch / name
        home, user_data, extensions, workspace = (root / d for d in ("home", "user-data", "extensions", "workspace"))
        for d in (home, user_data / "User", extensions, workspace, root / "tmp"):
            d.mkdir(parents=True, exist_ok=True)
        for file, text in files.items():
            (workspace / file).write_text(text, encoding="utf-8")
        (user_data / "User" / "settings.json").write_text(json.dumps({**BASE_SETTINGS, **settings}, indent=2))
        env = {
            **os.environ,
            "PATH": f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "TMPDIR": str(root / "tmp"),
        }
        common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
        install = subprocess.run(
            [TOOLS["code_server"], *common, "--install-extension", TOOLS["vsix"]],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert install.returncode == 0, f"installing the .vsix failed:\n{install.stdout}\n{install.stderr}"
        port = free_port()
        log = root / "code-server.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    TOOLS["code_server"],
                    *common,
                    "--bind-addr",
                    f"127.0.0.1:{port}",
                    "--auth",
                    "none",
                    "--disable-telemetry",
                    "--disable-update-check",
                    "--disable-workspace-trust",
                    "--disable-getting-started-override",
                    "--ignore-last-opened",
                    str(workspace),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"code-server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return CodeServer(f"{url}/?folder={workspace}", workspace, log)
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        pytest.fail(f"code-server did not become healthy:\n{log.read_text(errors='replace')}")

    yield start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    shutil.rmtree(scratch, ignore_errors=True)


def drive(
    cs: CodeServer, scenario: str, file: str, artifacts: Path, server: str | None = None, **extra: str
) -> dict[str, Any]:
    assert TOOLS is not None
    args = [
        TOOLS["node"],
        str(DRIVER),
        "--url",
        cs.url,
        "--scenario",
        scenario,
        "--file",
        file,
        "--artifacts",
        str(artifacts),
        "--chromium",
        TOOLS["chromium"],
    ]
    if server:
        args += ["--server", server]
    for key, value in extra.items():
        args += [f"--{key}", value]
    env = {
        **os.environ,
        "NODE_PATH": str(Path(TOOLS["playwright_dir"]) / "node_modules"),
        "TMPDIR": str(cs.workspace.parent / "tmp"),
    }
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=540, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {"ok": False}
    (artifacts / f"{scenario}-result.json").write_text(json.dumps(result, indent=2))
    if not result.get("ok"):
        shutil.copy(cs.log, artifacts / f"{scenario}-code-server.log")
        for log in cs.workspace.parent.glob("user-data/logs/*/exthost*/*/GC-Forged-Pylot.log"):
            shutil.copy(log, artifacts / f"{scenario}-extension.log")
        pytest.fail(f"{scenario} failed: {result.get('error')}\nstderr:\n{proc.stderr[-3000:]}")
    return result


@pytest.fixture
def vscode_artifacts(artifacts_dir: Path) -> Path:
    path = artifacts_dir / "vscode"
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_ghost_text_is_accepted_with_tab_and_saved(
    pylot_server: Any, code_server_factory: Any, vscode_artifacts: Path
) -> None:
    cs = code_server_factory("complete", {"gcForgedPylot.serverUrl": pylot_server.url}, {"calc.py": COMPLETE_FILE})

    result = drive(cs, "complete", "calc.py", vscode_artifacts, server=pylot_server.url, type=" ")

    saved = (cs.workspace / "calc.py").read_text(encoding="utf-8")
    accepted = result["ghost_accepted"]
    assert accepted.strip(), result
    assert saved == COMPLETE_FILE + result["typed"] + accepted
    assert saved.splitlines()[-1].startswith("    return a")
    # Typing the suggestion's first character shows the rest at once, without another request.
    assert result["ghost_after_typing"] == result["ghost_first"][1:]
    assert result.get("requests_during_type_along") == 0, result
    # Feedback reached the server: shown, dismissed with Escape, then accepted with Tab.
    assert result["feedback_delta"]["views"] >= 1, result["feedback_delta"]
    assert result["feedback_delta"]["dismisses"] >= 1, result["feedback_delta"]
    assert result["feedback_delta"]["accepts"] >= 1, result["feedback_delta"]
    assert result["status_last"].startswith("Pylot: ready")
    assert result["toasts"] == 0
    # The editor link: the server lists this VS Code.
    assert result.get("editors"), result
    assert any(e["editor"] == "vscode" and str(cs.workspace) in e["workspace"] for e in result["editors"]), result


def test_generate_docstring_edits_the_file(pylot_server: Any, code_server_factory: Any, vscode_artifacts: Path) -> None:
    cs = code_server_factory(
        "docstring", {"gcForgedPylot.serverUrl": pylot_server.url}, {"geometry.py": DOCSTRING_FILE}
    )

    drive(cs, "docstring", "geometry.py", vscode_artifacts, server=pylot_server.url, line="5")

    saved = (cs.workspace / "geometry.py").read_text(encoding="utf-8")
    assert saved != DOCSTRING_FILE
    tree = ast.parse(saved)  # still valid Python
    [function] = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    docstring = ast.get_docstring(function) or ""
    assert len(docstring.split()) >= 3, saved
    lines = saved.splitlines()
    assert lines[3] == "def circle_area(radius):"
    assert lines[4].startswith('    """' + docstring.splitlines()[0]), saved
    assert "return math.pi * radius ** 2" in saved


def test_dead_server_shows_a_quiet_error_state(code_server_factory: Any, vscode_artifacts: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    cs = code_server_factory("unreachable", {"gcForgedPylot.serverUrl": dead}, {"notes.py": "x = 0\n"})

    result = drive(cs, "unreachable", "notes.py", vscode_artifacts)

    assert result["status_error"].startswith("Pylot: error: server unreachable")
    assert result["status_after_typing"].startswith("Pylot: error")
    assert result["toasts"] == 0
