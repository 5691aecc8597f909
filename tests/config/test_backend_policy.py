"""Sending code to another machine is an explicit choice: the URL policy, and keys kept out of sight."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from pylot.config.backend_policy import check_url, is_loopback, redact_url
from pylot.config.config_manager import ConfigManager, dump
from pylot.config.settings import BackendSettings, Settings
from pylot.engines.loader import load_engine
from pylot.errors import ConfigError


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.3.4.5:1/",
        "https://localhost:8443",
        "http://LOCALHOST:8080",
        "http://[::1]:8080",
        "http://[::ffff:127.0.0.1]:8080",
    ],
)
def test_loopback_is_always_allowed(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url", ["https://gpu-box:8080", "http://10.0.0.5:8080", "https://api.example.com/v1", "http://foo.localhost:1"]
)
def test_another_machine_is_refused_naming_the_url_and_the_key(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_url(url)
    assert info.value.key == "backend.allowed_hosts"
    assert url.split("//")[1].split(":")[0].split("/")[0] in str(info.value)
    assert "backend.allowed_hosts" in str(info.value)


def test_allowed_hosts_let_https_through_and_http_only_with_allow_insecure_http() -> None:
    allowed = ["gpu-box", "10.0.0.5:8080", "*.lab.example.com"]
    assert check_url("https://gpu-box:8080", allowed)
    assert check_url("https://GPU-BOX./", allowed)
    assert check_url("https://a.lab.example.com", allowed)
    assert check_url("https://10.0.0.5:8080", allowed)
    with pytest.raises(ConfigError):
        check_url("https://10.0.0.5:9090", allowed)  # the entry names a port
    with pytest.raises(ConfigError):
        check_url("https://lab.example.com.evil.net", allowed)
    with pytest.raises(ConfigError) as info:
        check_url("http://gpu-box:8080", allowed)
    assert info.value.key == "backend.allow_insecure_http"
    assert "unencrypted" in str(info.value)
    assert check_url("http://gpu-box:8080", allowed, allow_insecure_http=True)


def test_the_settings_check_every_configured_url_once() -> None:
    with pytest.raises(ValidationError, match=r"backend\.allowed_hosts"):
        BackendSettings(kind="external", servers=[{"url": "https://gpu-box:8080"}])
    ok = BackendSettings(kind="external", servers=[{"url": "https://gpu-box:8080"}], allowed_hosts=["gpu-box"])
    assert ok.servers[0].url == "https://gpu-box:8080"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "127.0.0.1:8080", "http://", "http://127.0.0.1:99999"])
def test_urls_that_are_not_http_servers_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        check_url(url)


def test_helpers() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("10.0.0.1") and not is_loopback("example.com")
    assert redact_url("https://user:pw@host:1/x") == "https://host:1/x"


def test_the_policy_applies_to_every_server_in_the_config() -> None:
    """Checked once, by the settings (every way to a Settings validates: file, env, PATCH /v1/config)."""
    external = {"kind": "external", "servers": [{"url": "http://127.0.0.1:9"}, {"url": "https://gpu-box:8080"}]}
    with pytest.raises(ValidationError, match="allowed_hosts"):
        Settings.model_validate({"backend": external})
    with pytest.raises(ConfigError, match="no server is configured"):
        load_engine(Settings.model_validate({"backend": {"kind": "external"}}))


def test_api_keys_are_masked_in_the_config_the_api_returns(tmp_path: Path) -> None:
    path = tmp_path / "pylot.yaml"
    path.write_text(
        "backend:\n  kind: external\n  servers:\n    - url: http://127.0.0.1:9\n      api_key: sk-do-not-show\n",
        encoding="utf-8",
    )
    manager = ConfigManager(path, environ={})
    shown = json.dumps(dump(manager.settings))  # what GET /v1/config answers
    assert "sk-do-not-show" not in shown
    assert manager.settings.backend.servers[0].api_key is not None
    assert manager.settings.backend.servers[0].api_key.get_secret_value() == "sk-do-not-show"
