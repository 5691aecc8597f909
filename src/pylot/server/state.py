"""Everything one running server holds: config, the engine, the cache, statistics, feedback."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pylot.bridge.tool_manager import ToolManager
from pylot.bridge.vscode import EditorHub
from pylot.completion import CompletionPipeline
from pylot.completion.feedback import FeedbackStore
from pylot.config.config_manager import ConfigManager
from pylot.config.settings import Settings
from pylot.engines.interface import LLMInterface
from pylot.errors import ConfigError, InsufficientMemoryError, ModelError, ModelNotFoundError, PylotError
from pylot.server.result_cache import ModelCache
from pylot.server.stats import Stats
from pylot.types import GenerationParams, LLMResponse

log = logging.getLogger(__name__)

EngineFactory = Callable[[Settings], LLMInterface]
EngineKey = tuple[object, object]  # the settings an engine was built from: (model section, backend section)


def engine_key(settings: Settings) -> EngineKey:
    """What the engine depends on: a change here means loading another engine."""
    return (settings.model, settings.backend)


class ServerState:
    """Shared by every request; the engine can be swapped while the server runs."""

    def __init__(
        self, config: ConfigManager, engine_factory: EngineFactory, engine: LLMInterface | None = None
    ) -> None:
        self.config = config
        self.engine_factory = engine_factory
        self._engine = engine
        self._owns_engine = engine is None  # an engine handed in belongs to the caller
        # What the serving engine was built from; an engine handed in is taken to match the config.
        self._engine_key: EngineKey | None = engine_key(config.settings) if engine is not None else None
        self._engine_lock = threading.Lock()
        self.load_error: str | None = None
        s = config.settings
        self.cache: ModelCache[LLMResponse] = ModelCache(s.cache.max_entries, s.cache.ttl_s)
        self.stats = Stats()
        self.feedback = FeedbackStore(s.data_dir() / "feedback.db")
        self.pipeline = CompletionPipeline(
            lambda: self.engine, lambda: self.config.settings.completion, lambda: self.params()
        )
        self.editors = EditorHub()  # running editors connected through the editor link
        self.tools: ToolManager  # the code tools, set by create_app (they need the workspace policy)
        self.started = time.time()
        config.on_change(self._on_config_change)

    # ---- the engine ------------------------------------------------------------------------------

    @property
    def engine(self) -> LLMInterface:
        if self._engine is None:
            raise ModelError(self.load_error or "no model is loaded yet")
        return self._engine

    @property
    def engine_loaded(self) -> bool:
        return self._engine is not None

    def load_engine(self) -> None:
        """Load the model the config names, unless it serves already; the old one serves until the new one is ready."""
        with self._engine_lock:
            settings = self.config.settings
            if self._engine is not None and self._engine_key == engine_key(settings):
                return
            try:
                new = self.engine_factory(settings)
            except PylotError as exc:
                self.load_error = str(exc)
                raise
            retired = self._install(new, settings)
        if retired is not None:
            retired.close()

    def update_config(self, changes: Mapping[str, Any]) -> Settings:
        """Apply a partial config update. A new model (or backend) is loaded first and saved only once it is
        ready: one that does not load leaves the file, the settings and the serving engine as they were."""
        with self._engine_lock:
            loaded: list[LLMInterface] = []

            def prepare(new: Settings) -> None:
                if self._engine is None or self._engine_key != engine_key(new):
                    loaded.append(self._build(new))

            try:
                settings = self.config.patch(changes, prepare=prepare)
            except BaseException:
                for engine in loaded:
                    engine.close()
                raise
            retired = self._install(loaded[0], settings) if loaded else None
        if retired is not None:
            retired.close()
        return settings

    def _build(self, settings: Settings) -> LLMInterface:
        try:
            return self.engine_factory(settings)
        except (ModelNotFoundError, InsufficientMemoryError):
            raise  # 404 and 503 say what they are
        except ModelError as exc:  # a file that is not a model, a damaged one: the request named it, so a 400
            raise ConfigError(f"{exc}; the configuration was not changed", key="model.model") from exc

    def _install(self, engine: LLMInterface, settings: Settings) -> LLMInterface | None:
        """Serve `engine` (built from `settings`); returns the engine it replaces when that one is ours to close."""
        old, self._engine = self._engine, engine
        owned, self._owns_engine = self._owns_engine, True
        self._engine_key = engine_key(settings)
        self.load_error = None
        self.cache.clear()
        self.pipeline.typeahead.clear()
        return old if old is not None and owned else None

    def close(self) -> None:
        if self._engine is not None and self._owns_engine:
            self._engine.close()
        self._engine = None
        self.feedback.close()

    def check_model(self, requested: str | None) -> None:
        """Accept the loaded model's id or file name (or no model at all); anything else is a 404."""
        if not requested:
            return
        caps = self.engine.capabilities()
        path = str(caps.extra.get("path", ""))
        names = {caps.model_id, path}
        if path:
            names |= {Path(path).name, Path(path).stem}
        if requested not in names:
            raise ModelNotFoundError(
                f"model '{requested}' is not loaded; this server serves '{caps.model_id}' "
                f'(load another with PATCH /v1/config {{"model": {{"model": ID}}}})'
            )

    # ---- request defaults ------------------------------------------------------------------------

    def params(self, **overrides: Any) -> GenerationParams:
        """Generation parameters: the live config's defaults, overridden by whatever the request set."""
        return self.config.settings.generation.params(**overrides)

    def request_params(self, body: Any) -> GenerationParams:
        """The sampling fields an OpenAI-style request may set, over the configured defaults."""
        return self.params(
            max_tokens=body.max_tokens,
            temperature=body.temperature,
            top_p=body.top_p,
            top_k=body.top_k,
            min_p=body.min_p,
            repeat_penalty=body.repeat_penalty,
            stop=body.stop,
            seed=body.seed,
        )

    # ---- live configuration ----------------------------------------------------------------------

    def _on_config_change(self, old: Settings, new: Settings) -> None:
        if new.cache != old.cache:
            self.cache.resize(new.cache.max_entries, new.cache.ttl_s)
            if not new.cache.enabled:
                self.cache.clear()
        if new.logging.level != old.logging.level:
            logging.getLogger("pylot").setLevel(new.logging.level)
        if new.model != old.model or new.backend != old.backend:
            threading.Thread(target=self._reload_quietly, name="pylot-model-reload", daemon=True).start()

    def _reload_quietly(self) -> None:
        try:
            self.load_engine()
            log.info("model reloaded after a config change")
        except PylotError as exc:
            log.error("model reload failed, keeping the previous model: %s", exc)
