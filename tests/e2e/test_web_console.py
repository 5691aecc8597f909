"""The web console in a real browser (Debian's Chromium via playwright-core) against a real Pylot server.

Each test runs one scenario of web-ui/e2e/console.mjs and then checks on the server what the page did.
Screenshots land in test-artifacts/web/. Needs the console built (scripts/build_web.sh), which also
installs playwright-core; no browser is downloaded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import RunningServer, start_server, stop_server, tools_missing

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web-ui"
STATIC = ROOT / "src" / "pylot" / "web" / "static"
SCRIPT = WEB / "e2e" / "console.mjs"
CHROMIUM = Path("/usr/bin/chromium")
API_KEY = "console-e2e-key"
PULL_MODEL = "smollm2-135m"

pytestmark = [pytest.mark.slow, pytest.mark.model]


def _not_built() -> str | None:
    if not (STATIC / "index.html").is_file():
        return "the web console is not built: run scripts/build_web.sh"
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        return "web-ui/node_modules is missing: run scripts/build_web.sh"
    return None


@pytest.fixture(scope="module", autouse=True)
def _console_built() -> None:
    reason = _not_built()
    if reason:  # on CI `make test` builds the console first: there a missing build is a failure
        tools_missing(reason)
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH, though the console was built with it")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")


@pytest.fixture(scope="module")
def web_artifacts(artifacts_dir: Path) -> Path:
    out = artifacts_dir / "web"
    out.mkdir(parents=True, exist_ok=True)
    return out


def headers(server: RunningServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}"} if server.api_key else {}


def scenario(name: str, server: RunningServer, out: Path, *, timeout: float = 240, **extra: str) -> dict[str, Any]:
    """Run one browser scenario; fail with what the browser saw and the end of the server log."""
    page = httpx.get(f"{server.url}/", timeout=10)
    assert page.status_code == 200 and 'id="root"' in page.text, (
        f"the server does not serve the console at / (HTTP {page.status_code}); "
        "mount pylot.server.routes.console.create_console_static_router() in create_app"
    )
    cmd = ["node", str(SCRIPT), name, "--url", server.url, "--out", str(out)]
    if server.api_key:
        cmd += ["--key", server.api_key]
    for key, value in extra.items():
        cmd += [f"--{key}", value]
    proc = subprocess.run(cmd, cwd=WEB, capture_output=True, text=True, timeout=timeout, check=False)
    (out / f"{name}.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    lines = proc.stdout.strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    if proc.returncode != 0 or not result.get("ok"):
        server_log = server.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        pytest.fail(
            f"scenario {name} failed: {result.get('error') or proc.stderr[-3000:]}\n"
            f"--- server log (end) ---\n{server_log}"
        )
    return dict(result["result"])


def test_every_page_loads_without_console_errors(pylot_server: RunningServer, web_artifacts: Path) -> None:
    seen = scenario("pages", pylot_server, web_artifacts)["seen"]
    model = httpx.get(f"{pylot_server.url}/health", timeout=10).json()["model"]
    assert model in seen["model"]
    assert "Generation" in seen["sections"]
    for page in ("status", "logs", "models", "settings", "playground"):
        assert (web_artifacts / f"page-{page}.png").stat().st_size > 0


def test_a_setting_changed_in_the_form_round_trips_and_takes_effect(
    pylot_server: RunningServer, web_artifacts: Path
) -> None:
    url = pylot_server.url
    before = httpx.get(f"{url}/v1/config", timeout=10).json()["generation"]
    new_max = 5 if before["max_tokens"] != 5 else 6
    try:
        result = scenario("settings", pylot_server, web_artifacts, value=str(new_max))
        after = httpx.get(f"{url}/v1/config", timeout=10).json()["generation"]
        assert after["max_tokens"] == new_max
        # The refused temperature changed nothing, and the page showed why next to the field.
        assert after["temperature"] == before["temperature"]
        assert "temperature" in result["errorText"]
        # Takes effect: a request without max_tokens now stops at the new default.
        answer = httpx.post(
            f"{url}/v1/completions",
            json={"prompt": "# A long list of fruit names, one per line:\n", "temperature": 0},
            timeout=180,
        ).json()
        assert answer["usage"]["completion_tokens"] <= new_max
    finally:
        httpx.patch(f"{url}/v1/config", json={"generation": {"max_tokens": before["max_tokens"]}}, timeout=30)


def test_the_playground_returns_a_completion(pylot_server: RunningServer, web_artifacts: Path) -> None:
    requests_before = httpx.get(f"{pylot_server.url}/v1/status", timeout=10).json()["requests_total"]
    result = scenario("playground", pylot_server, web_artifacts)
    assert result["text"].strip()
    assert "on the server" in result["timing"]
    assert httpx.get(f"{pylot_server.url}/v1/status", timeout=10).json()["requests_total"] > requests_before


def test_non_latin_text_goes_through_the_console_whole(pylot_server: RunningServer, web_artifacts: Path) -> None:
    """Cyrillic, CJK, emoji and Hebrew typed in the playground stay whole in the page, and the answer shown
    has no replacement characters. (The 0.5B model answered this prompt with nothing, so the test cannot
    yet say the model saw the words; tests/server/test_utf8.py checks that over HTTP.)"""
    prompt = 'greeting = "Привет, 世界 😀 שלום"\nprint(greeting)\nsame = "Привет, 世界 😀 שלום"\nprint(same)\nagain = "'
    result = scenario("unicode", pylot_server, web_artifacts, prompt=prompt)
    assert result["typed"] == prompt
    assert "\ufffd" not in result["text"], result


def test_a_web_page_on_another_origin_cannot_drive_the_server(pylot_server: RunningServer, web_artifacts: Path) -> None:
    """A page on attacker.test tries the config, a model load, a tool and a WebSocket, then DNS rebinding."""
    url = pylot_server.url
    before = httpx.get(f"{url}/v1/config", timeout=10).json()
    result = scenario("attacker", pylot_server, web_artifacts)
    assert httpx.get(f"{url}/v1/config", timeout=10).json() == before
    assert result["tries"]["websocket"] == "refused" and result["wsRebound"]["websocket"] == "refused"
    # The requests that reached the server were refused by the server itself, not only by the browser.
    posts = [s for s in result["statuses"] if s["method"] == "POST"]
    assert {s["path"] for s in posts} >= {"/v1/config", "/v1/models/load", "/v1/tools/parse_file"}, result
    assert all(s["status"] == 403 for s in posts), posts
    assert result["rebound"]["status"] == 421 and "allowed_hosts" in result["rebound"]["text"]
    log = pylot_server.log_path.read_text(encoding="utf-8", errors="replace")
    assert "refused a websocket request: forbidden_origin" in log
    assert "refused a websocket request: misdirected_request" in log


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory, qwen_path: Path) -> Iterator[RunningServer]:
    """A server with an API key and an empty model store (so a pull really copies a model in); it
    serves the default model by its path in the usual store."""
    tmp = tmp_path_factory.mktemp("pylot-web-keyed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYLOT_MODEL__STORE_DIR", str(tmp / "store"))
        proc, server = start_server(tmp, api_key=API_KEY, model=str(qwen_path))
    try:
        yield server
    finally:
        stop_server(proc)


def test_the_console_asks_for_the_api_key_and_works_with_it(keyed_server: RunningServer, web_artifacts: Path) -> None:
    result = scenario("login", keyed_server, web_artifacts)
    assert result["stored"]


def test_a_model_pull_shows_progress(keyed_server: RunningServer, web_artifacts: Path) -> None:
    catalog = httpx.get(f"{keyed_server.url}/v1/models/catalog", headers=headers(keyed_server), timeout=30)
    assert catalog.status_code == 200, catalog.text
    entry = next(m for m in catalog.json()["data"] if m["id"] == PULL_MODEL)
    assert not entry["installed"], "the store of this server should start empty"

    result = scenario("pull", keyed_server, web_artifacts, timeout=420, model=PULL_MODEL)
    assert len(result["progress"]) >= 2, result["progress"]
    assert result["progress"][-1].endswith("(100.0%)")
    catalog = httpx.get(f"{keyed_server.url}/v1/models/catalog", headers=headers(keyed_server), timeout=30).json()
    assert next(m for m in catalog["data"] if m["id"] == PULL_MODEL)["installed"]
