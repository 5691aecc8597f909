"""The record of one installed model: `<store>/<id>.json` beside `<store>/<id>.gguf`."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pylot.errors import RequestError
from pylot.models.gguf import GGUFInfo

log = logging.getLogger(__name__)

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
Status = Literal["ok", "unverified", "corrupt"]


@dataclass
class InstalledModel:
    """A model in the store.

    status: "ok" (a manifest, and the file has its size), "unverified" (a file without a manifest
    that is not in the catalog), "corrupt" (size or sha256 wrong; `problem` says which).
    """

    id: str
    path: Path
    size: int
    sha256: str | None
    source: str
    family: str
    quantization: str
    fim: bool
    added_at: str | None = None
    status: Status = "ok"
    problem: str = ""

    def manifest(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("path", "status", "problem"):
            data.pop(key)
        return data

    @classmethod
    def from_manifest(cls, data: dict[str, Any], path: Path) -> InstalledModel:
        """Raises KeyError, TypeError or ValueError for a malformed manifest."""
        return cls(
            id=str(data["id"]),
            path=path,
            size=int(data["size"]),
            sha256=data.get("sha256"),
            source=str(data.get("source", "unknown")),
            family=str(data.get("family", "unknown")),
            quantization=str(data.get("quantization", "unknown")),
            fim=bool(data.get("fim", False)),
            added_at=data.get("added_at"),
        )


def read_manifest(path: Path, model_id: str) -> InstalledModel | None:
    """The manifest at path for the model file beside it, or None if absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("id") != model_id:
            raise ValueError("not a manifest of this model")
        return InstalledModel.from_manifest(data, path.with_suffix(".gguf"))
    except FileNotFoundError:
        return None
    except (OSError, KeyError, TypeError, ValueError) as exc:
        log.warning("ignoring unreadable manifest %s: %s", path, exc)
        return None


def write_manifest(path: Path, model: InstalledModel) -> None:
    # A unique temporary name: two processes may verify the same file at once.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(model.manifest(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def guess_family(info: GGUFInfo) -> str:
    """A family name from GGUF metadata ("qwen2.5-coder", "smollm2", ...) for files not in the catalog."""
    base = info.get("general.basename")
    return str(base).lower() if base else info.architecture


def id_from_filename(path: Path) -> str:
    stem = path.name[: -len(".gguf")] if path.name.lower().endswith(".gguf") else path.name
    return re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._") or "model"


def check_id(model_id: str) -> str:
    if not ID_RE.match(model_id):
        raise RequestError(  # the caller's mistake: 400, not a failing model
            f"invalid model id {model_id!r}: use letters, digits, '.', '_' and '-' (no paths), at most 128 characters",
            param="model",
        )
    return model_id
