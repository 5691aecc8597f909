"""The console's static page: the built web UI and its assets, or how to build it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pylot.server import errors
from pylot.server.routes.console import create_console_static_router


def test_static_router_serves_the_built_page_and_its_assets(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>", encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    app = FastAPI()
    errors.install(app)  # the API's error answers, as create_app installs them
    app.include_router(create_console_static_router(tmp_path))
    client = TestClient(app)

    page = client.get("/")
    assert page.status_code == 200 and "id=root" in page.text
    script = client.get("/assets/index-abc123.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "immutable" in script.headers["cache-control"]
    assert client.get("/assets/..%2Fsecret.txt").status_code == 404
    assert client.get("/assets/missing.js").json()["error"]["type"] == "not_found_error"


def test_static_router_explains_how_to_build_when_there_is_no_build(tmp_path: Path) -> None:
    app = FastAPI()
    app.include_router(create_console_static_router(tmp_path / "nothing"))
    page = TestClient(app).get("/")
    assert page.status_code == 200 and "scripts/build_web.sh" in page.text
