"""UTF-8 end to end on the real model: Cyrillic, CJK, emoji and right-to-left text in prompts, in streamed
chunks (a chunk never ends half-way through a character, which would show as U+FFFD), over the
WebSocket, and in the config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import make_client

TEXTS = {
    "cyrillic": "Привет, мир",
    "cjk": "你好，世界。こんにちは",
    "emoji": "🐍🚀👩‍💻",
    "rtl": "שלום עולם مرحبا",
}
# A prompt the model answers with more of the same scripts, so multi-byte tokens are generated.
PROMPT = "".join(f"# {name}: {text}\n" for name, text in TEXTS.items()) + "# cjk again: "


@pytest.fixture(scope="module")
def client(qwen: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    cfg = "generation:\n  temperature: 0.0\n  max_tokens: 24\ncache:\n  enabled: false\n"
    with make_client(qwen, tmp_path_factory.mktemp("utf8"), cfg) as c:
        yield c


def sse_texts(client: TestClient, body: dict[str, object]) -> list[str]:
    texts = []
    with client.stream("POST", "/v1/completions", json={**body, "stream": True}) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                texts.append(json.loads(line[6:])["choices"][0]["text"])
    return texts


def test_streamed_chunks_never_split_a_character(client: TestClient) -> None:
    whole = client.post("/v1/completions", json={"prompt": PROMPT}).json()["choices"][0]["text"]
    chunks = sse_texts(client, {"prompt": PROMPT})
    assert all("\ufffd" not in c for c in chunks), chunks
    assert "".join(chunks) == whole
    assert any(ord(ch) > 0x2E80 for ch in whole), f"the model wrote no CJK to test with: {whole!r}"


def test_echo_returns_every_script_unchanged(client: TestClient) -> None:
    answer = client.post("/v1/completions", json={"prompt": PROMPT, "echo": True, "max_tokens": 1}).json()
    assert answer["choices"][0]["text"].startswith(PROMPT)


def test_the_websocket_streams_whole_characters(client: TestClient) -> None:
    with client.websocket_connect("/ws/completions") as ws:
        ws.send_json({"type": "completion", "id": "u", "prompt": PROMPT})
        chunks = []
        while (message := ws.receive_json())["type"] == "token":
            chunks.append(message["text"])
    assert message["type"] == "done" and chunks
    assert all("\ufffd" not in c for c in chunks)


def test_fill_in_the_middle_with_every_script_around_the_cursor(client: TestClient) -> None:
    prefix = f'GREETINGS = {{\n    "ru": "{TEXTS["cyrillic"]}",\n    "he": "{TEXTS["rtl"]}",\n    "zh": "'
    suffix = f'",\n    "emoji": "{TEXTS["emoji"]}",\n}}\n'
    response = client.post("/v1/completions", json={"prompt": prefix, "suffix": suffix, "language": "python"})
    assert response.status_code == 200
    assert "\ufffd" not in response.json()["choices"][0]["text"]


def test_config_values_in_every_script_round_trip(client: TestClient, tmp_path: Path) -> None:
    stops = list(TEXTS.values())
    assert client.patch("/v1/config", json={"generation": {"stop": stops}}).status_code == 200
    try:
        assert client.get("/v1/config").json()["generation"]["stop"] == stops
    finally:
        client.patch("/v1/config", json={"generation": {"stop": []}})
