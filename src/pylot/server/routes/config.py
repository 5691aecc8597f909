"""/v1/config: read (secrets masked), schema for forms, validated live updates."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body

from pylot.config.config_manager import dump
from pylot.config.settings import LIVE_SECTIONS, Settings
from pylot.server.deps import StateDep

router = APIRouter(tags=["config"])


@router.get("/v1/config")
async def get_config(state: StateDep) -> dict[str, Any]:
    return dump(state.config.settings)


@router.get("/v1/config/schema")
async def config_schema() -> dict[str, Any]:
    schema = Settings.model_json_schema()
    schema["x-live-sections"] = sorted(LIVE_SECTIONS)
    return schema


@router.patch("/v1/config")
async def patch_config(state: StateDep, changes: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Partial update such as {"generation": {"temperature": 0.1}}; validated, applied live, then persisted
    (a new model is loaded before it is saved)."""
    settings = await asyncio.to_thread(state.update_config, changes)
    return dump(settings)
