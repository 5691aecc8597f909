"""Token streaming over /ws/completions, cancelling after a few tokens as an editor would on a keystroke.

Start the server first (`make run`), then: .venv/bin/python examples/websocket_stream.py
"""

import asyncio
import json
import os

import websockets


async def main() -> None:
    url = os.environ.get("PYLOT_URL", "http://127.0.0.1:8080").replace("http", "ws", 1)
    async with websockets.connect(url + "/ws/completions") as ws:
        await ws.send(
            json.dumps({"type": "completion", "id": "1", "prompt": "def quicksort(xs):\n", "max_tokens": 200})
        )
        tokens = 0
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "token":
                print(message["text"], end="", flush=True)
                tokens += 1
                if tokens == 10:
                    await ws.send(json.dumps({"type": "cancel", "id": "1"}))
            else:
                print(f"\n[{message['type']}: {message.get('finish_reason') or message.get('message')}]")
                break


asyncio.run(main())
