"""Translating Pylot's exceptions to OpenAI-shaped error responses: the only place that knows HTTP codes."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pylot import errors
from pylot.server.openapi import install_openapi

log = logging.getLogger(__name__)

# (exception type, status, OpenAI error type); the first match wins, so subclasses come first.
_TABLE: list[tuple[type[Exception], int, str]] = [
    (errors.NotFoundError, 404, "not_found_error"),
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
    (errors.ToolNotFoundError, 404, "not_found_error"),
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
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = {401: "authentication_error", 404: "not_found_error", 405: "invalid_request_error"}.get(
            exc.status_code, "invalid_request_error"
        )
        headers = dict(exc.headers or {})
        message = str(exc.detail)
        if exc.status_code == 405:
            # Starlette names the methods of the first route that matched the path; a path served by
            # several routes (GET and PATCH /v1/config) allows them all.
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            message = f"{request.method} is not allowed on {request.url.path}; use {' or '.join(allowed)}"
        return JSONResponse(error_body(message, type_, None, None), status_code=exc.status_code, headers=headers)

    app.add_middleware(UnexpectedErrorMiddleware)
    install_openapi(app)


def _allowed_methods(request: Request) -> list[str]:
    def served(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] == Match.FULL for route in request.app.routes)

    methods = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if served(m)]
    return sorted(methods + (["HEAD"] if "GET" in methods else []))


class UnexpectedErrorMiddleware:
    """A bug's answer: 500 with the OpenAI error body, and the connection kept.

    Starlette's own last resort answers 500 but then re-raises, and uvicorn closes the connection, so the
    client's next request on that keep-alive connection is reset. Installed innermost, this one answers and
    does not re-raise (unless the response had started: then there is no clean way to answer).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            if started:
                raise
            log.exception("unexpected error in %s %s", scope.get("method"), scope.get("path"))
            body = error_body("internal server error; see the server log", "internal_error")
            await JSONResponse(body, status_code=500)(scope, receive, send)
