"""POST /v1/chat/completions: OpenAI chat completions with the model's own chat template."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request

from pylot.engines.interface import current_session
from pylot.errors import RequestError
from pylot.server.deps import StateDep
from pylot.server.editor_completion import editor_session
from pylot.server.jobs import collect_job, make_job, open_stream, usage
from pylot.server.responses import (
    AssistantMessage,
    ChatChoice,
    ChatChunkChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatDelta,
    ChatMeta,
)
from pylot.server.sse import SSE_RESPONSES, sse, sse_response
from pylot.server.tool_calls import parse_tool_calls, template_messages
from pylot.types import (
    ChatCompletionRequest,
    new_id,
    now,
)

router = APIRouter(tags=["generation"])


@router.post("/v1/chat/completions", response_model=ChatCompletion, responses=SSE_RESPONSES)
async def chat_completions(body: ChatCompletionRequest, request: Request, state: StateDep) -> Any:
    """OpenAI chat completions with the model's own chat template."""
    state.check_model(body.model)
    current_session.set(editor_session(request, getattr(body, "user", None)))
    params = state.request_params(body)
    messages = template_messages(body.messages)
    tools = [*(body.tools or []), *(state.tools.openai_tools() if body.pylot_tools else [])]
    if tools and body.stream:
        raise RequestError("streaming is not supported together with tools yet; send stream: false", param="stream")
    engine = state.engine
    job = make_job(
        state,
        "chat",
        "chat",
        [messages, tools],
        params,
        lambda c: engine.stream_chat(messages, params, c, tools=tools or None),
    )
    model_id = engine.capabilities().model_id
    cid, created = new_id("chatcmpl"), now()

    if body.stream:
        chunks = await open_stream(state, job, request)

        def frame(delta: ChatDelta, finish: str | None) -> str:
            choice = ChatChunkChoice(delta=delta, finish_reason=finish)
            return sse(ChatCompletionChunk(id=cid, created=created, model=model_id, choices=[choice]).model_dump())

        async def events() -> AsyncIterator[str]:
            yield frame(ChatDelta(role="assistant", content=""), None)
            async for chunk in chunks:
                if chunk.text:
                    yield frame(ChatDelta(content=chunk.text), None)
                if chunk.finish_reason:
                    yield frame(ChatDelta(), chunk.finish_reason)
            yield "data: [DONE]\n\n"

        return sse_response(events())

    result, cached, latency = await collect_job(state, job, request)
    message = AssistantMessage(content=result.text)
    finish: str = result.finish_reason
    if tools:
        content, calls = parse_tool_calls(result.text, {t.get("function", {}).get("name") for t in tools})
        if calls:
            message, finish = AssistantMessage.model_validate({"content": content, "tool_calls": calls}), "tool_calls"
    return ChatCompletion(
        id=cid,
        created=created,
        model=model_id,
        choices=[ChatChoice(message=message, finish_reason=finish)],
        usage=usage(result),
        pylot=ChatMeta(cached=cached, latency_ms=round(latency, 1)),
    )
