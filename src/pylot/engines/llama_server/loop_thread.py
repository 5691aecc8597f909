"""A private event loop in a daemon thread: the async core behind a client's blocking methods."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from pylot.errors import BackendUnavailableError

T = TypeVar("T")


class LoopThread:
    """A private event loop in a daemon thread: the async core behind the client's blocking methods."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        with self._lock:
            if self._closed:
                coro.close()
                raise BackendUnavailableError(f"{self._name}: the client is closed")
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._run, args=(self._loop,), name=f"pylot-http {self._name}")
                self._thread.daemon = True
                self._thread.start()
            return asyncio.run_coroutine_threadsafe(coro, self._loop)

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    def close(self, last: Coroutine[Any, Any, Any], *, wait: bool = True) -> None:
        """Run `last` (the HTTP client's aclose) on the loop, then stop it; later submits are refused."""
        with self._lock:
            loop, self._loop, self._closed = self._loop, None, True
        if loop is None:
            last.close()
            return

        async def shutdown() -> None:
            with contextlib.suppress(Exception):
                await last
            loop.stop()

        future = asyncio.run_coroutine_threadsafe(shutdown(), loop)
        if wait and threading.current_thread() is not self._thread:  # never wait on the loop from inside it
            with contextlib.suppress(Exception):
                future.result(timeout=5)


def release_on_drop(loop: LoopThread, http: httpx.AsyncClient) -> None:
    """A client dropped without close(): its connections and loop go with it, without waiting."""
    loop.close(http.aclose(), wait=False)
