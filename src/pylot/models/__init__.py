"""Model catalog and store: fetching (registry, Hugging Face, local files) with sha256 checks, memory
fit, and quantization. The public names live here; the submodules are one concept each."""

from pylot.models.catalog import (
    CATALOG,
    DEFAULT_MODEL_ID,
    SOURCE_KINDS,
    CatalogEntry,
    HFSource,
    RegistryPart,
    RegistrySource,
)
from pylot.models.loading import LoadPlan, ModelInfo, model_info, plan_load
from pylot.models.manifest import InstalledModel, guess_family
from pylot.models.memory import (
    MemoryEstimate,
    MemoryPolicy,
    available_ram_bytes,
    estimate_memory,
    fit_context,
    free_vram_bytes,
    human_bytes,
    kv_cache_bytes,
)
from pylot.models.progress import ProgressCallback
from pylot.models.quantize import QUANT_TYPES, quantize
from pylot.models.store import ModelStore, resolve_model

__all__ = [
    "CATALOG",
    "DEFAULT_MODEL_ID",
    "QUANT_TYPES",
    "SOURCE_KINDS",
    "CatalogEntry",
    "HFSource",
    "InstalledModel",
    "LoadPlan",
    "MemoryEstimate",
    "MemoryPolicy",
    "ModelInfo",
    "ModelStore",
    "ProgressCallback",
    "RegistryPart",
    "RegistrySource",
    "available_ram_bytes",
    "estimate_memory",
    "fit_context",
    "free_vram_bytes",
    "guess_family",
    "human_bytes",
    "kv_cache_bytes",
    "model_info",
    "plan_load",
    "quantize",
    "resolve_model",
]
