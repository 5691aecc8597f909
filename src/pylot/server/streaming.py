"""Running a blocking token stream in a worker thread and consuming it from the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Callable, Iterator

from starlette.requests import Request

from pylot.engines.interface import CancelToken
from pylot.types import Chunk

_END = object()


async def stream_in_thread(factory: Callable[[], Iterator[Chunk]], cancel: CancelToken) -> AsyncIterator[Chunk]:
    """Yield the chunks of factory() as they are produced.

    The stream runs in its own thread; if the consumer stops early (client gone, task cancelled) the
    cancel token is set, and the engine stops within a token.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()

    def put(item: object) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the event loop closed under us (server shutting down): nobody is listening
            cancel.cancel("event loop closed")

    def work() -> None:
        try:
            iterator = factory()
            try:
                for chunk in iterator:
                    put(chunk)
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
        except BaseException as exc:  # forwarded to the consumer, raised there
            put(exc)
        finally:
            put(_END)

    # The copied context carries per-request values (the editor session for sticky routing) into the thread.
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(work,), name="pylot-generate", daemon=True)
    thread.start()
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Chunk)
            yield item
    finally:
        cancel.cancel("client went away")


async def cancel_on_disconnect(request: Request, token: CancelToken, interval_s: float = 0.05) -> None:
    """Cancel the generation behind a plain (non-streamed) request when its client goes away.

    Editors abort the request of every keystroke they type past; without this the abandoned
    generation would hold the model while the next keystroke waits.
    """
    while not token.cancelled:
        if await request.is_disconnected():
            token.cancel("client went away")
            return
        await asyncio.sleep(interval_s)


async def first_and_rest(stream: AsyncIterator[Chunk]) -> tuple[Chunk | None, AsyncIterator[Chunk]]:
    """Pull the first chunk now, so errors raised before any output become proper HTTP errors."""
    try:
        first = await stream.__anext__()
    except StopAsyncIteration:
        first = None

    async def rest() -> AsyncIterator[Chunk]:
        if first is not None:
            yield first
        async for chunk in stream:
            yield chunk

    return first, rest()
