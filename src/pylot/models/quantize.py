"""Re-quantizing a GGUF with llama.cpp's own quantizer, through llama-cpp-python's C API."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from pylot.errors import ModelError
from pylot.models.fetch import part_path
from pylot.models.gguf import read_gguf

log = logging.getLogger(__name__)

# Supported targets and their llama_ftype numbers (llama.h), used if the binding lacks the constant.
QUANT_TYPES: dict[str, int] = {"q4_0": 2, "q4_k_m": 15, "q5_k_m": 17, "q8_0": 7}


@contextlib.contextmanager
def _quiet_llama_log() -> Iterator[None]:
    """llama.cpp logs every tensor while quantizing; llama-cpp-python prints its log only at this level."""
    logger = logging.getLogger("llama-cpp-python")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def quantize(src: str | Path, dst: str | Path, qtype: str, *, n_threads: int | None = None) -> Path:
    """Quantize the GGUF at src to qtype ("q4_k_m", "q8_0", "q4_0", "q5_k_m") and write it atomically at dst.

    Already quantized sources are re-quantized (allow_requantize), which loses a little quality: start
    from an F16/BF16 file when there is one. Raises ModelError when llama-cpp-python is missing or
    llama.cpp fails.
    """
    src, dst = Path(src), Path(dst)
    key = qtype.lower()
    if key not in QUANT_TYPES:
        raise ModelError(f"unsupported quantization {qtype!r}; choose one of: {', '.join(QUANT_TYPES)}")
    try:
        import llama_cpp  # noqa: PLC0415 - llama.cpp's native library loads only to quantize
    except ImportError as exc:
        raise ModelError(f"quantizing needs llama-cpp-python, which cannot be imported: {exc}") from exc
    read_gguf(src)  # a clear error for a missing or non-GGUF source, before llama.cpp sees it
    part = part_path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{key.upper()}", QUANT_TYPES[key])
    params.allow_requantize = True
    params.nthread = n_threads or 0  # 0: llama.cpp uses every hardware thread
    log.info("quantizing %s to %s", src.name, key)
    try:
        with _quiet_llama_log():
            rc = llama_cpp.llama_model_quantize(
                str(src).encode("utf-8"), str(part).encode("utf-8"), ctypes.byref(params)
            )
        if rc != 0 or not part.is_file():
            raise ModelError(f"llama.cpp could not quantize {src.name} to {key} (code {rc})")
        read_gguf(part)
        os.replace(part, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    return dst
