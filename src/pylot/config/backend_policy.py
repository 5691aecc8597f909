"""Where code may be sent: this machine always, another machine only when the user said so.

    loopback (127.0.0.0/8, ::1, localhost)   always allowed, http or https
    a host named in backend.allowed_hosts    allowed over https; over http only with
                                             backend.allow_insecure_http
    anything else                            ConfigError naming the URL and the key to change

`allowed_hosts` entries are a host name or IP address ("gpu-box", "10.0.0.5", "::1"), optionally with
a port ("gpu-box:8081"), or a wildcard for a domain's hosts ("*.lab.example.com").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from pylot.errors import ConfigError


def is_loopback(host: str) -> bool:
    """Whether a host name or address stays on this machine."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True  # not "*.localhost": outside systemd-resolved a DNS server may answer for those
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def redact_url(url: str) -> str:
    """The URL without user:password, safe for logs and the console."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


def _host_allowed(host: str, port: int | None, allowed: Sequence[str]) -> bool:
    host = host.strip("[]").rstrip(".").lower()
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        # "::1" and "[::1]:8080" are addresses; "gpu-box:8081" is a host with a port.
        if entry.startswith("["):
            name, _, rest = entry[1:].partition("]")
            entry_port = rest.removeprefix(":") or None
        elif entry.count(":") == 1:
            name, _, entry_port_text = entry.partition(":")
            entry_port = entry_port_text or None
        else:
            name, entry_port = entry, None
        if entry_port is not None and (port is None or str(port) != entry_port):
            continue
        if name.startswith("*."):
            if host.endswith(name[1:]):
                return True
        elif host == name.rstrip("."):
            return True
    return False


def check_url(url: str, allowed_hosts: Sequence[str] = (), allow_insecure_http: bool = False) -> str:
    """Return the URL if the policy allows sending code there; raise ConfigError otherwise.

    The settings run this once for every configured URL (BackendSettings' validator), so a client made
    from settings needs no second check; a client made by hand with a URL runs it itself."""
    shown = redact_url(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"backend URL {shown!r} is not an http:// or https:// URL with a host", key="backend.servers")
    host = parts.hostname
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"backend URL {shown!r} has an invalid port", key="backend.servers") from None
    if is_loopback(host):
        return url
    if not _host_allowed(host, port, allowed_hosts):
        raise ConfigError(
            f"backend URL {shown} is on another machine ({host}); code would leave this computer. "
            f"If that is intended, add {host!r} to backend.allowed_hosts",
            key="backend.allowed_hosts",
        )
    if scheme == "http" and not allow_insecure_http:
        raise ConfigError(
            f"backend URL {shown} uses plain http to another machine, so code would travel unencrypted; "
            f"use https:// or set backend.allow_insecure_http: true",
            key="backend.allow_insecure_http",
        )
    return url
