"""Completion, fill-in-the-middle and chat through the official OpenAI client.

Start the server first (`make run`), then: .venv/bin/python examples/openai_client.py
"""

import os

from openai import OpenAI

URL = os.environ.get("PYLOT_URL", "http://127.0.0.1:8080")
client = OpenAI(base_url=URL + "/v1", api_key="unused-unless-the-server-has-keys")

fim = client.completions.create(
    model="qwen2.5-coder-0.5b",
    prompt="def is_palindrome(s: str) -> bool:\n    ",
    suffix="\n\nprint(is_palindrome('level'))\n",
    max_tokens=32,
    temperature=0,
)
print("fill-in-the-middle:", repr(fim.choices[0].text))

stream = client.chat.completions.create(
    model="qwen2.5-coder-0.5b",
    messages=[{"role": "user", "content": "Write a Python one-liner that reverses a string."}],
    stream=True,
)
for chunk in stream:
    if chunk.choices:
        print(chunk.choices[0].delta.content or "", end="", flush=True)
print()
