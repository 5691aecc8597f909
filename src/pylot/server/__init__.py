"""The HTTP server: OpenAI-compatible REST, llama-server's /infill, WebSockets, metrics."""

from pylot.server.app import LlamaServer, create_app

__all__ = ["LlamaServer", "create_app"]
