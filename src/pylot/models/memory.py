"""How much memory a model needs at a given context, and the largest context that fits what is free."""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psutil

from pylot.errors import InsufficientMemoryError
from pylot.models.gguf import GGUFInfo, read_gguf

log = logging.getLogger(__name__)

MemoryPolicy = Literal["shrink", "refuse", "off"]

CTX_STEP = 256
MIN_CTX = 512
HEADROOM_FRACTION = 0.10  # of the free memory, kept for the OS, the server and the page cache
HEADROOM_MIN = 256 << 20
RUNTIME_OVERHEAD = 64 << 20  # llama.cpp context, tokenizer tables, Python objects


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a model needs once loaded; gpu_bytes is the part that goes to VRAM."""

    weights_bytes: int
    kv_bytes: int
    overhead_bytes: int
    total: int
    n_ctx: int = 0
    gpu_bytes: int = 0

    @property
    def ram_bytes(self) -> int:
        return self.total - self.gpu_bytes


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _info(model: str | Path | GGUFInfo) -> GGUFInfo:
    return model if isinstance(model, GGUFInfo) else read_gguf(model)


def kv_cache_bytes(info: GGUFInfo, n_ctx: int) -> int:
    """f16 KV cache: n_layers * n_ctx * n_head_kv * (key_length + value_length) * 2 bytes."""
    n_layers = info.block_count or 0
    n_head_kv = info.head_count_kv or 0
    per_token = n_head_kv * ((info.key_length or 0) + (info.value_length or 0))
    return n_layers * n_ctx * per_token * 2


def compute_buffer_bytes(info: GGUFInfo, n_ctx: int, n_batch: int = 512) -> int:
    """llama.cpp's scratch memory for one batch: the logits of the output layer and the attention scores
    (f32) are the two big tensors; the allocator reuses memory, so the larger one bounds the peak."""
    n_ubatch = min(n_batch, 512)
    logits = (info.vocab_size or 32_000) * n_ubatch * 4
    scores = n_ctx * n_ubatch * (info.head_count or 1) * 4
    return max(logits, scores) + (info.embedding_length or 0) * n_ctx * 4


def estimate_memory(
    path: str | Path | GGUFInfo, n_ctx: int, n_gpu_layers: int = 0, *, n_batch: int = 512
) -> MemoryEstimate:
    """Memory for the weights, the KV cache and llama.cpp's buffers at this context size."""
    info = _info(path)
    weights = info.file_size
    kv = kv_cache_bytes(info, n_ctx)
    compute = compute_buffer_bytes(info, n_ctx, n_batch)
    overhead = RUNTIME_OVERHEAD + compute
    gpu = 0
    if n_gpu_layers != 0:
        n_layers = info.block_count or 1
        # llama.cpp counts the output layer as one more layer to offload.
        fraction = 1.0 if n_gpu_layers < 0 else min(1.0, n_gpu_layers / (n_layers + 1))
        gpu = int(fraction * (weights + kv)) + compute
    return MemoryEstimate(weights, kv, overhead, weights + kv + overhead, n_ctx, gpu)


def available_ram_bytes() -> int:
    return int(psutil.virtual_memory().available)


def free_vram_bytes() -> int | None:
    """Free memory over all NVIDIA GPUs per nvidia-smi, or None when it cannot be asked."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        proc = subprocess.run(
            [exe, "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        mib = [int(line.strip()) for line in proc.stdout.splitlines() if line.strip()]
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.info("nvidia-smi did not report free memory (%s); skipping the VRAM check", exc)
        return None
    return sum(mib) << 20 if mib else None


def _budget(free: int) -> int:
    return free - max(HEADROOM_MIN, int(free * HEADROOM_FRACTION))


def fit_context(
    path: str | Path | GGUFInfo,
    n_ctx: int,
    available_bytes: int | None = None,
    policy: MemoryPolicy = "shrink",
    *,
    n_gpu_layers: int = 0,
    n_batch: int = 512,
    available_vram_bytes: int | None = None,
) -> int:
    """n_ctx if the model fits in free memory at that context, else (policy "shrink") the largest
    multiple of 256, at least 512, that fits. Raises InsufficientMemoryError saying what would fit.

    available_bytes defaults to the free RAM now; with n_gpu_layers != 0 the GPU part is checked
    against available_vram_bytes or nvidia-smi (skipped, with a log line, when neither is there).
    """
    if policy == "off":
        return n_ctx
    info = _info(path)
    ram = _budget(available_ram_bytes() if available_bytes is None else available_bytes)
    vram: int | None = None
    if n_gpu_layers != 0:
        free_gpu = free_vram_bytes() if available_vram_bytes is None else available_vram_bytes
        if free_gpu is None:
            log.info("nvidia-smi is not on PATH; skipping the VRAM check")
        else:
            vram = _budget(free_gpu)

    def fits(ctx: int) -> bool:
        est = estimate_memory(info, ctx, n_gpu_layers, n_batch=n_batch)
        return est.ram_bytes <= ram and (vram is None or est.gpu_bytes <= vram)

    if fits(n_ctx):
        return n_ctx
    best = next(
        (c for c in range(n_ctx // CTX_STEP * CTX_STEP, MIN_CTX - 1, -CTX_STEP) if c < n_ctx and fits(c)),
        None,
    )
    if best is not None and policy == "shrink":
        log.warning("context shrunk from %d to %d tokens to fit free memory", n_ctx, best)
        return best
    raise InsufficientMemoryError(_explain(info, n_ctx, best, ram, vram, n_gpu_layers, n_batch))


def _explain(
    info: GGUFInfo, n_ctx: int, best: int | None, ram: int, vram: int | None, n_gpu_layers: int, n_batch: int
) -> str:
    est = estimate_memory(info, n_ctx, n_gpu_layers, n_batch=n_batch)
    where, need, free = "RAM", est.ram_bytes, ram
    if vram is not None and est.gpu_bytes > vram:
        where, need, free = "GPU memory", est.gpu_bytes, vram
    head = (
        f"{info.path.name} at n_ctx={n_ctx} needs about {human_bytes(need)} of {where} "
        f"(weights {human_bytes(est.weights_bytes)}, KV cache {human_bytes(est.kv_bytes)}, "
        f"buffers {human_bytes(est.overhead_bytes)}) but only {human_bytes(max(free, 0))} is free to use"
    )
    if best is not None:
        return f"{head}; n_ctx={best} would fit: set model.n_ctx to {best} or model.memory_check to shrink"
    what = "even the weights do not fit" if est.weights_bytes > free else f"not even n_ctx={MIN_CTX} fits"
    hint = "use fewer GPU layers (model.n_gpu_layers), " if where == "GPU memory" else ""
    return (
        f"{head}; {what}: {hint}choose a smaller model (pylot models list) "
        "or a smaller quantization (pylot models quantize ID --type q4_k_m)"
    )
