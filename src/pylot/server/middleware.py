"""ASGI middleware: API keys (HTTP and WebSocket) and request size limits; the JSON errors they send."""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pylot.server.errors import error_body

# Paths open without a key: the health probe and the console's static shell (it asks for the key itself).
OPEN_PATHS = ("/health",)
PROTECTED_PREFIXES = ("/v1", "/infill", "/completion", "/ws", "/metrics", "/openapi.json", "/docs")
# A browser's WebSocket cannot set headers; it offers subprotocols ["pylot", "pylot.key.KEY"] instead.
SUBPROTOCOL = "pylot"
KEY_SUBPROTOCOL_PREFIX = "pylot.key."
CLOSE_UNAUTHORIZED = 4401  # WebSocket close codes 4000-4999 are the application's own


def key_matches(given: str | None, keys: list[str]) -> bool:
    if not given:
        return False
    # Compare against every key so the time taken does not reveal which one matched.
    found = False
    for key in keys:
        found |= hmac.compare_digest(given.encode(), key.encode())
    return found


def header(scope: Scope, name: bytes) -> str | None:
    """One request header, decoded as HTTP does (latin-1); None when absent."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def given_keys(scope: Scope) -> list[str]:
    """The API keys a request presents: Authorization: Bearer, X-Api-Key; on a WebSocket also the
    `pylot.key.KEY` subprotocol (how a browser, which cannot set headers there, sends one; KEY raw or
    base64url) and, last, `?api_key=`, which ends up in logs and history. Never taken from a plain HTTP URL."""
    auth = header(scope, b"authorization") or ""
    if auth.lower().startswith("bearer "):
        return [auth[7:].strip()]
    if (key := header(scope, b"x-api-key")) is not None:
        return [key.strip()]
    if scope["type"] != "websocket":
        return []
    for protocol in scope.get("subprotocols", []):
        if protocol.startswith(KEY_SUBPROTOCOL_PREFIX):
            raw = protocol[len(KEY_SUBPROTOCOL_PREFIX) :]
            return [raw, _unbase64url(raw)]
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("api_key")
    return values[:1] if values else []


def _unbase64url(text: str) -> str:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""


async def send_error(
    send: Send, status: int, message: str, type_: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """An OpenAI-shaped JSON error, straight from ASGI middleware (before any route runs)."""
    body = json.dumps(error_body(message, type_)).encode()
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
        if scope["type"] == "websocket" and SUBPROTOCOL in scope.get("subprotocols", []):
            send = _choosing_subprotocol(send)
        keys = self.keys()
        path: str = scope.get("path", "")
        if not keys or path in OPEN_PATHS or not path.startswith(PROTECTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if any(key_matches(given, keys) for given in given_keys(scope)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await receive()  # the connect message
            await send({"type": "websocket.close", "code": CLOSE_UNAUTHORIZED, "reason": "missing or invalid API key"})
            return
        await send_error(
            send,
            401,
            "missing or invalid API key (send 'Authorization: Bearer KEY' or 'X-Api-Key: KEY')",
            "authentication_error",
            [(b"www-authenticate", b"Bearer")],
        )


def _choosing_subprotocol(send: Send) -> Send:
    """A browser that offered subprotocols drops a connection whose accept names none: name "pylot"."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "websocket.accept" and not message.get("subprotocol"):
            message = {**message, "subprotocol": SUBPROTOCOL}
        await send(message)

    return wrapped


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
        declared = header(scope, b"content-length")
        too_large = (413, f"request body larger than {limit} bytes (server.max_request_bytes)", "request_too_large")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_error(send, *too_large)
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
            await send_error(send, *too_large)


class _TooLarge(Exception):
    pass


def secret_values(values: list[Any]) -> list[str]:
    return [v.get_secret_value() if hasattr(v, "get_secret_value") else str(v) for v in values]
