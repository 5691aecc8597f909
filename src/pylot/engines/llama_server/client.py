"""ExternalLlamaAPIClient: a llama.cpp `llama-server`, or any OpenAI-compatible server, over HTTP.

At first use the client asks `GET /props`: a llama-server answers it, and then the native endpoints
serve requests (`/completion`, `/infill` with `input_extra`, `/tokenize`); any other server gets the
OpenAI ones (`/v1/completions`, fill-in-the-middle through its `suffix`). Chat and embeddings use
`/v1/chat/completions` and `/v1/embeddings` on both.

The parts: transport.py (the connection pool, requests, retries, health), streaming.py (SSE
generations with cancel), wire.py (request bodies and answers of both APIs), sse_decode.py.

Every generation streams (SSE), so a closed iterator or a set CancelToken closes the connection, and
llama-server stops generating. Failures become the project's exceptions:

    connection refused, DNS, connection lost   BackendUnavailableError (also 503 and 429)
    connect / read / total timeout             BackendTimeoutError
    401, 403                                   BackendAuthError
    400, 413, 422                              RequestError (ContextLengthError for context overflow)
    501 (e.g. infill on a model without FIM)   CapabilityError
    other 4xx and 5xx, garbage bodies          BackendResponseError

Retries, with exponential backoff, happen only while nothing has been streamed to the caller, and
only for connection errors, 502 and 503. The sync httpx.Client is shared by the server's worker
threads (httpx's connection pool is thread-safe).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from pylot.config.settings import BackendSettings, ExternalServer
from pylot.engines.interface import CancelToken, Capabilities, LLMInterface, Snippet, generation_params
from pylot.engines.llama_server.transport import Health, Transport
from pylot.engines.llama_server.wire import as_int, native_body, read_native, read_openai
from pylot.errors import BackendResponseError, CapabilityError, RequestError
from pylot.types import Chunk, GenerationParams, LLMResponse

log = logging.getLogger(__name__)

Dialect = Literal["llama", "openai"]


def _model_stem(path_or_name: str) -> str:
    name = re.split(r"[\\/]", path_or_name)[-1]
    return name[: -len(".gguf")] if name.lower().endswith(".gguf") else name


# ---- the client ----------------------------------------------------------------------------------


class ExternalLlamaAPIClient(LLMInterface):
    """One remote server: `ExternalLlamaAPIClient(api_url, api_key=None, timeout=30)`; the rest has safe
    defaults.

    The HTTP work runs on a private event loop; the blocking methods wait for it, and a stream's
    consumer checks its CancelToken every 50 ms even while no byte arrives, so a cancelled request
    is dropped at once, also while the server is still reading the prompt. `generate` is awaitable
    in a coroutine (see there).
    """

    def __init__(
        self,
        api_url: str | None = None,
        api_key: str | SecretStr | None = None,
        timeout: float = 30.0,
        *,
        dialect: Literal["auto", "llama", "openai"] = "auto",
        **connection: Any,
    ) -> None:
        """`api_url`: the server's base URL (a trailing /v1 is dropped), or give `host` and `port`.
        `api_key`: sent as `Authorization: Bearer KEY`. `timeout`: seconds to wait for the server's next
        bytes (Transport's `read_timeout_s`, which wins when given); a whole request may take
        `total_timeout_s` (300). `dialect`: "llama" or "openai" skips asking the server which it speaks.
        `connection` is the rest of Transport's: name, connect_timeout_s, read_timeout_s,
        total_timeout_s, retries, backoff_s, verify_tls, ca_bundle, transport (an httpx transport, for
        tests)."""
        connection.setdefault("read_timeout_s", timeout)
        self.transport = Transport(api_url, api_key=api_key, **connection)
        self.url = self.transport.url
        self.name = self.transport.name
        self._lock = threading.Lock()
        self._dialect: Dialect | None = None if dialect == "auto" else dialect
        self._caps: Capabilities | None = None

    @classmethod
    def from_settings(
        cls,
        server: ExternalServer,
        backend: BackendSettings,
        *,
        retries: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> ExternalLlamaAPIClient:
        """A client for one configured server (BackendSettings checked its URL against the policy)."""
        return cls(
            server.url,
            api_key=server.api_key,
            name=server.name,
            connect_timeout_s=backend.connect_timeout_s,
            read_timeout_s=backend.read_timeout_s,
            total_timeout_s=backend.total_timeout_s,
            retries=backend.retries if retries is None else retries,
            verify_tls=backend.verify_tls,
            ca_bundle=backend.ca_bundle,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"ExternalLlamaAPIClient({self.name!r})"

    @property
    def retries(self) -> int:
        """Tries after the first while nothing was streamed (0 under a balancer of several servers)."""
        return self.transport.retries

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        return self.transport.json(method, path, body)

    def _send(self, method: str, path: str, body: Any = None) -> Any:
        return self.transport.send(method, path, body)

    def health(self, timeout_s: float | None = None) -> Health:
        """GET /health (llama-server), or /v1/models for servers without it. Never raises."""
        return self.transport.health(timeout_s)

    # ---- plain requests ----------------------------------------------------------------------------

    def props(self) -> dict[str, Any]:
        """llama-server's /props: the model, context size, slots, chat template."""
        data = self._json("GET", "/props")
        return data if isinstance(data, dict) else {}

    def slots(self) -> list[dict[str, Any]]:
        """llama-server's /slots: what every slot is doing."""
        data = self._json("GET", "/slots")
        return data if isinstance(data, list) else []

    def models(self) -> list[dict[str, Any]]:
        data = self._json("GET", "/v1/models")
        items = data.get("data") if isinstance(data, dict) else None
        return [m for m in items if isinstance(m, dict)] if isinstance(items, list) else []

    # ---- what the server is ------------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        """'llama' when the server answers llama-server's /props, 'openai' otherwise; asked once."""
        with self._lock:
            if self._dialect is None:
                self._dialect = self._detect()
            return self._dialect

    def _detect(self) -> Dialect:
        try:
            props = self.props()
        except BackendResponseError as exc:
            if exc.status_code is None or exc.status_code >= 500:
                raise  # a broken server (or a proxy in front of one) says nothing about the API
            return "openai"
        except RequestError:
            return "openai"
        is_llama = any(k in props for k in ("default_generation_settings", "build_info", "total_slots"))
        log.info("%s speaks the %s API", self.name, "llama-server" if is_llama else "OpenAI")
        return "llama" if is_llama else "openai"

    def refresh(self) -> None:
        """Forget what was learned about the server (after it restarted, maybe with another model)."""
        with self._lock:
            self._dialect = None
            self._caps = None

    @property
    def known_capabilities(self) -> Capabilities | None:
        """What capabilities() returned last, without asking the server."""
        return self._caps

    def capabilities(self) -> Capabilities:
        caps = self._caps
        if caps is not None:
            return caps
        dialect = self.dialect
        caps = self._llama_capabilities() if dialect == "llama" else self._openai_capabilities()
        self._caps = caps
        return caps

    def _llama_capabilities(self) -> Capabilities:
        props = self.props()
        defaults = props.get("default_generation_settings")
        n_ctx = as_int(defaults.get("n_ctx") if isinstance(defaults, dict) else None, as_int(props.get("n_ctx"), 0))
        path = str(props.get("model_path") or "")
        model_id = _model_stem(str(props.get("model_alias") or path or "llama-server"))
        return Capabilities(
            model_id=model_id,
            n_ctx=n_ctx,
            fim=self._probe_fim(),
            chat=bool(props.get("chat_template")),
            embeddings=True,
            extra={
                "backend": "llama-server",
                "url": self.url,
                "path": path,
                "total_slots": props.get("total_slots"),
                "build": props.get("build_info"),
            },
        )

    def _probe_fim(self) -> bool:
        # llama-server checks the model's FIM tokens before it reads the body: a body it must reject
        # (a non-string prompt) answers 400 when the model has them and 501 when it has not, and no
        # generation ever starts.
        try:
            self._send("POST", "/infill", {"prompt": 0, "input_prefix": "", "input_suffix": "", "n_predict": 0})
        except RequestError as exc:
            return not isinstance(exc, CapabilityError)
        except BackendResponseError:
            return False  # a server too old to have /infill
        return True

    def _openai_capabilities(self) -> Capabilities:
        models = self.models()
        first = models[0] if models else {}
        meta_raw = first.get("meta")
        meta: dict[str, Any] = meta_raw if isinstance(meta_raw, dict) else {}
        n_ctx = 0
        for value in (first.get("max_model_len"), first.get("context_length"), meta.get("n_ctx")):
            n_ctx = as_int(value, 0)
            if n_ctx:
                break
        return Capabilities(
            model_id=str(first.get("id") or "remote"),
            n_ctx=n_ctx or 4096,
            fim=True,  # OpenAI's completions take a `suffix`; a server without FIM says so per request
            chat=True,
            embeddings=True,
            extra={"backend": "openai", "url": self.url, "n_ctx_known": bool(n_ctx)},
        )

    # ---- generation --------------------------------------------------------------------------------

    def generate(
        self, prompt: str, params: GenerationParams | None = None, cancel: CancelToken | None = None, **overrides: Any
    ) -> Any:
        """Continue `prompt`: an LLMResponse; `params` and keywords as for LLMInterface.generate.

        Called in a coroutine (an event loop runs in this thread) it returns an awaitable instead, so
        `await client.generate(prompt, max_tokens=64)` works as the specification writes it, and a
        generation never blocks the loop. That form is the blocking one run in a worker thread
        (asyncio.to_thread): the same request, retries and errors. The request goes to
        `/v1/completions` on an OpenAI-compatible server (or with `dialect="openai"`), to the native
        `/completion` on a llama-server, with the API key as a Bearer token. Cancelling the awaiting
        task cancels the generation.
        """
        chosen = generation_params(params, **overrides)  # a bad keyword fails here, not when awaited
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return super().generate(prompt, chosen, cancel)
        return self._generate_async(prompt, chosen, cancel or CancelToken())

    async def _generate_async(self, prompt: str, params: GenerationParams, cancel: CancelToken) -> LLMResponse:
        try:
            return await asyncio.to_thread(LLMInterface.generate, self, prompt, params, cancel)
        except asyncio.CancelledError:
            cancel.cancel("the awaiting task was cancelled")
            raise

    def stream(self, prompt: str, params: GenerationParams, cancel: CancelToken | None = None) -> Iterator[Chunk]:
        if self.dialect == "llama":
            body: dict[str, Any] = {"prompt": prompt, **native_body(params)}
            if params.max_tokens == 0:
                return self._warm("/completion", body, params, cancel)
            return self.transport.stream("/completion", body, read_native, params, cancel)
        if params.max_tokens == 0:
            return iter([Chunk("", "length")])  # OpenAI servers take no prompt-only request
        body = {"prompt": prompt, **self._openai(params)}
        return self.transport.stream("/v1/completions", body, read_openai, params, cancel)

    def stream_infill(
        self,
        prefix: str,
        suffix: str,
        params: GenerationParams,
        extra: Sequence[Snippet] = (),
        cancel: CancelToken | None = None,
        *,
        middle: str = "",
    ) -> Iterator[Chunk]:
        if self.dialect == "llama":
            body = {
                "input_prefix": prefix,
                "input_suffix": suffix,
                "input_extra": [{"filename": s.filename, "text": s.text} for s in extra],
                "prompt": middle,
                **native_body(params),
            }
            if params.max_tokens == 0:
                return self._warm("/infill", body, params, cancel)
            return self.transport.stream("/infill", body, read_native, params, cancel)
        if params.max_tokens == 0:
            return iter([Chunk("", "length")])
        # The OpenAI shape has no place for other files; the prefix and suffix carry the request.
        body = {"prompt": prefix + middle, "suffix": suffix, **self._openai(params)}
        return self.transport.stream("/v1/completions", body, read_openai, params, cancel)

    def stream_chat(
        self,
        messages: Sequence[dict[str, Any]],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        *,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> Iterator[Chunk]:
        body: dict[str, Any] = {"messages": list(messages), **self._openai(params)}
        if tools:
            body["tools"] = list(tools)
        if self.dialect == "llama":
            body.update(top_k=params.top_k, min_p=params.min_p, repeat_penalty=params.repeat_penalty)
        return self.transport.stream("/v1/chat/completions", body, read_openai, params, cancel)

    def _warm(
        self, path: str, body: dict[str, Any], params: GenerationParams, cancel: CancelToken | None
    ) -> Iterator[Chunk]:
        """A warm-up: llama-server evaluates the prompt into its slot for `n_predict: 0` (some builds sample
        one token all the same); whatever text comes back is dropped, as the caller asked for none."""
        last = Chunk("", "length")
        for chunk in self.transport.stream(path, body, read_native, params, cancel):
            last = chunk
        yield Chunk("", "cancelled" if last.finish_reason == "cancelled" else "length", last.prompt_tokens, 0)

    def _openai(self, params: GenerationParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.dialect == "openai":
            body["model"] = self.capabilities().model_id
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        return body

    # ---- embeddings and tokens -------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        body: dict[str, Any] = {"input": list(texts)}
        if self.dialect == "openai":
            body["model"] = self.capabilities().model_id
        data = self._json("POST", "/v1/embeddings", body)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) != len(texts):
            raise BackendResponseError(f"{self.name}/v1/embeddings: expected {len(texts)} embeddings")
        ordered = sorted(items, key=lambda item: as_int(item.get("index"), 0) if isinstance(item, dict) else 0)
        try:
            return [[float(x) for x in item["embedding"]] for item in ordered]
        except (KeyError, TypeError, ValueError):
            raise BackendResponseError(f"{self.name}/v1/embeddings: an embedding is not a list of numbers") from None

    def tokenize(self, text: str) -> list[int]:
        """Token ids without special tokens, as the embedded engine counts them (llama-server's /tokenize)."""
        if self.dialect == "llama":
            body: dict[str, Any] = {"content": text, "add_special": False, "parse_special": False}
        else:  # vLLM and others have a /tokenize of their own
            body = {"model": self.capabilities().model_id, "prompt": text, "add_special_tokens": False}
        try:
            data = self._json("POST", "/tokenize", body)
        except BackendResponseError as exc:
            if exc.status_code in (404, 405):
                raise CapabilityError(f"{self.name} cannot tokenize (no /tokenize endpoint)") from exc
            raise
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list):
            raise BackendResponseError(f"{self.name}/tokenize: no token list in the answer")
        return [t if isinstance(t, int) else as_int(t.get("id"), -1) for t in tokens]

    def close(self) -> None:
        self.transport.close()
