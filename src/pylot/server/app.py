"""create_app(config) builds the FastAPI application; PylotServer runs it with uvicorn."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from pylot import __version__
from pylot.bridge.policy import Policy
from pylot.bridge.tool_manager import ToolManager
from pylot.bridge.tools import DeferredLLM, create_tool_manager
from pylot.config.config_manager import ConfigManager
from pylot.engines.interface import LLMInterface
from pylot.engines.loader import load_engine
from pylot.errors import ModelError, PylotError
from pylot.server import errors
from pylot.server.log_buffer import LogBuffer
from pylot.server.middleware import ApiKeyMiddleware, BodyLimitMiddleware, secret_values
from pylot.server.origin_guard import OriginGuardMiddleware, OriginRules
from pylot.server.routes import chat, completions, embeddings, events, infill, models, status, ws
from pylot.server.routes import config as config_routes
from pylot.server.routes.console import create_console_static_router
from pylot.server.routes.editors import create_editor_router
from pylot.server.routes.logs import create_logs_router
from pylot.server.routes.tools import create_tools_router
from pylot.server.state import EngineFactory, ServerState

log = logging.getLogger(__name__)


def create_app(
    config: ConfigManager,
    *,
    engine: LLMInterface | None = None,
    engine_factory: EngineFactory | None = None,
    watch_config: bool = False,
) -> FastAPI:
    """The Pylot application. Pass `engine` to serve an engine you built (tests, benchmarks);
    otherwise the model named in the config is loaded at start-up by `engine_factory`."""
    if engine_factory is None:
        engine_factory = load_engine
    state = ServerState(config, engine_factory, engine)
    log_buffer = LogBuffer()  # the console's live log tail

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        logging.getLogger("pylot").addHandler(log_buffer)
        if not state.engine_loaded:
            try:
                await asyncio.to_thread(state.load_engine)
            except PylotError as exc:
                log.error("could not load the model: %s", exc)
                raise
        if watch_config:
            config.watch()
        try:
            yield
        finally:
            logging.getLogger("pylot").removeHandler(log_buffer)
            config.stop_watching()
            state.close()

    app = FastAPI(
        title="GC-Forged-Pylot",
        version=__version__,
        lifespan=lifespan,
        description="A private, local code assistant on llama.cpp.",
    )
    app.state.pylot = state
    errors.install(app)
    for router in (
        status.router,
        completions.router,
        chat.router,
        infill.router,
        embeddings.router,
        events.router,
        models.router,
        config_routes.router,
        ws.router,
    ):
        app.include_router(router)
    app.include_router(create_editor_router(state.editors))
    state.tools = _tool_manager(state)
    app.include_router(create_tools_router(state.tools))
    app.include_router(create_logs_router(log_buffer))
    app.include_router(create_console_static_router())  # the web console at / (built by scripts/build_web.sh)
    origins = config.settings.server.cors_origins
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["*"], allow_headers=["*"])
    app.add_middleware(BodyLimitMiddleware, limit=lambda: config.settings.server.max_request_bytes)
    app.add_middleware(ApiKeyMiddleware, keys=lambda: secret_values(config.settings.server.api_keys))
    app.add_middleware(OriginGuardMiddleware, rules=lambda: _origin_rules(config))  # outermost: runs first
    return app


def _origin_rules(config: ConfigManager) -> OriginRules:
    s = config.settings.server
    return OriginRules(bind_host=s.host, allowed_hosts=tuple(s.allowed_hosts), allowed_origins=tuple(s.cors_origins))


def _tool_manager(state: ServerState) -> ToolManager:
    """The code tools over the configured workspace; model-based tools use whatever engine is loaded."""
    t = state.config.settings.tools
    policy = Policy(
        (t.workspace or Path.cwd()).resolve(),
        read_only=t.read_only,
        writable=tuple(t.writable),
        allow_hard_links=t.allow_hard_links,
    )
    return create_tool_manager(policy, llm=DeferredLLM(lambda: state.engine), settings=state.config.settings)


WS_MAX_BYTES = 16 * 1024 * 1024  # uvicorn's default


class PylotServer:
    """Runs the application with uvicorn, in the foreground (`run`) or in a background thread (`start`)."""

    def __init__(self, config: ConfigManager, *, engine: LLMInterface | None = None, watch_config: bool = True) -> None:
        self.config = config
        self.app = create_app(config, engine=engine, watch_config=watch_config)
        s = config.settings.server
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=s.host,
                port=s.port,
                log_level="warning",
                access_log=False,
                ws="websockets-sansio",
                # Frames up to this size reach the app, which answers those over the body limit with an
                # error; larger ones close the socket (1009) before they are buffered.
                ws_max_size=max(WS_MAX_BYTES, 2 * s.max_request_bytes),
                timeout_graceful_shutdown=5,
            )
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        s = self.config.settings.server
        return f"http://{s.host}:{s.port}"

    def load_model(self) -> None:
        """Load the configured model now, so a bad model fails before the server starts listening."""
        state: ServerState = self.app.state.pylot
        if not state.engine_loaded:
            state.load_engine()

    def run(self) -> None:
        self._server.run()

    def start(self, timeout_s: float = 120.0) -> str:
        """Serve in a background thread; returns the base URL once the server accepts requests."""
        self._thread = threading.Thread(target=self._server.run, name="pylot-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ModelError("the server did not start; see the log")
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
