"""ExternalLlamaAPIClient: a running llama.cpp llama-server (or any OpenAI-compatible server), awaited.

llama-server -m qwen2.5-coder-0.5b.gguf --port 8000 --api-key sk-local
PYLOT_LLAMA_URL=http://localhost:8000 PYLOT_LLAMA_API_KEY=sk-local .venv/bin/python examples/external_client.py
"""

import asyncio
import os

from pylot.engines.llama_server.client import ExternalLlamaAPIClient


async def main() -> None:
    url = os.environ.get("PYLOT_LLAMA_URL", "http://localhost:8000")
    client = ExternalLlamaAPIClient(url, api_key=os.environ.get("PYLOT_LLAMA_API_KEY"), timeout=30)
    try:
        response = await client.generate("def greet(name):\n", max_tokens=32, temperature=0.2)
        print(response.text)
        print(f"[{response.tokens_used} tokens, finish_reason={response.finish_reason}]")
    finally:
        client.close()


asyncio.run(main())
