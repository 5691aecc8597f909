"""/v1/tools: list the code tools with their schemas, and call one with JSON arguments.

Errors are raised as ToolError; the server's exception handlers (pylot.server.errors) turn them into the
OpenAI error JSON with status 400, as for every other route.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from starlette.concurrency import run_in_threadpool

from pylot.bridge.tool_manager import ToolManager


def create_tools_router(manager: ToolManager) -> APIRouter:
    """The router for one ToolManager; mount it on the app with `app.include_router(...)`."""
    router = APIRouter(prefix="/v1/tools", tags=["tools"])

    @router.get("")
    def list_tools() -> dict[str, Any]:
        """Every tool with its description and JSON Schema (also in the OpenAI `tools` shape)."""
        return {"object": "list", "data": manager.schemas()}

    @router.get("/{name}")
    def get_tool(name: str) -> dict[str, Any]:
        tool = manager.get(name)
        return {"name": tool.name, "description": tool.description, "parameters": tool.parameters}

    @router.post("/{name}")
    async def call_tool(
        name: str, arguments: Annotated[dict[str, Any] | None, Body(description="The tool's arguments.")] = None
    ) -> dict[str, Any]:
        """Call a tool; the body is its arguments as a JSON object. Answers {"result": ...}."""
        result = await run_in_threadpool(manager.call, name, arguments or {})
        return {"result": result}

    return router
