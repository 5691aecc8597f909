"""Request and response shapes: OpenAI-compatible schemas plus Pylot's own results."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pylot.unicode_text import find_lone_surrogate

FinishReason = Literal["stop", "length", "cancelled", "time_limit"]


@dataclass
class LLMResponse:
    """The result of one generation."""

    text: str
    tokens_used: int
    finish_reason: FinishReason
    prompt_tokens: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Chunk:
    """One streamed piece of a generation; the last one carries finish_reason."""

    text: str
    finish_reason: FinishReason | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class GenerationParams:
    """Sampling and stopping parameters for one request."""

    max_tokens: int = 128
    temperature: float = 0.2
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    time_limit_s: float | None = None

    @property
    def deterministic(self) -> bool:
        return self.temperature <= 0.0 or self.seed is not None

    def with_overrides(self, values: dict[str, Any]) -> GenerationParams:
        """A copy with these fields replaced (an unknown name is a TypeError, as for the constructor)."""
        return replace(self, **values)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def now() -> int:
    return int(time.time())


# ---- OpenAI-compatible request bodies -------------------------------------------------------------


class TextBody(BaseModel):
    """A request body whose strings are all text: a lone surrogate anywhere is refused with its key."""

    @model_validator(mode="before")
    @classmethod
    def _no_lone_surrogates(cls, data: Any) -> Any:
        if (found := find_lone_surrogate(data)) is not None:
            raise ValueError(found.describe())
        return data


class _Request(TextBody):
    # Unknown fields are accepted and ignored, as OpenAI clients send extras (user, logit_bias, ...).
    model_config = ConfigDict(extra="allow")

    model: str | None = Field(default=None, description="Model id; defaults to the loaded model.")
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0)
    min_p: float | None = Field(default=None, ge=0.0, le=1.0)
    repeat_penalty: float | None = Field(default=None, ge=0.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    n: int = Field(default=1, ge=1, le=1, description="Only one choice per request is supported.")


class InfillExtra(BaseModel):
    filename: str = ""
    text: str = ""


class CompletionRequest(_Request):
    prompt: str | list[str] = Field(
        description="The text before the cursor; a list may hold one prompt (one prompt per request).",
        json_schema_extra={
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 1, "minItems": 1}]
        },
    )
    max_tokens: int | None = Field(
        default=None, ge=0, le=32768, description="0: a warm-up, the prompt goes into the cache and no text comes back."
    )
    suffix: str | None = Field(default=None, description="The text after the cursor: asks for fill-in-the-middle.")
    echo: bool = False
    raw: bool = Field(default=False, description="With a suffix: skip the editor pipeline and return raw FIM output.")
    language: str | None = Field(default=None, description="Language id of the file (python, typescript, ...).")
    filename: str | None = Field(default=None, description="Path of the file being edited.")
    extra: list[InfillExtra] = Field(default_factory=list, description="Other files to show the model.")
    mode: Literal["line", "block"] | None = Field(default=None, description="Force a one-line or block suggestion.")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = ""


class ChatCompletionRequest(_Request):
    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[dict[str, Any]] | None = Field(default=None, description="OpenAI function tools the model may call.")
    tool_choice: Any = Field(default=None, description="Accepted for compatibility; the model chooses.")
    pylot_tools: bool = Field(
        default=False, description="Also offer Pylot's code tools (their calls are run with POST /v1/tools/{name})."
    )


_NON_EMPTY_TEXTS: dict[str, Any] = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}


class EmbeddingRequest(TextBody):
    model_config = ConfigDict(extra="allow")

    model: str | None = None
    input: str | list[str] = Field(
        description="A text, or a list of texts; empty texts have nothing to embed and are refused.",
        json_schema_extra={"anyOf": [{"type": "string", "minLength": 1}, _NON_EMPTY_TEXTS]},
    )
    encoding_format: Literal["float"] = "float"

    @field_validator("input")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        texts = [value] if isinstance(value, str) else value
        if not texts:
            raise ValueError("give at least one text to embed")
        for i, text in enumerate(texts):
            if not text:
                raise ValueError(f"text {i} is empty: there is nothing to embed")
        return value


class InfillRequest(TextBody):
    """llama-server's /infill body, so clients written for llama-server work unchanged."""

    model_config = ConfigDict(extra="allow")

    input_prefix: str = ""
    input_suffix: str = ""
    input_extra: list[InfillExtra] = Field(default_factory=list)
    prompt: str = ""
    n_predict: int | None = Field(default=None, ge=-1, le=32768)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0)
    min_p: float | None = Field(default=None, ge=0.0, le=1.0)
    stop: list[str] = Field(default_factory=list)
    stream: bool = False
    seed: int | None = None
    t_max_predict_ms: int | None = Field(default=None, ge=0)
    cache_prompt: bool = True
    raw: bool = Field(default=False, description="Skip the editor pipeline: llama-server's raw behaviour.")
