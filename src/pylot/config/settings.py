"""Pylot's settings: one pydantic class per concern, every field described.

The YAML/TOML file is read in exactly one place (config_manager.load_file); environment variables
`PYLOT_<SECTION>__<KEY>` override it. Unknown keys are errors, never silently ignored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from pylot.config.backend_policy import check_url
from pylot.errors import ConfigError
from pylot.types import GenerationParams

_SAMPLING = GenerationParams()  # the defaults live on GenerationParams; the settings take them from there


def default_home() -> Path:
    """Where Pylot keeps models, databases and builds: ~/.cache/pylot (or $PYLOT_HOME)."""
    env = os.environ.get("PYLOT_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "pylot"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ServerSettings(_Section):
    host: str = Field(default="127.0.0.1", description="Address to bind. 127.0.0.1 keeps the server private.")
    port: int = Field(default=8080, ge=1, le=65535, description="TCP port to listen on.")
    api_keys: list[SecretStr] = Field(
        default_factory=list,
        description="If non-empty, every request must carry one of these keys (Bearer or X-Api-Key).",
    )
    max_request_bytes: int = Field(
        default=2_000_000, ge=1024, description="Largest request body accepted; larger ones get 413."
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (besides same-origin).",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names, besides localhost and IP addresses, that requests may name in their Host "
        "header (a name a web page could point at this machine is refused); ['*'] allows any.",
    )


class ModelSettings(_Section):
    model: str = Field(
        default="qwen2.5-coder-0.5b",
        description="Catalog id of a model in the store, or a path to a .gguf file.",
    )
    store_dir: Path | None = Field(default=None, description="Model store directory; default <PYLOT_HOME>/models.")
    n_ctx: int = Field(default=4096, ge=256, le=131072, description="Context window in tokens.")
    n_threads: int | None = Field(
        default=None,
        ge=1,
        description="CPU threads for generation; default: the physical cores not busy with other programs "
        "when the model loads (pylot doctor shows how many).",
    )
    n_threads_batch: int | None = Field(
        default=None, ge=1, description="CPU threads for prompt processing; default: same as n_threads."
    )
    n_batch: int = Field(default=512, ge=8, description="Prompt tokens evaluated per batch.")
    use_mmap: bool = Field(default=True, description="Map the model file instead of reading it into RAM.")
    use_mlock: bool = Field(default=False, description="Lock the model in RAM so the OS never swaps it out.")
    n_gpu_layers: int = Field(
        default=0,
        ge=-1,
        description="Layers offloaded to the GPU (-1: all). Needs a CUDA, ROCm or Metal build of llama-cpp-python.",
    )
    flash_attn: bool = Field(default=False, description="Use flash attention where the build supports it.")
    prompt_cache_mb: int = Field(
        default=256,
        ge=0,
        description="Host memory for KV states of earlier prompts, restored when a prompt comes back "
        "(llama-server's --cache-ram); 0: off.",
    )
    memory_check: Literal["shrink", "refuse", "off"] = Field(
        default="shrink",
        description="Before loading: shrink the context to fit free memory, refuse with a message, or skip.",
    )


class ExternalServer(_Section):
    name: str = Field(default="", description="A label for logs and the console; default: the URL.")
    url: str = Field(description="Base URL of a llama.cpp llama-server or OpenAI-compatible server.")
    api_key: SecretStr | None = Field(default=None, description="Sent as 'Authorization: Bearer KEY'.")


class BackendSettings(_Section):
    kind: Literal["embedded", "external"] = Field(
        default="embedded",
        description="embedded: the model runs in this process; external: requests go to the servers below.",
    )
    external_url: str | None = Field(
        default=None, description="Shorthand for one external server (what the VS Code setting sets)."
    )
    servers: list[ExternalServer] = Field(
        default_factory=list, description="External servers; requests are balanced across the healthy ones."
    )
    connect_timeout_s: float = Field(default=3.0, gt=0, description="Seconds to wait for a TCP/TLS connection.")
    read_timeout_s: float = Field(default=60.0, gt=0, description="Seconds to wait between bytes of an answer.")
    total_timeout_s: float = Field(default=300.0, gt=0, description="Most seconds one request may take in all.")
    retries: int = Field(default=2, ge=0, le=10, description="Retries on another server when nothing was streamed yet.")
    health_interval_s: float = Field(default=5.0, gt=0, description="Seconds between health checks.")
    circuit_failures: int = Field(
        default=3, ge=1, description="Consecutive failures that take a server out of rotation."
    )
    circuit_reset_s: float = Field(
        default=10.0, gt=0, description="Seconds before a failed server is probed again (half-open)."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts code may be sent to besides this machine; empty: loopback only.",
    )
    allow_insecure_http: bool = Field(
        default=False, description="Allow plain http:// to hosts other than loopback (code travels unencrypted)."
    )
    verify_tls: bool = Field(default=True, description="Verify TLS certificates of https:// servers.")
    ca_bundle: Path | None = Field(default=None, description="A CA bundle for servers with a private CA.")

    @model_validator(mode="after")
    def _allowed_by_policy(self) -> BackendSettings:
        """Sending code to another machine is an explicit choice: refuse URLs the policy does not allow."""
        for url in [self.external_url, *(s.url for s in self.servers)]:
            if url:
                try:
                    check_url(url, self.allowed_hosts, self.allow_insecure_http)
                except ConfigError as exc:
                    raise ValueError(str(exc)) from None
        return self


class GenerationSettings(_Section):
    max_tokens: int = Field(
        default=_SAMPLING.max_tokens, ge=1, le=32768, description="Default number of tokens to generate."
    )
    temperature: float = Field(
        default=_SAMPLING.temperature, ge=0.0, le=2.0, description="Sampling temperature; 0 is greedy."
    )
    top_p: float = Field(default=_SAMPLING.top_p, gt=0.0, le=1.0, description="Nucleus sampling probability mass.")
    top_k: int = Field(default=_SAMPLING.top_k, ge=0, description="Sample from the k most likely tokens (0: all).")
    min_p: float = Field(
        default=_SAMPLING.min_p, ge=0.0, le=1.0, description="Drop tokens less likely than min_p * best."
    )
    repeat_penalty: float = Field(
        default=_SAMPLING.repeat_penalty, ge=0.0, description="Penalty for repeated tokens (1.0: none)."
    )
    stop: list[str] = Field(default_factory=list, description="Extra stop sequences for every request.")
    time_limit_s: float | None = Field(
        default=_SAMPLING.time_limit_s,
        gt=0,
        description="Stop generating after this many seconds (keeps the text so far).",
    )

    def params(self, **overrides: Any) -> GenerationParams:
        """The one place where configured defaults and a request's own values become generation parameters:
        every value given (not None) replaces the default, and a request's `stop` adds to the configured
        ones. The server, the CLI and the tools all call this."""
        given = {k: v for k, v in overrides.items() if v is not None}
        stop = [*self.stop]
        if "stop" in given:
            extra = given.pop("stop")
            stop += [extra] if isinstance(extra, str) else list(extra)
        return GenerationParams(
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            min_p=self.min_p,
            repeat_penalty=self.repeat_penalty,
            stop=stop,
            time_limit_s=self.time_limit_s,
        ).with_overrides(given)


class CompletionSettings(_Section):
    prefix_lines: int = Field(default=192, ge=1, description="Most lines before the cursor the model sees.")
    prefix_tokens: int = Field(
        default=2048, ge=16, description="Most tokens before the cursor the model sees (the model's own tokenizer)."
    )
    # 24 lines: HumanEval single-line pass@1 0.53 with the 0.5B model, against 0.42 with 8 lines (measured).
    suffix_lines: int = Field(
        default=24, ge=0, description="Lines after the cursor the model sees; fewer is faster per keystroke."
    )
    suffix_tokens: int = Field(default=512, ge=0, description="Most tokens after the cursor the model sees.")
    extra_tokens: int = Field(
        default=1024,
        ge=0,
        description="Most tokens of extra context (other open files, retrieved code) before the prefix; "
        "snippets past the budget are cut or left out, the first ones kept.",
    )
    stable_line: bool = Field(
        default=True,
        description="Give the model the cursor's line, as typed so far, after the middle token: prefix and "
        "suffix then stay the same while the user types on one line, and only the typed text is new to the cache "
        "(engines that heal a partial last token only: the built-in one).",
    )
    multiline: bool = Field(
        default=True, description="Suggest a block on an empty line or at the end of a line that opens one."
    )
    line_max_tokens: int = Field(default=64, ge=1, description="Most tokens for a one-line suggestion.")
    block_max_tokens: int = Field(default=192, ge=1, description="Most tokens for a block suggestion.")
    block_max_lines: int = Field(default=16, ge=1, description="Most lines in a block suggestion.")
    time_limit_s: float = Field(
        default=3.0, gt=0, description="Stop generating after this long and keep the lines finished so far."
    )
    parse_candidates: int = Field(
        default=2,
        ge=0,
        le=8,
        description="Python: extra candidates tried when the first suggestion makes the file stop parsing.",
    )
    typeahead_entries: int = Field(
        default=128, ge=0, description="Recent suggestions kept to answer at once while the user types into them."
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, new in (("prefix_chars", "prefix_tokens"), ("suffix_chars", "suffix_tokens")):
                if old in data:
                    raise ValueError(f"completion.{old} is now completion.{new}, a budget in tokens")
        return data


class CacheSettings(_Section):
    enabled: bool = Field(default=True, description="Cache results of deterministic requests.")
    max_entries: int = Field(default=512, ge=1, description="Most results kept (least recently used go first).")
    ttl_s: float = Field(default=600.0, gt=0, description="Seconds a cached result stays valid.")


class ToolsSettings(_Section):
    workspace: Path | None = Field(
        default=None, description="Root the code tools work in; nothing outside it is read or written. Default: cwd."
    )
    read_only: bool = Field(default=False, description="Refuse every write (refactors, inserted docstrings).")
    writable: list[str] = Field(
        default_factory=lambda: ["**"], description="Globs, relative to the workspace, of files tools may write."
    )
    allow_hard_links: bool = Field(
        default=False,
        description="Read files with more than one hard link; such a file may be the same file as one outside "
        "the workspace.",
    )


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level. Prompts and code appear only at DEBUG."
    )
    file: Path | None = Field(default=None, description="Also write logs to this file.")

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v


class Settings(_Section):
    """All of Pylot's settings, one section per concern."""

    server: ServerSettings = Field(default_factory=ServerSettings, description="HTTP server.")
    model: ModelSettings = Field(default_factory=ModelSettings, description="The embedded llama.cpp engine.")
    backend: BackendSettings = Field(
        default_factory=BackendSettings, description="Where generations run: this process or external servers."
    )
    generation: GenerationSettings = Field(
        default_factory=GenerationSettings, description="Defaults for every generation request."
    )
    completion: CompletionSettings = Field(
        default_factory=CompletionSettings, description="Editor completions: context windows, stops, latency."
    )
    cache: CacheSettings = Field(default_factory=CacheSettings, description="Result cache.")
    tools: ToolsSettings = Field(default_factory=ToolsSettings, description="The code tools and their permissions.")
    logging: LoggingSettings = Field(default_factory=LoggingSettings, description="Logging.")

    def home(self) -> Path:
        return default_home()

    def store_dir(self) -> Path:
        return self.model.store_dir or default_home() / "models"

    def data_dir(self) -> Path:
        """Databases (feedback, memory): $PYLOT_DATA_DIR or <PYLOT_HOME>/data."""
        env = os.environ.get("PYLOT_DATA_DIR")
        return Path(env).expanduser() if env else default_home() / "data"


# Settings that take effect without a restart; the others apply at the next start.
LIVE_SECTIONS = frozenset({"generation", "completion", "cache", "logging", "model", "backend"})
