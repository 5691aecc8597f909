"""Service endpoints: /health, /v1/models, /v1/status, /v1/embeddings, /v1/events, /metrics."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Literal

import psutil
from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field

from pylot.server.deps import StateDep
from pylot.server.state import ServerState
from pylot.types import EmbeddingRequest, TextBody

router = APIRouter(tags=["service"])


@router.get("/health")
async def health(state: StateDep) -> Any:
    """Liveness and readiness: 200 once a model is loaded, 503 while loading or after a failed load."""
    if not state.engine_loaded:
        from fastapi.responses import JSONResponse

        return JSONResponse(
            {"status": "loading" if state.load_error is None else "error", "error": state.load_error},
            status_code=503,
        )
    return {"status": "ok", "model": state.engine.capabilities().model_id}


@router.get("/v1/models")
async def models(state: StateDep) -> dict[str, Any]:
    caps = state.engine.capabilities()
    data = [
        {
            "id": caps.model_id,
            "object": "model",
            "created": int(state.started),
            "owned_by": "pylot",
            "loaded": True,
            "meta": {"n_ctx": caps.n_ctx, "fim": caps.fim, "family": caps.family, **caps.extra},
        }
    ]
    return {"object": "list", "data": data}


@router.get("/v1/status")
async def status(state: StateDep) -> dict[str, Any]:
    vm = psutil.virtual_memory()
    model: dict[str, Any] = {"loaded": state.engine_loaded, "error": state.load_error}
    queue = 0
    if state.engine_loaded:
        caps = state.engine.capabilities()
        model.update(id=caps.model_id, path=caps.extra.get("path"), n_ctx=caps.n_ctx, fim=caps.fim, family=caps.family)
        queue = int(getattr(state.engine, "queue_depth", 0))
        saved = getattr(state.engine, "prompt_cache", None)  # the in-process engine's saved KV states
        if saved is not None:
            model["prompt_cache"] = {
                "entries": len(saved),
                "bytes": saved.bytes,
                "max_bytes": saved.max_bytes,
                "restores": saved.hits,
            }
    state.stats.m_queue.set(queue)
    cache = state.cache.stats()
    typeahead = state.pipeline.typeahead
    fb = state.feedback.stats()
    return {
        "model": model,
        "uptime_s": round(time.time() - state.started, 1),
        "memory": {
            "rss_bytes": psutil.Process(os.getpid()).memory_info().rss,
            "available_bytes": vm.available,
            "total_bytes": vm.total,
        },
        "queue_depth": queue,
        "requests_total": state.stats.requests_total,
        "requests_per_minute": state.stats.requests_per_minute(),
        "tokens_per_second": state.stats.tokens_per_second(),
        "latency_ms": state.stats.latency_ms(),
        "cache": {
            "enabled": state.config.settings.cache.enabled,
            "entries": cache.entries,
            "hits": cache.hits + typeahead.hits,
            "misses": cache.misses + typeahead.misses,
            "hit_rate": round(_rate(cache.hits + typeahead.hits, cache.misses + typeahead.misses), 4),
            "typeahead_hits": typeahead.hits,
        },
        "feedback": {
            "views": fb.views,
            "accepts": fb.accepts,
            "dismisses": fb.dismisses,
            "acceptance_rate": round(fb.acceptance_rate, 4),
        },
        "backends": _backends(state, queue),
    }


def _backends(state: ServerState, queue: int) -> list[dict[str, Any]]:
    """Each backend's health, latency and load: the balancer's view, or the embedded engine."""
    if state.engine_loaded and hasattr(state.engine, "status"):
        return list(state.engine.status())
    return [{"name": "embedded", "url": None, "healthy": state.engine_loaded, "latency_ms": None, "in_flight": queue}]


def _rate(hits: int, misses: int) -> float:
    return hits / (hits + misses) if hits + misses else 0.0


@router.post("/v1/embeddings")
async def embeddings(body: EmbeddingRequest, state: StateDep) -> dict[str, Any]:
    state.check_model(body.model)
    texts = [body.input] if isinstance(body.input, str) else body.input
    vectors = await asyncio.to_thread(state.engine.embed, texts)
    n_tokens = sum(len(state.engine.tokenize(t)) for t in texts)
    return {
        "object": "list",
        "model": state.engine.capabilities().model_id,
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "usage": {"prompt_tokens": n_tokens, "total_tokens": n_tokens},
    }


class FeedbackEvent(TextBody):
    completion_id: str = Field(min_length=1, max_length=200)
    event: Literal["view", "accept", "dismiss"]
    language: str | None = Field(default=None, max_length=64)
    latency_ms: float | None = Field(default=None, ge=0)


@router.post("/v1/events", status_code=204)
async def events(body: FeedbackEvent, state: StateDep) -> Response:
    """What the user did with a suggestion; feeds the acceptance rate."""
    await asyncio.to_thread(state.feedback.record, body.completion_id, body.event, body.language, body.latency_ms)
    return Response(status_code=204)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
)
async def metrics(state: StateDep) -> Response:
    state.stats.m_queue.set(int(getattr(state.engine, "queue_depth", 0)) if state.engine_loaded else 0)
    return Response(generate_latest(state.stats.registry), media_type=CONTENT_TYPE_LATEST)
