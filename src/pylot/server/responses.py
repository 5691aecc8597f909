"""Every body the HTTP API answers with, one model each: routes build these, never dicts, so one shape
serves each path and /openapi.json (and the console's generated types) describe what clients receive.

Two kinds of model:

- `Body`: every field is always sent; a field with a default (`object: "text_completion"`) is still
  listed as present in the schema.
- `Sparse`: a field left at None is left out, unless it was given (`ModelStatus.path` is null for a
  server without a file; absent while no model is loaded). Used where the keys sent depend on the case.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, SerializerFunctionWrapHandler, model_serializer


class Body(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class Sparse(BaseModel):
    # No return annotation: pydantic would take it as the serialized schema, and the fields' schema is wanted.
    @model_serializer(mode="wrap")
    def _given(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None or k in self.model_fields_set}


# ---- OpenAI: completions and chat ---------------------------------------------------------------


class Usage(Body):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, prompt_tokens: int, completion_tokens: int) -> Usage:
        return cls(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )


class CompletionMeta(Sparse):
    """Pylot's `pylot` key. Raw completions: cached, latency_ms, fim. Editor completions add source, mode,
    fallback, candidates; a warm-up has warmup and latency_ms; a superseded request only cancelled."""

    cached: bool | None = None
    source: Literal["model", "typeahead"] | None = None
    mode: str | None = None
    fim: bool | None = None
    fallback: str | None = Field(
        default=None, description="Why the editor pipeline fell back, if it did (null if not)."
    )
    latency_ms: float | None = None
    candidates: int | None = None
    warmup: bool | None = None
    cancelled: bool | None = None


class TextChoice(Body):
    index: int = 0
    text: str
    logprobs: None = None
    finish_reason: str | None = Field(description="stop, length, cancelled, time_limit; null in a stream's middle.")


class TextCompletionChunk(Body):
    """One server-sent event of a streamed /v1/completions."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[TextChoice]


class TextCompletion(TextCompletionChunk):
    """The answer of /v1/completions (an editor completion streams this whole body as its one event)."""

    usage: Usage
    pylot: CompletionMeta


class ToolFunction(Body):
    name: str
    arguments: str = Field(description="The arguments as a JSON text.")


class ToolCall(Body):
    id: str
    type: Literal["function"] = "function"
    function: ToolFunction


class AssistantMessage(Sparse):
    role: Literal["assistant"] = "assistant"
    content: str | None = Field(description="null when the answer is only tool calls.")
    tool_calls: list[ToolCall] | None = None


class ChatChoice(Body):
    index: int = 0
    message: AssistantMessage
    finish_reason: str


class ChatMeta(Body):
    cached: bool
    latency_ms: float


class ChatCompletion(Body):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    pylot: ChatMeta


class ChatDelta(Sparse):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChatChunkChoice(Body):
    index: int = 0
    delta: ChatDelta
    finish_reason: str | None


class ChatCompletionChunk(Body):
    """One server-sent event of a streamed /v1/chat/completions."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChatChunkChoice]


# ---- llama-server: /infill ----------------------------------------------------------------------


class Timings(Sparse):
    """llama-server's `timings`, the keys known for the case: prompt_* for a warm-up, a rate for raw output."""

    prompt_n: int | None = None
    prompt_ms: float | None = None
    predicted_n: int
    predicted_ms: float
    predicted_per_second: float | None = None


class InfillChunk(Body):
    """A piece of text of a streamed /infill."""

    content: str
    stop: Literal[False] = False


class InfillFinal(Body):
    """The answer of /infill, and a stream's last event (its `content` then "")."""

    content: str
    stop: Literal[True] = True
    stop_type: str = Field(description="eos, limit or none, as llama-server names why it stopped.")
    tokens_predicted: int
    tokens_evaluated: int
    timings: Timings


# ---- embeddings and models ----------------------------------------------------------------------


class Embedding(Body):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float]


class EmbeddingUsage(Body):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(Body):
    object: Literal["list"] = "list"
    model: str
    data: list[Embedding]
    usage: EmbeddingUsage


class ModelMeta(Body):
    """What the engine reports; engines add their own keys (a path, the servers behind a balancer)."""

    model_config = ConfigDict(extra="allow")

    n_ctx: int
    fim: bool
    family: str


class ModelCard(Body):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "pylot"
    loaded: bool
    meta: ModelMeta


class ModelList(Body):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# ---- service: status and config -----------------------------------------------------------------


class PromptCacheStatus(Body):
    entries: int
    bytes: int
    max_bytes: int
    restores: int


class ModelStatus(Sparse):
    """Only `loaded` and `error` while no model is loaded; `prompt_cache` for the in-process engine."""

    loaded: bool
    error: str | None
    id: str | None = None
    path: str | None = None
    n_ctx: int | None = None
    fim: bool | None = None
    family: str | None = None
    prompt_cache: PromptCacheStatus | None = None


class MemoryStatus(Body):
    rss_bytes: int
    available_bytes: int
    total_bytes: int


class LatencyStatus(Body):
    p50: float | None
    p95: float | None


class CacheStatus(Body):
    enabled: bool
    entries: int
    hits: int
    misses: int
    hit_rate: float
    typeahead_hits: int


class FeedbackStatus(Body):
    views: int
    accepts: int
    dismisses: int
    acceptance_rate: float


class BackendStatus(Body):
    """One backend; a balancer adds its own figures (state, failures, ...)."""

    model_config = ConfigDict(extra="allow")

    name: str
    url: str | None = Field(description="null for the engine inside the server process.")
    healthy: bool
    latency_ms: float | None
    in_flight: int


class Status(Body):
    model: ModelStatus
    uptime_s: float
    memory: MemoryStatus
    queue_depth: int
    requests_total: int
    requests_per_minute: int
    tokens_per_second: float
    latency_ms: LatencyStatus
    cache: CacheStatus
    feedback: FeedbackStatus
    backends: list[BackendStatus]


class ConfigSections(RootModel[dict[str, dict[str, Any]]]):
    """The configuration, section by section (see /v1/config/schema for each one's keys); secrets masked."""


# The events of each streamed answer: /openapi.json lists them beside the route's text/event-stream.
STREAM_EVENTS: dict[str, tuple[type[BaseModel], ...]] = {
    "/v1/completions": (TextCompletionChunk, TextCompletion),
    "/v1/chat/completions": (ChatCompletionChunk,),
    "/infill": (InfillChunk, InfillFinal),
}
