"""The official OpenAI Python client against a real Pylot server on a loopback port."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from pylot.config.config_manager import ConfigManager
from pylot.server import PylotServer
from tests.server.conftest import free_port


@pytest.fixture(scope="module")
def live(qwen: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    path = tmp_path_factory.mktemp("live") / "pylot.toml"
    path.write_text(
        f"[server]\nport = {free_port()}\napi_keys = ['k1']\n[generation]\ntemperature = 0.0\nmax_tokens = 24\n"
        "[completion]\ntime_limit_s = 120\n"
    )
    server = PylotServer(ConfigManager(path, environ={}), engine=qwen)  # type: ignore[arg-type]
    url = server.start()
    yield url, path
    server.stop()


@pytest.fixture
def oai(live: tuple[str, Path]) -> openai.OpenAI:
    return openai.OpenAI(base_url=live[0] + "/v1", api_key="k1", max_retries=0, timeout=120)


def test_binds_to_loopback_by_default(live: tuple[str, Path]) -> None:
    assert live[0].startswith("http://127.0.0.1:")


def test_openai_completion(oai: openai.OpenAI) -> None:
    r = oai.completions.create(
        model="qwen2.5-coder-0.5b", prompt="def add(a, b):\n    ", suffix="\n", max_tokens=12, stop=["\n"]
    )
    assert "a + b" in r.choices[0].text
    assert r.usage is not None and r.usage.completion_tokens >= 1


def test_openai_completion_stream(oai: openai.OpenAI) -> None:
    stream = oai.completions.create(
        model="qwen2.5-coder-0.5b", prompt="# print hello\nprint(", max_tokens=8, stream=True
    )
    pieces = [c.choices[0].text for c in stream]
    assert "".join(pieces).strip()


def test_openai_chat_and_stream(oai: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Reply with the single word: pong"}]
    r = oai.chat.completions.create(model="qwen2.5-coder-0.5b", messages=messages)  # type: ignore[arg-type]
    assert "pong" in (r.choices[0].message.content or "").lower()
    stream = oai.chat.completions.create(model="qwen2.5-coder-0.5b", messages=messages, stream=True, seed=3)  # type: ignore[arg-type]
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert "pong" in text.lower()


def test_openai_client_errors_map_to_its_exception_types(live: tuple[str, Path], oai: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        oai.completions.create(model="gpt-4", prompt="x", max_tokens=1)
    with pytest.raises(openai.BadRequestError, match="context window"):
        oai.completions.create(model="qwen2.5-coder-0.5b", prompt="word " * 5000, max_tokens=1)
    bad = openai.OpenAI(base_url=live[0] + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_editing_the_config_file_changes_generation_defaults_without_restart(live: tuple[str, Path]) -> None:
    url, path = live
    headers = {"Authorization": "Bearer k1"}
    original = path.read_text()
    try:
        path.write_text(original.replace("max_tokens = 24", "max_tokens = 2"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if httpx.get(f"{url}/v1/config", headers=headers).json()["generation"]["max_tokens"] == 2:
                break
            time.sleep(0.2)
        r = httpx.post(
            f"{url}/v1/completions",
            headers=headers,
            timeout=60,
            json={"prompt": "def long_function_name():\n", "temperature": 0.0},
        ).json()
        assert r["usage"]["completion_tokens"] == 2
        # A bad edit is rejected and the running config stays as it was.
        path.write_text(original.replace("max_tokens = 24", "max_tokens = 'lots'"))
        time.sleep(2.5)
        assert httpx.get(f"{url}/v1/config", headers=headers).json()["generation"]["max_tokens"] == 2
    finally:
        path.write_text(original)
