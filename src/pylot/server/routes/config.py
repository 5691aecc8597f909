"""/v1/config: read (secrets masked), schema for forms, validated live updates."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body

from pylot.config.config_manager import dump
from pylot.config.settings import LIVE_SECTIONS, Settings
from pylot.server.deps import StateDep
from pylot.server.responses import ConfigSections

router = APIRouter(tags=["config"])


@router.get("/v1/config", response_model=ConfigSections)
async def get_config(state: StateDep) -> dict[str, Any]:
    return dump(state.config.settings)


@router.get("/v1/config/schema")
async def config_schema() -> dict[str, Any]:
    return settings_schema()


def settings_schema() -> dict[str, Any]:
    """The settings' JSON Schema for forms, with the sections that apply without a restart."""
    schema = Settings.model_json_schema()
    schema["x-live-sections"] = sorted(LIVE_SECTIONS)
    return schema


@router.patch("/v1/config", response_model=ConfigSections)
async def patch_config(state: StateDep, changes: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Partial update such as {"generation": {"temperature": 0.1}}; validated, applied live, then persisted
    (a new model is loaded before it is saved)."""
    settings = await asyncio.to_thread(state.update_config, changes)
    return dump(settings)
