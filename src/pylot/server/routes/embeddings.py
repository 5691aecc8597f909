"""POST /v1/embeddings: OpenAI embeddings from the loaded model."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from pylot.server.deps import StateDep
from pylot.server.responses import Embedding, EmbeddingList, EmbeddingUsage
from pylot.types import EmbeddingRequest

router = APIRouter(tags=["generation"])


@router.post("/v1/embeddings")
async def embeddings(body: EmbeddingRequest, state: StateDep) -> EmbeddingList:
    state.check_model(body.model)
    texts = [body.input] if isinstance(body.input, str) else body.input
    vectors = await asyncio.to_thread(state.engine.embed, texts)
    n_tokens = sum(len(state.engine.tokenize(t)) for t in texts)
    return EmbeddingList(
        model=state.engine.capabilities().model_id,
        data=[Embedding(index=i, embedding=v) for i, v in enumerate(vectors)],
        usage=EmbeddingUsage(prompt_tokens=n_tokens, total_tokens=n_tokens),
    )
