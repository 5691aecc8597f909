"""Renders default_config.yaml from the settings classes, so the shipped file documents every option.

python -m pylot.config.defaults > src/pylot/config/default_config.yaml
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

from pylot.config.settings import LIVE_SECTIONS, Settings


def _value(v: Any) -> str:
    text = yaml.safe_dump(v, default_flow_style=True, allow_unicode=True).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def render_default_config() -> str:
    defaults = Settings().model_dump(mode="json")
    lines = [
        "# GC-Forged-Pylot configuration: every option, with its default.",
        "# Copy to ~/.cache/pylot/config.yaml (or pass --config FILE) and keep only what you change.",
        "# Environment variables override the file: PYLOT_<SECTION>__<KEY>, e.g. PYLOT_SERVER__PORT=9000.",
        "# Sections marked (live) apply as soon as the file is saved; the model section reloads the model.",
        "",
    ]
    for section, field in Settings.model_fields.items():
        live = " (live)" if section in LIVE_SECTIONS else ""
        lines.append(f"# {field.description}{live}")
        lines.append(f"{section}:")
        model = field.annotation
        for key, sub in model.model_fields.items():  # type: ignore[union-attr]
            lines.append(f"  # {sub.description}")
            value = defaults[section][key]
            if key == "api_keys":
                value = []
            lines.append(f"  {key}: {_value(value) if value is not None else 'null'}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render_default_config())
