"""Editor completions (/v1/completions with a suffix, and /infill) through the pipeline on the real engine.

Typing into a suggestion is answered from the typeahead cache. Warm-ups: llama-server's `n_predict: 0` on
/infill and `max_tokens: 0` on /v1/completions put the prompt a keystroke at that cursor would send into the
KV cache, and answer at once with no text."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from pylot.types import GenerationParams

BEFORE = "import os\n\n" + "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(12)) + "def main():\n"
TYPED = "    path = os.path.j"
AFTER = "\n\n" + "".join(f"def later_{i}(y):\n    return y * {i}\n\n" for i in range(12))
FIM = {"prompt": "def add(a, b):\n    ", "suffix": "\n\nprint(add(1, 2))\n", "stop": ["\n"]}


def test_typing_into_a_suggestion_is_answered_from_the_typeahead_cache(client: TestClient) -> None:
    first = client.post("/v1/completions", json={**FIM, "suffix": "\n"}).json()
    text = first["choices"][0]["text"]
    assert first["pylot"]["source"] == "model" and len(text) > 3
    typed = client.post("/v1/completions", json={**FIM, "suffix": "\n", "prompt": FIM["prompt"] + text[:3]}).json()
    assert typed["pylot"]["source"] == "typeahead"
    assert typed["choices"][0]["text"] == text[3:]
    assert typed["id"] == first["id"]  # feedback for the rest refers to the same suggestion
    assert client.get("/v1/status").json()["cache"]["typeahead_hits"] == 1


def evict(qwen) -> None:  # type: ignore[no-untyped-def]
    qwen.generate("something else entirely", GenerationParams(max_tokens=1))


def test_an_infill_warm_up_evaluates_the_prompt_and_generates_nothing(client: TestClient, qwen) -> None:
    evict(qwen)
    warm = {"input_prefix": BEFORE, "prompt": TYPED, "input_suffix": AFTER, "n_predict": 0}
    body = client.post("/infill", json=warm).json()
    assert (body["content"], body["stop"], body["stop_type"], body["tokens_predicted"]) == ("", True, "limit", 0)
    assert body["tokens_evaluated"] > 250
    assert qwen._llm.n_tokens == body["tokens_evaluated"]  # the prompt and not one token more
    keystroke = client.post("/infill", json={**warm, "prompt": TYPED + "o", "n_predict": 16}).json()
    assert keystroke["content"].startswith("in(")
    assert keystroke["tokens_evaluated"] - qwen.last_reused_tokens <= 6  # the prefix came from the warm-up


def test_a_streamed_warm_up_is_one_final_event(client: TestClient) -> None:
    warm = {"input_prefix": BEFORE, "prompt": TYPED, "input_suffix": AFTER, "n_predict": 0, "stream": True}
    with client.stream("POST", "/infill", json=warm) as r:
        events = [json.loads(line[6:]) for line in r.read().decode().splitlines() if line.startswith("data: ")]
    assert len(events) == 1 and events[0]["stop"] is True and events[0]["content"] == ""


def test_max_tokens_0_with_a_suffix_warms_up_like_n_predict_0(client: TestClient, qwen) -> None:
    evict(qwen)
    body = client.post("/v1/completions", json={"prompt": BEFORE + TYPED, "suffix": AFTER, "max_tokens": 0}).json()
    assert body["choices"][0]["text"] == "" and body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 0 and body["usage"]["prompt_tokens"] > 250
    assert body["pylot"]["warmup"] is True
    after = client.post("/v1/completions", json={"prompt": BEFORE + TYPED + "o", "suffix": AFTER}).json()
    assert after["usage"]["prompt_tokens"] - qwen.last_reused_tokens <= 6
    assert 'endpoint="warmup"' in client.get("/metrics").text


def test_a_raw_warm_up_is_never_answered_from_the_response_cache(client: TestClient, qwen) -> None:
    warm = {"input_prefix": BEFORE, "prompt": TYPED, "input_suffix": AFTER, "n_predict": 0, "raw": True}
    client.post("/infill", json=warm)
    evict(qwen)
    body = client.post("/infill", json=warm).json()
    assert (body["content"], body["tokens_predicted"], body["stop_type"]) == ("", 0, "limit")
    assert qwen._llm.n_tokens == body["tokens_evaluated"] > 250  # evaluated again, not a cached answer


# ---- the client's own stop strings, on top of the pipeline's rules ----------------------------------

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
