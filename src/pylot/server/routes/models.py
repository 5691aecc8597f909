"""/v1/models and /v1/models/...: the loaded model (OpenAI's list), and model management for the console and
scripts: catalog with memory fit, pull with progress, load, delete, quantize."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse
from pydantic import Field

from pylot.errors import PylotError, RequestError
from pylot.models import CATALOG, QUANT_TYPES, ModelStore, available_ram_bytes, model_info
from pylot.server.deps import StateDep
from pylot.server.responses import ModelCard, ModelList, ModelMeta
from pylot.server.sse import SSE_RESPONSES, sse_response
from pylot.server.state import ServerState
from pylot.types import TextBody

router = APIRouter(tags=["models"])


@router.get("/v1/models")
async def list_models(state: StateDep) -> ModelList:
    caps = state.engine.capabilities()
    meta = ModelMeta.model_validate({"n_ctx": caps.n_ctx, "fim": caps.fim, "family": caps.family, **caps.extra})
    return ModelList(data=[ModelCard(id=caps.model_id, created=int(state.started), loaded=True, meta=meta)])


def _store(state: ServerState) -> ModelStore:
    return ModelStore.from_settings(state.config.settings)


def _loaded_id(state: ServerState) -> str | None:
    return state.engine.capabilities().model_id if state.engine_loaded else None


def _entry(state: ServerState, store: ModelStore, model_id: str, free: int) -> dict[str, Any]:
    cat = CATALOG.get(model_id)
    installed = store.get(model_id)
    n_ctx = state.config.settings.model.n_ctx
    memory: dict[str, Any]
    if installed is not None:
        info = model_info(store, model_id, n_ctx=n_ctx, available_bytes=free)
        memory = {
            "total_bytes": info.estimate.total,
            "n_ctx": n_ctx,
            "fits": info.fitting_n_ctx == n_ctx,
            "fitting_n_ctx": info.fitting_n_ctx,
        }
    else:
        # Not downloaded yet: the weights plus a typical KV cache, until the file can be read.
        total = int(cat.size_bytes * 1.15) if cat else 0
        memory = {"total_bytes": total, "n_ctx": n_ctx, "fits": total < free, "fitting_n_ctx": None}
    return {
        "id": model_id,
        "family": cat.family if cat else (installed.family if installed else "unknown"),
        "description": cat.description if cat else "",
        "size_bytes": cat.size_bytes if cat else (installed.size if installed else 0),
        "quantization": cat.quantization if cat else (installed.quantization if installed else ""),
        "fim": cat.fim if cat else bool(installed and installed.fim),
        "installed": installed is not None,
        "status": installed.status if installed else "not installed",
        "loaded": model_id == _loaded_id(state),
        "memory": memory,
    }


@router.get("/v1/models/catalog")
async def catalog(state: StateDep) -> dict[str, Any]:
    """Every model Pylot knows or has, with whether it is installed, loaded, and fits in free memory."""

    def build() -> list[dict[str, Any]]:
        store = _store(state)
        ids = list(CATALOG) + [m.id for m in store.list_installed() if m.id not in CATALOG]
        free = available_ram_bytes()
        return [_entry(state, store, model_id, free) for model_id in ids]

    return {"object": "list", "data": await asyncio.to_thread(build), "quantization_types": list(QUANT_TYPES)}


class PullBody(TextBody):
    id: str = Field(min_length=1, description="Catalog id to download.")
    source: Literal["registry", "hf"] | None = None


@router.post("/v1/models/pull", responses=SSE_RESPONSES)
async def pull(body: PullBody, state: StateDep) -> StreamingResponse:
    """Download and verify a model; server-sent events {downloaded, total} then {done: true} or {error}."""
    if body.id not in CATALOG:
        raise RequestError(f"unknown model '{body.id}'; known: {', '.join(CATALOG)}", param="id")
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.2 or done >= total:
            last[0] = now
            loop.call_soon_threadsafe(queue.put_nowait, {"downloaded": done, "total": total})

    def work() -> None:
        try:
            model = _store(state).pull(body.id, body.source, progress)
            final: dict[str, Any] = {"done": True, "id": model.id, "size_bytes": model.size}
        except PylotError as exc:
            final = {"done": True, "error": str(exc)}
        loop.call_soon_threadsafe(queue.put_nowait, final)

    task = asyncio.create_task(asyncio.to_thread(work))

    async def events() -> AsyncIterator[str]:
        while True:
            event = await queue.get()
            yield f"data: {json.dumps(event)}\n\n"
            if event.get("done"):
                break
        await task

    return sse_response(events())


class LoadBody(TextBody):
    id: str = Field(min_length=1, description="Installed model id (or .gguf path) to serve.")


@router.post("/v1/models/load")
async def load(body: LoadBody, state: StateDep) -> dict[str, Any]:
    """Serve another model: loaded, swapped in, then written to the config (so it survives a restart).
    A model that does not load changes nothing."""
    await asyncio.to_thread(state.update_config, {"model": {"model": body.id}})
    return {"loaded": body.id}


@router.delete("/v1/models/{model_id}", status_code=204)
async def delete(model_id: str, state: StateDep) -> Response:
    if model_id == _loaded_id(state):
        raise RequestError(f"{model_id} is the loaded model; load another one before deleting it", param="id")
    await asyncio.to_thread(_store(state).remove, model_id)
    return Response(status_code=204)


class QuantizeBody(TextBody):
    id: str = Field(min_length=1, description="Installed model to quantize.")
    type: str = Field(description="One of q4_0, q4_k_m, q5_k_m, q8_0.")
    new_id: str | None = None


@router.post("/v1/models/quantize")
async def quantize(body: QuantizeBody, state: StateDep) -> dict[str, Any]:
    """Quantize with llama.cpp's own quantizer; the result joins the store."""
    if body.type not in QUANT_TYPES:
        raise RequestError(f"unknown quantization '{body.type}'; choose one of {', '.join(QUANT_TYPES)}", param="type")
    store = _store(state)
    model = await asyncio.to_thread(store.quantize, body.id, body.type, body.new_id, lambda done, total: None)
    return {"id": model.id, "size_bytes": model.size, "quantization": model.quantization}
