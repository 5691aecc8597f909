#!/usr/bin/env python3
"""Writes what the web console's types and tests are generated from: web-ui/openapi.json (the server's
/openapi.json) and web-ui/src/test/config-schema.json (/v1/config/schema), from the app factory with no
model loaded. `npm run gen:api` in web-ui runs this and then openapi-typescript; a test checks both are current.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ("web-ui/openapi.json", "web-ui/src/test/config-schema.json")


def render() -> dict[str, str]:
    """Each output's path (relative to the repository) and text."""
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))  # this checkout's pylot, whichever Python runs the script
    from pylot.config.config_manager import ConfigManager
    from pylot.server import create_app
    from pylot.server.routes.config import settings_schema

    with tempfile.TemporaryDirectory() as tmp:
        # Default settings whatever this machine's environment says; the feedback database goes to tmp.
        old = os.environ.get("PYLOT_DATA_DIR")
        os.environ["PYLOT_DATA_DIR"] = tmp
        try:
            config = Path(tmp) / "pylot.yaml"
            config.write_text("", encoding="utf-8")
            schema = create_app(ConfigManager(config, environ={})).openapi()
        finally:
            if old is None:
                os.environ.pop("PYLOT_DATA_DIR", None)
            else:
                os.environ["PYLOT_DATA_DIR"] = old
    texts = (schema, settings_schema())
    return {
        path: json.dumps(data, indent=2, ensure_ascii=False) + "\n" for path, data in zip(OUTPUTS, texts, strict=True)
    }


def write(root: Path = ROOT) -> list[Path]:
    written = []
    for rel, text in render().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
