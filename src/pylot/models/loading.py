"""What the engine loader and `pylot models info` need: the file, its metadata and a context that fits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pylot.errors import InsufficientMemoryError
from pylot.models.catalog import CatalogEntry
from pylot.models.gguf import GGUFInfo, read_gguf
from pylot.models.manifest import InstalledModel, guess_family, id_from_filename
from pylot.models.memory import MemoryEstimate, MemoryPolicy, estimate_memory, fit_context
from pylot.models.store import ModelStore


@dataclass
class ModelInfo:
    """Store record, catalog entry, GGUF metadata and memory estimate of one model."""

    id: str | None
    path: Path
    gguf: GGUFInfo
    estimate: MemoryEstimate
    fitting_n_ctx: int | None  # the largest context (<= the asked one) that fits free RAM now; None: none
    installed: InstalledModel | None = None
    entry: CatalogEntry | None = None


@dataclass(frozen=True)
class LoadPlan:
    """What to load: the file, the context that fits, and what the model can do."""

    path: Path
    model_id: str
    family: str
    fim: bool
    n_ctx: int
    requested_n_ctx: int
    context_length: int | None  # the model's training context, from its metadata
    estimate: MemoryEstimate


def model_info(
    store: ModelStore,
    id_or_path: str | Path,
    *,
    n_ctx: int = 4096,
    n_gpu_layers: int = 0,
    available_bytes: int | None = None,
) -> ModelInfo:
    """Metadata and memory estimate (at n_ctx) of an installed id or a .gguf path."""
    path = store.resolve(id_or_path)
    installed = store.installed_for(id_or_path, path)
    gguf = read_gguf(path)
    try:
        fitting: int | None = fit_context(gguf, n_ctx, available_bytes, "shrink", n_gpu_layers=n_gpu_layers)
    except InsufficientMemoryError:
        fitting = None
    return ModelInfo(
        id=installed.id if installed else None,
        path=path,
        gguf=gguf,
        estimate=estimate_memory(gguf, n_ctx, n_gpu_layers),
        fitting_n_ctx=fitting,
        installed=installed,
        entry=store.catalog.get(installed.id) if installed else None,
    )


def plan_load(
    store: ModelStore,
    id_or_path: str | Path,
    n_ctx: int,
    *,
    policy: MemoryPolicy = "shrink",
    n_gpu_layers: int = 0,
    n_batch: int = 512,
    available_bytes: int | None = None,
) -> LoadPlan:
    """Resolve the model and fit the context to free memory (raises ModelNotFoundError,
    ModelIntegrityError or InsufficientMemoryError with a message for the user)."""
    path = store.resolve(id_or_path)
    gguf = read_gguf(path)
    installed = store.installed_for(id_or_path, path)
    fitted = fit_context(gguf, n_ctx, available_bytes, policy, n_gpu_layers=n_gpu_layers, n_batch=n_batch)
    return LoadPlan(
        path=path,
        model_id=installed.id if installed else id_from_filename(path),
        family=installed.family if installed else guess_family(gguf),
        fim=installed.fim if installed else gguf.has_fim,
        n_ctx=fitted,
        requested_n_ctx=n_ctx,
        context_length=gguf.context_length,
        estimate=estimate_memory(gguf, fitted, n_gpu_layers, n_batch=n_batch),
    )
