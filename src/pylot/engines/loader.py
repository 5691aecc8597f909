"""Loading the configured engine: the embedded model (resolved in the store, its context fitted to free
memory), or a Balancer over the configured external servers."""

from __future__ import annotations

import logging

from pylot.config.settings import Settings
from pylot.engines.balancer import Balancer
from pylot.engines.interface import LLMInterface
from pylot.engines.llama_cpp.engine import LlamaLLM
from pylot.models import ModelStore, plan_load

log = logging.getLogger(__name__)


def load_engine(settings: Settings) -> LLMInterface:
    """The engine settings.backend.kind asks for: embedded llama.cpp, or the external servers."""
    if settings.backend.kind == "external":
        balancer = Balancer.from_settings(settings.backend)
        log.info("serving through %d external server(s): %s", len(balancer.clients), [c.name for c in balancer.clients])
        return balancer
    return load_embedded(settings)


def load_embedded(settings: Settings) -> LLMInterface:
    """The embedded llama.cpp engine for settings.model, with the context shrunk (or refused) to fit memory."""
    m = settings.model
    store = ModelStore.from_settings(settings)
    plan = plan_load(store, m.model, m.n_ctx, policy=m.memory_check, n_gpu_layers=m.n_gpu_layers, n_batch=m.n_batch)
    if plan.n_ctx != m.n_ctx:
        log.warning("model.n_ctx %d does not fit in free memory; loading with %d", m.n_ctx, plan.n_ctx)
    n_ctx = min(plan.n_ctx, plan.context_length) if plan.context_length else plan.n_ctx
    return LlamaLLM(plan.path, m.model_copy(update={"n_ctx": n_ctx}), model_id=plan.model_id)
