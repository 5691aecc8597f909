"""ExternalLlamaAPIClient: a llama.cpp `llama-server`, or any OpenAI-compatible server, over HTTP.

At first use the client asks `GET /props`: a llama-server answers it, and then the native endpoints
serve requests (`/completion`, `/infill` with `input_extra`, `/tokenize`); any other server gets the
OpenAI ones (`/v1/completions`, fill-in-the-middle through its `suffix`). Chat and embeddings use
`/v1/chat/completions` and `/v1/embeddings` on both.

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
import json
import logging
import queue
import re
import ssl
import threading
import time
import weakref
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from pydantic import SecretStr

from pylot import __version__
from pylot.config.settings import BackendSettings, ExternalServer
from pylot.core.backend_policy import check_url, redact_url
from pylot.core.external_wire import (
    Progress,
    Reader,
    as_int,
    native_body,
    read_native,
    read_openai,
    retriable,
    retry_after,
    server_message,
    status_error,
    transport_error,
)
from pylot.core.llm_interface import CancelToken, Capabilities, LLMInterface, Snippet
from pylot.core.loop_thread import LoopThread, release_on_drop
from pylot.core.sse import SSEDecoder
from pylot.errors import (
    BackendResponseError,
    BackendTimeoutError,
    BackendUnavailableError,
    CapabilityError,
    ConfigError,
    PylotError,
    RequestError,
)
from pylot.types import Chunk, FinishReason, GenerationParams

log = logging.getLogger(__name__)

Dialect = Literal["llama", "openai"]

T = TypeVar("T")
_POLL_S = 0.05  # how often a waiting stream looks at its cancel token


@dataclass(frozen=True)
class Health:
    """One health check: ok means ready to generate (a server still loading its model is not)."""

    ok: bool
    detail: str
    latency_ms: float


def _model_stem(path_or_name: str) -> str:
    name = re.split(r"[\\/]", path_or_name)[-1]
    return name[: -len(".gguf")] if name.lower().endswith(".gguf") else name


# ---- the client ----------------------------------------------------------------------------------


class ExternalLlamaAPIClient(LLMInterface):
    """One remote server. Give `base_url` (or `host` and `port`); the rest has safe defaults.

    The HTTP work runs on a private event loop; the blocking methods wait for it, and a stream's
    consumer checks its CancelToken every 50 ms even while no byte arrives, so a cancelled request
    is dropped at once, also while the server is still reading the prompt.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        api_key: str | SecretStr | None = None,
        name: str = "",
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 60.0,
        total_timeout_s: float = 300.0,
        retries: int = 2,
        backoff_s: float = 0.1,
        verify_tls: bool = True,
        ca_bundle: Path | None = None,
        dialect: Literal["auto", "llama", "openai"] = "auto",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if base_url is None:
            if host is None or port is None:
                raise ConfigError("an external server needs a base URL, or a host and a port", key="backend.servers")
            base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        # OpenAI base URLs conventionally end in /v1; the paths below add it themselves.
        url = base_url.rstrip("/").removesuffix("/v1")
        parts = httpx.URL(url)
        # user:password in the URL becomes basic auth, and leaves the URL that logs show.
        auth = httpx.BasicAuth(parts.username, parts.password) if parts.username else None
        self.url = redact_url(url)
        self.name = name or self.url
        self.retries = retries
        self.backoff_s = backoff_s
        self.total_timeout_s = total_timeout_s
        self.connect_timeout_s = connect_timeout_s
        read = min(read_timeout_s, total_timeout_s)
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        headers = {"User-Agent": f"gc-forged-pylot/{__version__}"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(connect=connect_timeout_s, read=read, write=read, pool=connect_timeout_s),
            verify=_tls_context(verify_tls, ca_bundle),
            transport=transport,
            # Proxies from the environment would be one more machine that sees the code.
            trust_env=False,
            follow_redirects=False,
        )
        self._loop = LoopThread(self.name)
        self._finalizer = weakref.finalize(self, release_on_drop, self._loop, self._http)
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
        """A client for one configured server, after the policy allowed its URL."""
        check_url(server.url, backend)
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

    def _wait(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.submit(coro).result(timeout=self.total_timeout_s + 10)

    # ---- plain requests ----------------------------------------------------------------------------

    async def _request(self, method: str, path: str, body: Any = None, timeout: float | None = None) -> httpx.Response:
        try:
            response = await self._http.request(
                method, path, json=body, timeout=httpx.Timeout(timeout) if timeout else httpx.USE_CLIENT_DEFAULT
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.name) from exc
        if response.status_code >= 400:
            message, type_ = server_message(response.content)
            raise status_error(
                response.status_code, message, self.name, error_type=type_, retry_after=retry_after(response)
            )
        return response

    def _send(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """One request, retried while that is safe; error statuses are raised as Pylot errors."""
        attempt = 0
        deadline = time.monotonic() + self.total_timeout_s
        while True:
            try:
                return self._wait(self._request(method, path, body))
            except PylotError as exc:
                if not self._backoff(exc, attempt, deadline, None):
                    raise
                attempt += 1

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        response = self._send(method, path, body)
        try:
            return response.json()
        except ValueError:
            raise BackendResponseError(
                f"{self.name}{path} answered {response.status_code} with a body that is not JSON",
                status_code=response.status_code,
            ) from None

    def _backoff(self, exc: Exception, attempt: int, deadline: float, cancel: CancelToken | None) -> bool:
        """Sleep before another try if one is allowed; False if the error should be raised."""
        if attempt >= self.retries or not retriable(exc) or (cancel is not None and cancel.cancelled):
            return False
        delay = min(self.backoff_s * 2**attempt, 2.0)
        hinted = getattr(exc, "retry_after", None)
        if isinstance(hinted, (int, float)):
            delay = max(delay, min(float(hinted), 2.0))
        if time.monotonic() + delay >= deadline:
            return False
        log.warning("%s: %s; trying again in %.2f s (%d/%d)", self.name, exc, delay, attempt + 1, self.retries)
        time.sleep(delay)
        return True

    def health(self, timeout_s: float | None = None) -> Health:
        """GET /health (llama-server), or /v1/models for servers without it. Never raises."""
        return self._wait(self._health(timeout_s or max(self.connect_timeout_s, 2.0)))

    async def _health(self, timeout_s: float) -> Health:
        started = time.monotonic()
        try:
            response = await self._http.get("/health", timeout=timeout_s)
            if response.status_code == 404:
                response = await self._http.get("/v1/models", timeout=timeout_s)
        except httpx.HTTPError as exc:
            return Health(False, str(transport_error(exc, self.name)), (time.monotonic() - started) * 1000)
        elapsed = (time.monotonic() - started) * 1000
        if response.status_code < 300:
            return Health(True, "ok", elapsed)
        message, _ = server_message(response.content)
        return Health(False, f"{response.status_code}: {message}", elapsed)

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

    def stream(self, prompt: str, params: GenerationParams, cancel: CancelToken | None = None) -> Iterator[Chunk]:
        if self.dialect == "llama":
            body: dict[str, Any] = {"prompt": prompt, **native_body(params)}
            if params.max_tokens == 0:
                return self._warm("/completion", body, params, cancel)
            return self._stream("/completion", body, read_native, params, cancel)
        if params.max_tokens == 0:
            return iter([Chunk("", "length")])  # OpenAI servers take no prompt-only request
        body = {"prompt": prompt, **self._openai(params)}
        return self._stream("/v1/completions", body, read_openai, params, cancel)

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
            return self._stream("/infill", body, read_native, params, cancel)
        if params.max_tokens == 0:
            return iter([Chunk("", "length")])
        # The OpenAI shape has no place for other files; the prefix and suffix carry the request.
        body = {"prompt": prefix + middle, "suffix": suffix, **self._openai(params)}
        return self._stream("/v1/completions", body, read_openai, params, cancel)

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
        return self._stream("/v1/chat/completions", body, read_openai, params, cancel)

    def _warm(
        self, path: str, body: dict[str, Any], params: GenerationParams, cancel: CancelToken | None
    ) -> Iterator[Chunk]:
        """A warm-up: llama-server evaluates the prompt into its slot for `n_predict: 0` (some builds sample
        one token all the same); whatever text comes back is dropped, as the caller asked for none."""
        last = Chunk("", "length")
        for chunk in self._stream(path, body, read_native, params, cancel):
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

    def _stream(
        self,
        path: str,
        body: dict[str, Any],
        reader: Reader,
        params: GenerationParams,
        cancel: CancelToken | None,
    ) -> Iterator[Chunk]:
        """Chunks of one streamed generation, retried while nothing has been yielded."""
        deadline = time.monotonic() + self.total_timeout_s
        attempt = 0
        while True:
            yielded = False
            try:
                for chunk in self._stream_once(path, body, reader, params, cancel, deadline):
                    yielded = True
                    yield chunk
                return
            except PylotError as exc:
                if yielded or not self._backoff(exc, attempt, deadline, cancel):
                    raise
                attempt += 1

    def _stream_once(
        self,
        path: str,
        body: dict[str, Any],
        reader: Reader,
        params: GenerationParams,
        cancel: CancelToken | None,
        deadline: float,
    ) -> Iterator[Chunk]:
        """The blocking side: chunks from the loop's producer, with cancel and time limit checked meanwhile."""
        if cancel is not None and cancel.cancelled:
            yield Chunk("", "cancelled")
            return
        started = time.monotonic()
        out: queue.SimpleQueue[Chunk | BaseException | None] = queue.SimpleQueue()
        future = self._loop.submit(self._produce(path, body, reader, out, deadline))
        last = Chunk("", None)
        receiving = False
        try:
            while True:
                try:
                    item = out.get(timeout=_POLL_S)
                except queue.Empty:
                    item = last  # nothing new: only look at the cancel token and the clock
                else:
                    if item is None:  # the producer ended without a final chunk: the client was closed
                        raise BackendUnavailableError(f"{self.name}: the client was closed during the request")
                    if isinstance(item, BaseException):
                        raise item
                    last, receiving = item, True
                    yield item
                    if item.finish_reason is not None:
                        return
                stopped = _stopped(cancel, params, started, receiving)
                if stopped is not None:
                    # Cancelling the producer closes the connection: llama-server drops the job.
                    future.cancel()
                    yield Chunk("", stopped, last.prompt_tokens, last.completion_tokens)
                    return
        finally:
            future.cancel()

    async def _produce(
        self,
        path: str,
        body: dict[str, Any],
        reader: Reader,
        out: queue.SimpleQueue[Chunk | BaseException | None],
        deadline: float,
    ) -> None:
        """The loop's side of a stream: every chunk, then None, goes into `out`; errors go there too."""
        try:
            await asyncio.wait_for(self._read_stream(path, body, reader, out), max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            out.put(
                BackendTimeoutError(
                    f"{self.name}: the request took longer than {self.total_timeout_s:g} s (backend.total_timeout_s)"
                )
            )
        except PylotError as exc:
            out.put(exc)
        except httpx.HTTPError as exc:
            out.put(transport_error(exc, self.name))
        except Exception as exc:  # an error must reach the waiting thread, never die in the loop
            out.put(BackendResponseError(f"{self.name}{path}: {type(exc).__name__}: {exc}"))
        finally:
            out.put(None)

    async def _read_stream(
        self, path: str, body: dict[str, Any], reader: Reader, out: queue.SimpleQueue[Chunk | BaseException | None]
    ) -> None:
        p = Progress()
        log.debug("POST %s%s (stream)", self.name, path)
        async with self._http.stream("POST", path, json=body) as response:
            if response.status_code >= 400:
                message, type_ = server_message(await response.aread())
                raise status_error(
                    response.status_code, message, self.name, error_type=type_, retry_after=retry_after(response)
                )
            if "text/event-stream" not in response.headers.get("content-type", ""):
                # A server that ignored `stream: true` answers with one JSON document.
                text = reader(self._whole(await response.aread(), response.status_code, path), p)
                out.put(Chunk(text, p.finish or "stop", p.prompt_tokens, p.completion_tokens))
                return
            decoder = SSEDecoder()
            async for raw in response.aiter_bytes():
                for event in decoder.feed(raw):
                    text = self._event(event.data, reader, p, path)
                    if p.done:
                        out.put(Chunk(text, p.finish or "stop", p.prompt_tokens, p.completion_tokens))
                        return
                    if text:
                        out.put(Chunk(text, None, p.prompt_tokens, p.completion_tokens))
            for event in decoder.flush():
                text = self._event(event.data, reader, p, path)
                if text:
                    out.put(Chunk(text, None, p.prompt_tokens, p.completion_tokens))
            if p.done or p.finish is not None:
                out.put(Chunk("", p.finish or "stop", p.prompt_tokens, p.completion_tokens))
                return
            raise BackendUnavailableError(
                f"{self.name}: the stream ended before the generation finished (after {p.completion_tokens} tokens)"
            )

    def _event(self, data: str, reader: Reader, p: Progress, path: str) -> str:
        if data.strip() == "[DONE]":
            p.done = True
            return ""
        try:
            payload = json.loads(data)
        except ValueError:
            raise BackendResponseError(f"{self.name}{path}: a streamed event is not JSON: {data[:80]!r}") from None
        if not isinstance(payload, dict):
            raise BackendResponseError(f"{self.name}{path}: a streamed event is not a JSON object")
        error = payload.get("error")
        if error is not None:
            message, type_ = server_message(json.dumps(payload).encode())
            code = as_int(error.get("code"), 500) if isinstance(error, dict) else 500
            raise status_error(code, message, self.name, error_type=type_)
        return reader(payload, p)

    def _whole(self, content: bytes, status: int, path: str) -> dict[str, Any]:
        try:
            data = json.loads(content)
        except ValueError:
            raise BackendResponseError(
                f"{self.name}{path} answered with a body that is neither an event stream nor JSON", status_code=status
            ) from None
        if not isinstance(data, dict):
            raise BackendResponseError(f"{self.name}{path} answered with JSON that is not an object")
        return data

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
        self._finalizer.detach()
        self._loop.close(self._http.aclose())


def _stopped(
    cancel: CancelToken | None, params: GenerationParams, started: float, generating: bool
) -> FinishReason | None:
    if cancel is not None and cancel.cancelled:
        return "cancelled"
    # Like the embedded engine, the time limit stops the generation, never the prompt before it.
    if generating and params.time_limit_s is not None and time.monotonic() - started > params.time_limit_s:
        return "time_limit"
    return None


def _tls_context(verify: bool, ca_bundle: Path | None) -> ssl.SSLContext | bool:
    if not verify:
        return False
    if ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot read the CA bundle {ca_bundle}: {exc}", key="backend.ca_bundle") from exc
