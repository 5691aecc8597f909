"""Editor completions over HTTP: the pipeline's rules, with the client's own stop strings on top."""

from __future__ import annotations

from fastapi.testclient import TestClient

ADD = {"prompt": "def add(a, b):\n    ", "suffix": "\n\nprint(add(1, 2))\n"}


def test_a_completion_with_a_suffix_ends_before_the_clients_stop_string(client: TestClient) -> None:
    choice = client.post("/v1/completions", json={**ADD, "stop": "+"}).json()["choices"][0]
    assert choice["text"].rstrip() == "return a"  # greedy, the model writes `return a + b`
    assert choice["finish_reason"] == "stop"


def test_infill_ends_before_the_clients_stop_string(client: TestClient) -> None:
    body = client.post(
        "/infill", json={"input_prefix": ADD["prompt"], "input_suffix": ADD["suffix"], "stop": [" b", "+"]}
    ).json()
    assert body["content"].rstrip() == "return a"


def test_a_type_ahead_answer_is_cut_at_the_stop_string_too(client: TestClient) -> None:
    # Type-ahead remembers a suggestion made without stop strings; the next request has one.
    first = client.post("/v1/completions", json=ADD).json()["choices"][0]
    assert "a + b" in first["text"]
    body = client.post("/v1/completions", json={**ADD, "prompt": ADD["prompt"] + "ret", "stop": ["+"]}).json()
    assert body["pylot"]["source"] == "typeahead"
    assert body["choices"][0]["text"].rstrip() == "urn a"
