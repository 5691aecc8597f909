"""The web console's page: GET / and its hashed files under /assets/, from the React build in
pylot/web/static. It carries no data, so it is the one part of the server that must stay reachable
without an API key (a browser cannot add a header to a page load). Its data comes from the API routes
(logs.py for the log view)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from pylot.errors import NotFoundError

STATIC_DIR = Path(__file__).resolve().parents[2] / "web" / "static"  # the built React app (scripts/build_web.sh)


NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Pylot console</title>
<p>The web console has not been built. Run <code>scripts/build_web.sh</code> (or <code>make run</code>)
and reload. The API is up: <a href="/health">/health</a>.</p>"""


def create_console_static_router(static_dir: Path = STATIC_DIR) -> APIRouter:
    """The built console: `GET /` and its hashed files under `/assets/`. Serves no data; no key needed."""
    router = APIRouter(include_in_schema=False)
    assets = (static_dir / "assets").resolve()

    @router.get("/")
    def index() -> Response:
        page = static_dir / "index.html"
        if not page.is_file():
            return HTMLResponse(NOT_BUILT, headers={"Cache-Control": "no-cache"})
        return FileResponse(page, headers={"Cache-Control": "no-cache"})

    @router.get("/assets/{name}")
    def asset(name: str) -> Response:
        path = (assets / name).resolve()
        if path.parent != assets or not path.is_file():
            raise NotFoundError(f"no console file {name!r}")  # answered as every other 404 of the API
        # File names carry a content hash, so a cached copy never goes stale.
        return FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable"})

    return router
