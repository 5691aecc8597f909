"""Bad input gets a 4xx that names the problem and loses nothing: empty inputs, lone surrogates, broken
WebSocket frames, huge prompts; a 500 keeps the connection; clients that leave while queued give up their
place. On the real small models (SmolLM2 for generation, Qwen for what needs fill-in-the-middle)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from pylot.config.config_manager import ConfigManager
from pylot.server import PylotServer
from pylot.types import Chunk
from tests.doubles import Call, ScriptedEngine
from tests.server.conftest import free_port, make_client

SURROGATE = '"\\ud800"'  # JSON text for a lone surrogate: json.dumps would refuse to write one


@pytest.fixture(scope="module")
def client(qwen: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(qwen, tmp_path_factory.mktemp("bad"), "generation:\n  max_tokens: 4\n") as c:
        yield c


def post_raw(client: TestClient, path: str, body: str) -> httpx.Response:
    return client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/embeddings", '{"input": ["", "x"]}', "input"),
        ("/v1/embeddings", '{"input": ""}', "input"),
        ("/v1/embeddings", '{"input": []}', "input"),
    ],
)
def test_an_empty_embedding_input_is_a_400_that_says_so(client: TestClient, path: str, body: str, param: str) -> None:
    response = post_raw(client, path, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert ("empty" in error["message"] or "at least one" in error["message"]) and error["param"] == param
    # The server is whole afterwards: a batch of 8 embeds (this once corrupted the heap and killed it).
    batch = client.post("/v1/embeddings", json={"input": [f"text {i}" for i in range(8)]})
    assert batch.status_code == 200 and len(batch.json()["data"]) == 8


def test_an_input_as_long_as_the_embedding_window_is_embedded(client: TestClient) -> None:
    response = client.post("/v1/embeddings", json={"input": "word " * 900})  # > one default batch of 512
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("prompt", ["", [""]])
def test_an_empty_prompt_continues_from_the_start_of_text(client: TestClient, prompt: object) -> None:
    # As OpenAI's API does; llama.cpp itself would assert on a prompt of no tokens (this was a 500).
    response = client.post("/v1/completions", json={"prompt": prompt, "max_tokens": 3})
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["prompt_tokens"] == 1


def test_infill_with_nothing_around_the_cursor_answers(client: TestClient) -> None:
    assert client.post("/infill", json={}).status_code == 200
    assert client.post("/v1/completions", json={"prompt": "", "suffix": "x = 1\n"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/v1/completions", f'{{"prompt": {SURROGATE}}}', "prompt"),
        ("/v1/completions", f'{{"prompt": "x", "suffix": {SURROGATE}}}', "suffix"),
        ("/v1/completions", f'{{"prompt": ["a", {SURROGATE}]}}', "prompt.1"),
        ("/v1/chat/completions", f'{{"messages": [{{"role": "user", "content": {SURROGATE}}}]}}', "messages.0.content"),
        ("/infill", f'{{"input_prefix": {SURROGATE}}}', "input_prefix"),
        ("/v1/embeddings", f'{{"input": {SURROGATE}}}', "input"),
        ("/v1/tools/parse_file", f'{{"path": {SURROGATE}}}', "path"),
        ("/v1/events", f'{{"event": "view", "completion_id": {SURROGATE}}}', "completion_id"),
    ],
)
def test_a_lone_surrogate_is_a_400_naming_where(client: TestClient, path: str, body: str, where: str) -> None:
    response = post_raw(client, path, body)
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert "lone surrogate" in message and f"'{where}'" in message, message
    assert client.get("/v1/config").status_code == 200


def test_after_a_500_the_same_connection_serves_the_next_request(tmp_path: Path) -> None:
    def bug(call: Call) -> list[Chunk]:
        raise ZeroDivisionError("a bug")

    broken = ScriptedEngine(bug, model_id="broken", fim=False)  # every generation raises

    port = free_port()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"server: {{port: {port}}}\ncache: {{enabled: false}}\n", encoding="utf-8")
    server = PylotServer(ConfigManager(cfg, environ={}), engine=broken, watch_config=False)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            body = b'{"prompt": "x"}'
            request = (
                b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            sock.sendall(request)
            first = _read_response(sock)
            assert first.startswith(b"HTTP/1.1 500") and b"internal_error" in first
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            second = _read_response(sock)
            assert second.startswith(b"HTTP/1.1 200"), second
    finally:
        server.stop()


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/infill", "{not json", 400, "JSON"),
        ("/infill", '{"input_prefix": 5}', 400, "input_prefix"),
        ("/infill", '{"input_extra": "x"}', 400, "input_extra"),
        ("/infill", '{"n_predict": "many"}', 400, "n_predict"),
        ("/infill", "[1, 2]", 400, ""),
        ("/v1/embeddings", "{not json", 400, "JSON"),
        ("/v1/embeddings", '{"input": 5}', 400, "input"),
        ("/v1/embeddings", '{"input": [1, 2]}', 400, "input"),
        ("/v1/embeddings", "{}", 400, "input"),
    ],
)
def test_malformed_infill_and_embedding_requests_are_a_400_naming_the_problem(
    client: TestClient, path: str, body: str, status: int, says: str
) -> None:
    response = post_raw(client, path, body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert says in (error["message"] + str(error.get("param"))), error


def test_over_the_context_window_infill_keeps_the_nearest_code_and_embeddings_say_so(client: TestClient) -> None:
    long = "x = 1\n" * 40_000  # far past the 2048-token window
    # An editor sends whole files: /infill keeps the code nearest the cursor, within its budget, as llama-server does.
    response = client.post("/infill", json={"input_prefix": long, "input_suffix": long, "n_predict": 2})
    assert response.status_code == 200, response.text
    assert 0 < response.json()["tokens_evaluated"] < 2048
    response = client.post("/v1/embeddings", json={"input": long})
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert "context window" in message or "tokens" in message, message


# ---- WebSocket -----------------------------------------------------------------------------------------


def test_frames_that_are_not_a_json_object_get_an_error_and_keep_the_socket(client: TestClient) -> None:
    with client.websocket_connect("/ws/completions") as ws:
        for frame in ("not json", "[1, 2]", '"a string"'):
            ws.send_text(frame)
            reply = ws.receive_json()
            assert reply["type"] == "error" and ("JSON" in reply["message"] or "object" in reply["message"])
        ws.send_bytes(b"\x00\x01")
        assert "binary" in ws.receive_json()["message"]
        ws.send_json({"type": "completion", "id": "ok", "prompt": "def add(a, b):\n    return", "max_tokens": 3})
        kinds = [ws.receive_json()["type"]]
        while kinds[-1] not in ("done", "error"):
            kinds.append(ws.receive_json()["type"])
        assert kinds[-1] == "done" and "token" in kinds


@pytest.mark.parametrize(
    ("prompt_json", "expect"),
    [
        (SURROGATE, "lone surrogate"),
        (json.dumps("x = 1\n" * 250_000), "context window"),
        (json.dumps("x = 1\n" * 500_000), "larger than 2000000 bytes (server.max_request_bytes)"),
    ],
    ids=["surrogate", "1.5MB", "3MB"],
)
def test_a_bad_prompt_over_the_websocket_gets_an_error(client: TestClient, prompt_json: str, expect: str) -> None:
    with client.websocket_connect("/ws/completions") as ws:
        ws.send_text(f'{{"type": "completion", "id": "b", "prompt": {prompt_json}}}')
        reply = ws.receive_json()
        # A message over the limit is refused unread, so its id is unknown.
        assert reply["type"] == "error" and reply["id"] == ("" if "larger" in expect else "b"), reply
        assert expect in reply["message"]


def test_a_frame_past_the_socket_limit_closes_that_socket_and_the_server_serves_on(tmp_path: Path) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    port = free_port()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"server: {{port: {port}}}\ncache: {{enabled: false}}\n", encoding="utf-8")
    server = PylotServer(ConfigManager(cfg, environ={}), engine=ScriptedEngine("1"), watch_config=False)
    server.start()
    try:
        url = f"ws://127.0.0.1:{port}/ws/completions"
        with connect(url, max_size=None) as ws:
            ws.send('{"type": "completion", "id": "big", "prompt": "' + "x" * (17 * 1024 * 1024) + '"}')
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=30)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
        with connect(url) as ws:
            ws.send('{"type": "completion", "id": "ok", "prompt": "x = "}')
            replies = [json.loads(ws.recv(timeout=30))]
            while replies[-1]["type"] not in ("done", "error"):
                replies.append(json.loads(ws.recv(timeout=30)))
            assert replies[-1]["type"] == "done", replies
    finally:
        server.stop()


# ---- leaving while queued --------------------------------------------------------------------------------


def test_a_stream_whose_client_leaves_while_queued_gives_up_its_place(smollm: object, tmp_path: Path) -> None:
    port = free_port()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"server: {{port: {port}}}\ncache: {{enabled: false}}\n", encoding="utf-8")
    server = PylotServer(ConfigManager(cfg, environ={}), engine=smollm, watch_config=False)  # type: ignore[arg-type]
    url = server.start()
    try:
        long = {"prompt": "1, 2, 3, 4, 5, 6,", "max_tokens": 400, "temperature": 0}
        busy = threading.Thread(target=lambda: httpx.post(f"{url}/v1/completions", json=long, timeout=300))
        busy.start()
        time.sleep(0.5)  # the long one holds the model
        queued = {"prompt": "def f():", "max_tokens": 50, "stream": True}
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{url}/v1/completions", json=queued, timeout=httpx.Timeout(30, read=0.5))
        busy.join(300)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "cancelled" not in _outcomes(url):
            time.sleep(0.1)
        outcomes = _outcomes(url)
        assert outcomes.get("cancelled") == 1.0 and outcomes.get("ok") == 1.0, outcomes
        assert "error" not in outcomes
        assert httpx.get(f"{url}/v1/status", timeout=10).json()["queue_depth"] == 0
    finally:
        server.stop()


def _outcomes(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = re.findall(r'pylot_requests_total\{endpoint="completions",outcome="(\w+)"\} ([\d.]+)', text)
    return {k: float(v) for k, v in found}
