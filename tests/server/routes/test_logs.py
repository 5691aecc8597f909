"""GET /v1/logs: the console's snapshot of the log ring (the ring itself: tests/server/test_log_buffer.py)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from pylot.errors import RequestError
from pylot.server.log_buffer import LogBuffer
from pylot.server.routes.logs import create_logs_router
from tests.server.conftest import log


def app_with(buffer: LogBuffer) -> TestClient:
    app = FastAPI()

    @app.exception_handler(RequestError)
    def _bad_request(_: Request, exc: RequestError) -> JSONResponse:
        # Stands in for the server's own translation at the HTTP edge.
        body = {"message": str(exc), "type": "invalid_request_error", "code": None, "param": exc.param}
        return JSONResponse({"error": body}, status_code=400)

    app.include_router(create_logs_router(buffer))
    return TestClient(app)


def test_get_logs_answers_matching_records_oldest_first(buffer: LogBuffer) -> None:
    log().info("first")
    log().warning("second")
    log().info("third")
    answer = app_with(buffer).get("/v1/logs", params={"level": "INFO", "limit": 2})
    assert answer.status_code == 200
    body = answer.json()
    assert [r["message"] for r in body["data"]] == ["second", "third"]
    assert set(body["data"][0]) == {"seq", "time", "level", "logger", "message"}
    assert body["last_seq"] == 3 and body["capacity"] == 5


def test_get_logs_rejects_an_unknown_level_naming_the_parameter(buffer: LogBuffer) -> None:
    answer = app_with(buffer).get("/v1/logs", params={"level": "LOUD"})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "level"
