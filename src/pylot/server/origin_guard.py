"""Keeping web pages away from the server: the Host header (DNS rebinding) and the Origin header.

A page the user visits can point its own name at 127.0.0.1 (DNS rebinding). The browser then treats
every request to Pylot as same-origin, but it still sends the attacker's name in `Host`. And any page
can open a WebSocket to 127.0.0.1, sending its own `Origin`. So, before any route runs:

* `Host` must name this machine: an IP address literal (a rebinding page has a name, never an
  address), `localhost`, a name in `server.allowed_hosts`, or, when the server is bound to more than
  loopback, this machine's own host name. `allowed_hosts: ["*"]` turns the check off. Anything else
  gets 421 (HTTP) or a refused upgrade (WebSocket).
* `Origin`, when a browser sends one, must be the server's own origin (the console it serves), a VS
  Code webview (`vscode-webview://`), or one of `server.cors_origins`; this is checked on every
  WebSocket upgrade and on every request that can change something (anything but GET, HEAD and
  OPTIONS). Programs that are not browsers (curl, the OpenAI SDK, the VS Code extension host) send no
  Origin and are not affected. Anything else gets 403.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from pylot.server.middleware import header, send_error

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WEBVIEW_SCHEMES = frozenset({"vscode-webview", "vscode-file"})
CLOSE_FORBIDDEN = 4403


@dataclass(frozen=True)
class OriginRules:
    """What the guard accepts; built from the live config on every request."""

    bind_host: str
    allowed_hosts: Sequence[str] = ()
    allowed_origins: Sequence[str] = ()


def is_loopback_bind(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1)
def _own_names() -> frozenset[str]:
    name = socket.gethostname().lower()
    return frozenset({name, name.split(".")[0], f"{name.split('.')[0]}.local"})


def host_name(host_header: str) -> str:
    """`Host` without its port, lower case: `[::1]:8080` -> `::1`, `Example:80` -> `example`."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(host_header: str | None, rules: OriginRules) -> bool:
    if host_header is None:  # HTTP/1.0 without Host: no browser sends that
        return True
    if "*" in rules.allowed_hosts:
        return True
    name = host_name(host_header).rstrip(".")
    if not name:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    if name == "localhost" or name in (h.lower() for h in rules.allowed_hosts):
        return True
    return not is_loopback_bind(rules.bind_host) and name in _own_names()


def origin_allowed(origin: str, host_header: str | None, rules: OriginRules) -> bool:
    if origin in rules.allowed_origins or "*" in rules.allowed_origins:
        return True
    parts = urlsplit(origin)
    if parts.scheme in WEBVIEW_SCHEMES:
        return True
    # Same origin: the console this server serves. Host itself has passed host_allowed already.
    return parts.scheme in ("http", "https") and host_header is not None and parts.netloc == host_header.lower()


def _changes_state(scope: Scope) -> bool:
    """A WebSocket, or a method other than GET, HEAD and OPTIONS."""
    return scope["type"] == "websocket" or scope.get("method") not in SAFE_METHODS


class OriginGuardMiddleware:
    """Refuses requests whose Host or Origin says a web page sent them (see the module's docstring)."""

    def __init__(self, app: ASGIApp, rules: Callable[[], OriginRules]) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rules = self.rules()
        host, origin = header(scope, b"host"), header(scope, b"origin")
        problem: tuple[int, str, str] | None = None
        if not host_allowed(host, rules):
            problem = (
                421,
                f"host {host!r} is not this server; add it to server.allowed_hosts if you reach Pylot by that name",
                "misdirected_request",
            )
        elif origin is not None and _changes_state(scope) and not origin_allowed(origin, host, rules):
            problem = (
                403,
                f"requests from the web page at {origin!r} are not allowed; add the origin to "
                "server.cors_origins to allow it",
                "forbidden_origin",
            )
        if problem is None:
            await self.app(scope, receive, send)
            return
        status, message, type_ = problem
        # The path is left out: it is the client's text (see the privacy rule in docs/security.md).
        log.warning("refused a %s request: %s", "websocket" if scope["type"] == "websocket" else "HTTP", type_)
        if scope["type"] == "websocket":
            await receive()  # the connect message; closing before accept refuses the upgrade (HTTP 403)
            await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN, "reason": type_})
            return
        await send_error(send, status, message, type_)
