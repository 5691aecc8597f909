"""Service state: GET /health (liveness and readiness), GET /v1/status (everything the console shows), GET /metrics
(Prometheus)."""

from __future__ import annotations

import os
import time
from typing import Any

import psutil
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pylot.server.deps import StateDep
from pylot.server.responses import (
    BackendStatus,
    CacheStatus,
    FeedbackStatus,
    LatencyStatus,
    MemoryStatus,
    ModelStatus,
    PromptCacheStatus,
    Status,
)
from pylot.server.state import ServerState

router = APIRouter(tags=["service"])


@router.get("/health")
async def health(state: StateDep) -> Any:
    """Liveness and readiness: 200 once a model is loaded, 503 while loading or after a failed load."""
    if not state.engine_loaded:
        return JSONResponse(
            {"status": "loading" if state.load_error is None else "error", "error": state.load_error},
            status_code=503,
        )
    return {"status": "ok", "model": state.engine.capabilities().model_id}


@router.get("/v1/status")
async def status(state: StateDep) -> Status:
    vm = psutil.virtual_memory()
    model = ModelStatus(loaded=state.engine_loaded, error=state.load_error)
    queue = 0
    if state.engine_loaded:
        caps = state.engine.capabilities()
        model = ModelStatus(
            loaded=True,
            error=state.load_error,
            id=caps.model_id,
            path=caps.extra.get("path"),
            n_ctx=caps.n_ctx,
            fim=caps.fim,
            family=caps.family,
        )
        saved = getattr(state.engine, "prompt_cache", None)  # the in-process engine's saved KV states
        if saved is not None:
            model.prompt_cache = PromptCacheStatus(
                entries=len(saved), bytes=saved.bytes, max_bytes=saved.max_bytes, restores=saved.hits
            )
        queue = int(getattr(state.engine, "queue_depth", 0))
    state.stats.m_queue.set(queue)
    cache = state.cache.stats()
    typeahead = state.pipeline.typeahead
    fb = state.feedback.stats()
    return Status(
        model=model,
        uptime_s=round(time.time() - state.started, 1),
        memory=MemoryStatus(
            rss_bytes=psutil.Process(os.getpid()).memory_info().rss,
            available_bytes=vm.available,
            total_bytes=vm.total,
        ),
        queue_depth=queue,
        requests_total=state.stats.requests_total,
        requests_per_minute=state.stats.requests_per_minute(),
        tokens_per_second=state.stats.tokens_per_second(),
        latency_ms=LatencyStatus.model_validate(state.stats.latency_ms()),
        cache=CacheStatus(
            enabled=state.config.settings.cache.enabled,
            entries=cache.entries,
            hits=cache.hits + typeahead.hits,
            misses=cache.misses + typeahead.misses,
            hit_rate=round(_rate(cache.hits + typeahead.hits, cache.misses + typeahead.misses), 4),
            typeahead_hits=typeahead.hits,
        ),
        feedback=FeedbackStatus(
            views=fb.views,
            accepts=fb.accepts,
            dismisses=fb.dismisses,
            acceptance_rate=round(fb.acceptance_rate, 4),
        ),
        backends=_backends(state, queue),
    )


def _backends(state: ServerState, queue: int) -> list[BackendStatus]:
    """Each backend's health, latency and load: the balancer's view, or the embedded engine."""
    if state.engine_loaded and hasattr(state.engine, "status"):
        return [BackendStatus.model_validate(b) for b in state.engine.status()]
    return [BackendStatus(name="embedded", url=None, healthy=state.engine_loaded, latency_ms=None, in_flight=queue)]


def _rate(hits: int, misses: int) -> float:
    return hits / (hits + misses) if hits + misses else 0.0


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
)
async def metrics(state: StateDep) -> Response:
    state.stats.m_queue.set(int(getattr(state.engine, "queue_depth", 0)) if state.engine_loaded else 0)
    return Response(generate_latest(state.stats.registry), media_type=CONTENT_TYPE_LATEST)
