"""ASGI middleware: API keys (HTTP and WebSocket) and request size limits."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Paths open without a key: the health probe and the console's static shell (it asks for the key itself).
OPEN_PATHS = ("/health",)
PROTECTED_PREFIXES = ("/v1", "/infill", "/completion", "/ws", "/metrics", "/openapi.json", "/docs")


def key_matches(given: str | None, keys: list[str]) -> bool:
    if not given:
        return False
    # Compare against every key so the time taken does not reveal which one matched.
    found = False
    for key in keys:
        found |= hmac.compare_digest(given.encode(), key.encode())
    return found


def _given_key(scope: Scope) -> str | None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if "x-api-key" in headers:
        return headers["x-api-key"].strip()
    if scope["type"] == "websocket":
        values = parse_qs(scope.get("query_string", b"").decode()).get("api_key")
        return values[0] if values else None
    return None


def _error(status: int, message: str, type_: str) -> tuple[int, bytes]:
    body = {"error": {"message": message, "type": type_, "code": None, "param": None}}
    return status, json.dumps(body).encode()


async def _send_json(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


class ApiKeyMiddleware:
    """Requires one of the configured keys when any is set; keys are read on every request (live config)."""

    def __init__(self, app: ASGIApp, keys: Callable[[], list[str]]) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        keys = self.keys()
        path: str = scope.get("path", "")
        if not keys or path in OPEN_PATHS or not path.startswith(PROTECTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if key_matches(_given_key(scope), keys):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await receive()  # the connect message
            await send({"type": "websocket.close", "code": 4401, "reason": "missing or invalid API key"})
            return
        status, body = _error(
            401,
            "missing or invalid API key (send 'Authorization: Bearer KEY' or 'X-Api-Key: KEY')",
            "authentication_error",
        )
        await _send_json(send, status, body, [(b"www-authenticate", b"Bearer")])


class BodyLimitMiddleware:
    """Rejects request bodies larger than the configured limit with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit()
        declared = dict(scope.get("headers", [])).get(b"content-length")
        too_large = _error(
            413, f"request body larger than {limit} bytes (server.max_request_bytes)", "request_too_large"
        )
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, *too_large)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _send_json(send, *too_large)


class _TooLarge(Exception):
    pass


def secret_values(values: list[Any]) -> list[str]:
    return [v.get_secret_value() if hasattr(v, "get_secret_value") else str(v) for v in values]
