"""The HTTP server: OpenAI-compatible REST, llama-server's /infill, WebSockets, metrics."""

from pylot.server.app import PylotServer, create_app

LlamaServer = PylotServer
"""The specification's name for Pylot's server. Not llama.cpp's `llama-server`, which
`pylot.engines.llama_server` talks to as a remote backend."""

__all__ = ["LlamaServer", "PylotServer", "create_app"]
