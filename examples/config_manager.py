"""ConfigManager: Pylot's settings and a section of one's own, validated by a pydantic model.

    PYLOT_CONFIG=/tmp/pylot-example.yaml .venv/bin/python examples/config_manager.py

Without PYLOT_CONFIG the file goes to a temporary directory (never to your own config).
"""

import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from pylot.config.config_manager import ConfigManager
from pylot.errors import ConfigError


class LinterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error

    level: int = Field(default=1, ge=0, le=3, description="How strict the linter is.")
    rules: list[str] = Field(default_factory=list, description="Rules to run.")


config_path = Path(os.environ.get("PYLOT_CONFIG") or Path(tempfile.mkdtemp()) / "config.yaml")
config = ConfigManager(config_path)
config.register_validator("linter", LinterSettings)

print("generation.temperature =", config.get("generation", "temperature"))
print("linter.level =", config.get("linter", "level"))
config.update("linter", "level", 2)
config.update("generation", "max_tokens", 96)
print(
    "after update: linter.level =",
    config.get("linter", "level"),
    "| max_tokens =",
    config.get("generation", "max_tokens"),
)
print("a key that is not set:", config.get("linter", "missing", default="(default)"))
try:
    config.update("linter", "level", 9)
except ConfigError as exc:
    print("refused:", exc)
print(f"{config_path}:\n{config_path.read_text()}")
