"""Translating Pylot's exceptions to OpenAI-shaped error responses: the only place that knows HTTP codes."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pylot import errors

log = logging.getLogger(__name__)

# (exception type, status, OpenAI error type); the first match wins, so subclasses come first.
_TABLE: list[tuple[type[Exception], int, str]] = [
    (errors.ContextLengthError, 400, "invalid_request_error"),
    (errors.CapabilityError, 400, "invalid_request_error"),
    (errors.RequestError, 400, "invalid_request_error"),
    (errors.ConfigError, 400, "invalid_request_error"),
    (errors.ModelNotFoundError, 404, "not_found_error"),
    (errors.InsufficientMemoryError, 503, "insufficient_memory"),
    (errors.ModelError, 503, "model_error"),
    (errors.BackendUnavailableError, 503, "backend_unavailable"),
    (errors.BackendTimeoutError, 504, "timeout"),
    (errors.BackendAuthError, 502, "backend_auth_error"),
    (errors.BackendError, 502, "backend_error"),
    (errors.CancelledError, 409, "cancelled"),
    (errors.ToolError, 400, "tool_error"),
]


def error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "code": code, "param": param}}


def status_for(exc: Exception) -> tuple[int, str]:
    for cls, status, type_ in _TABLE:
        if isinstance(exc, cls):
            return status, type_
    return 500, "internal_error"


def pylot_error_response(exc: errors.PylotError) -> JSONResponse:
    status, type_ = status_for(exc)
    param = getattr(exc, "param", None) or getattr(exc, "key", None)
    headers = {}
    retry = getattr(exc, "retry_after", None)
    if retry is not None:
        headers["Retry-After"] = str(max(1, round(retry)))
    code = re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__.removesuffix("Error")).lower() or None
    return JSONResponse(error_body(str(exc), type_, code, param), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    problems, param = [], None
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        if err.get("type") == "json_invalid":
            return "the request body is not valid JSON", None
        name = ".".join(loc) or "body"
        param = param or name
        problems.append(f"'{name}': {err.get('msg')}")
    return "invalid request: " + "; ".join(problems), param


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.PylotError)
    async def _pylot(_: Request, exc: errors.PylotError) -> JSONResponse:
        return pylot_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(exc)
        return JSONResponse(error_body(message, "invalid_request_error", "invalid_value", param), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = {401: "authentication_error", 404: "not_found_error", 405: "invalid_request_error"}.get(
            exc.status_code, "invalid_request_error"
        )
        return JSONResponse(
            error_body(str(exc.detail), type_, None, None), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(error_body("internal server error; see the server log", "internal_error"), status_code=500)
