"""First-keystroke latency, with and without an editor's warm-up.

An editor that opens a file (or switches to one) can send a warm-up: the completion request for the cursor
with `max_tokens: 0`, which puts the prompt into the server's KV cache and generates nothing. The first
keystroke on that line then evaluates only what was typed. `first_keystroke` measures that keystroke
both ways on a running Pylot server:

    from _warmup import first_keystroke
    result = first_keystroke(url, lines, index)   # url of a server started with type-ahead off, see below
    print(result.cold_s, result.warm_s, result.warmup_s)

The server must run with `completion: {typeahead_entries: 0}`: the warm measurement repeats the cold one's
request, which type-ahead would answer from the suggestion it remembers. A keystroke answered that way is
refused with an error rather than reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

SESSION = {"X-Pylot-Session": "first-keystroke"}
# A warm-up of a document unrelated to the one measured: the KV cache holds no part of its prompt afterwards.
ELSEWHERE = {"prompt": "# another file\nimport sys\n\n\ndef other():\n    ", "suffix": "\n", "max_tokens": 0}


@dataclass(frozen=True)
class FirstKeystroke:
    """Seconds, as the client sees them: the first keystroke cold and after a warm-up, and the warm-up itself."""

    cold_s: float
    warm_s: float
    warmup_s: float


def first_keystroke(
    url: str,
    lines: list[str],
    index: int,
    *,
    before_lines: int = 256,
    after_lines: int = 64,
    language: str = "python",
    client: httpx.Client | None = None,
) -> FirstKeystroke:
    """The first keystroke on line `index` of `lines` (lines with their newlines): the cursor arrives after
    the line's indentation and the user types its first character.

    Cold: the server's cache holds another document. Warm: the same, then a warm-up at the cursor (waited
    for), then the keystroke. The document is cut as an editor sends it: `before_lines` before the cursor's
    line, `after_lines` after it (the defaults are llama.vscode's, as in keystroke_latency.py).
    """
    http = client or httpx.Client(timeout=600)
    line = lines[index].rstrip("\n")
    indent = line[: len(line) - len(line.lstrip())]
    if len(indent) == len(line):
        raise ValueError(f"line {index} is blank: there is no first character to type")
    before = "".join(lines[max(0, index - before_lines) : index])
    after = "\n" + "".join(lines[index + 1 : index + 1 + after_lines])

    def post(body: dict[str, object]) -> tuple[float, dict[str, object]]:
        started = time.perf_counter()
        r = http.post(f"{url}/v1/completions", headers=SESSION, json={"language": language, **body})
        r.raise_for_status()
        return time.perf_counter() - started, r.json()

    def keystroke() -> float:
        seconds, answer = post({"prompt": before + line[: len(indent) + 1], "suffix": after})
        meta = answer.get("pylot")
        if isinstance(meta, dict) and meta.get("source") == "typeahead":
            raise RuntimeError("the keystroke was answered from type-ahead: start the server with typeahead_entries 0")
        return seconds

    try:
        post(ELSEWHERE)
        cold = keystroke()
        post(ELSEWHERE)
        warmup, _ = post({"prompt": before + indent, "suffix": after, "max_tokens": 0})
        warm = keystroke()
    finally:
        if client is None:
            http.close()
    return FirstKeystroke(cold, warm, warmup)
