"""A small, pure-Python reader of GGUF metadata (versions 2 and 3).

Only the header and the key/value section are read; tensor data is never touched. Big arrays (the
tokenizer's 150,000 tokens and their scores) are skipped without building lists: the reader keeps their
type and length, and while skipping the token list it notes the ids of the few special tokens Pylot
cares about (fill-in-the-middle markers), so FIM support is known even for files written before the
`tokenizer.ggml.fim_*_token_id` keys existed.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pylot.errors import ModelError

GGUF_MAGIC = b"GGUF"

# GGUFValueType, as numbered by gguf-py/gguf/constants.py.
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL = range(8)
_STRING, _ARRAY, _UINT64, _INT64, _FLOAT64 = 8, 9, 10, 11, 12

_SCALARS: dict[int, struct.Struct] = {
    _UINT8: struct.Struct("<B"),
    _INT8: struct.Struct("<b"),
    _UINT16: struct.Struct("<H"),
    _INT16: struct.Struct("<h"),
    _UINT32: struct.Struct("<I"),
    _INT32: struct.Struct("<i"),
    _FLOAT32: struct.Struct("<f"),
    _BOOL: struct.Struct("<?"),
    _UINT64: struct.Struct("<Q"),
    _INT64: struct.Struct("<q"),
    _FLOAT64: struct.Struct("<d"),
}
_TYPE_NAMES = {
    _UINT8: "uint8",
    _INT8: "int8",
    _UINT16: "uint16",
    _INT16: "int16",
    _UINT32: "uint32",
    _INT32: "int32",
    _FLOAT32: "float32",
    _BOOL: "bool",
    _STRING: "string",
    _ARRAY: "array",
    _UINT64: "uint64",
    _INT64: "int64",
    _FLOAT64: "float64",
}
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

# llama_ftype from llama.h: the value of general.file_type.
FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
}

# Token texts that mark fill-in-the-middle, per family (Qwen/StarCoder, CodeLlama, DeepSeek).
FIM_TOKEN_TEXTS: dict[str, tuple[str, ...]] = {
    "prefix": ("<|fim_prefix|>", "<fim_prefix>", "<PRE>", "▁<PRE>", "<｜fim▁begin｜>"),
    "suffix": ("<|fim_suffix|>", "<fim_suffix>", "<SUF>", "▁<SUF>", "<｜fim▁hole｜>"),
    "middle": ("<|fim_middle|>", "<fim_middle>", "<MID>", "▁<MID>", "<｜fim▁end｜>"),
}
_FIM_KEYS = {
    "prefix": ("tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"),
    "suffix": ("tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"),
    "middle": ("tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"),
}


@dataclass(frozen=True)
class GGUFArray:
    """A big array that was skipped: its element type and length, not its values."""

    item_type: str
    length: int


@dataclass
class GGUFInfo:
    """What a GGUF file says about itself."""

    path: Path
    version: int
    tensor_count: int
    metadata: dict[str, Any]
    file_size: int
    # Special tokens found by text while skipping tokenizer.ggml.tokens: text -> id.
    token_ids: dict[str, int] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    def _arch(self, key: str) -> Any:
        return self.metadata.get(f"{self.architecture}.{key}")

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def name(self) -> str | None:
        value = self.metadata.get("general.name")
        return str(value) if value is not None else None

    @property
    def file_type(self) -> int | None:
        value = self.metadata.get("general.file_type")
        return int(value) if isinstance(value, int) else None

    @property
    def quantization(self) -> str:
        """The quantization name, e.g. "Q4_K_M", or "unknown" when the file does not say."""
        ft = self.file_type
        if ft is None:
            return "unknown"
        return FILE_TYPES.get(ft, f"type {ft}")

    @property
    def context_length(self) -> int | None:
        return _int_or_none(self._arch("context_length"))

    @property
    def block_count(self) -> int | None:
        return _int_or_none(self._arch("block_count"))

    @property
    def embedding_length(self) -> int | None:
        return _int_or_none(self._arch("embedding_length"))

    @property
    def head_count(self) -> int | None:
        return _int_or_none(self._arch("attention.head_count"))

    @property
    def head_count_kv(self) -> int | None:
        """KV heads (grouped-query attention); equal to head_count when the file does not say."""
        value = _int_or_none(self._arch("attention.head_count_kv"))
        return value if value is not None else self.head_count

    @property
    def key_length(self) -> int | None:
        """Per-head key size; embedding_length / head_count when the file does not say."""
        value = _int_or_none(self._arch("attention.key_length"))
        if value is None and self.embedding_length and self.head_count:
            value = self.embedding_length // self.head_count
        return value

    @property
    def value_length(self) -> int | None:
        value = _int_or_none(self._arch("attention.value_length"))
        return value if value is not None else self.key_length

    @property
    def vocab_size(self) -> int | None:
        tokens = self.metadata.get("tokenizer.ggml.tokens")
        if isinstance(tokens, GGUFArray):
            return tokens.length
        if isinstance(tokens, list):
            return len(tokens)
        return _int_or_none(self._arch("vocab_size"))

    @property
    def has_chat_template(self) -> bool:
        return bool(self.metadata.get("tokenizer.chat_template"))

    @property
    def fim_token_ids(self) -> dict[str, int]:
        """{"prefix": id, "suffix": id, "middle": id} when the model has all three FIM tokens, else {}."""
        found: dict[str, int] = {}
        for role, keys in _FIM_KEYS.items():
            for key in keys:
                value = self.metadata.get(key)
                if isinstance(value, int) and value >= 0:
                    found[role] = value
                    break
            else:
                for text in FIM_TOKEN_TEXTS[role]:
                    if text in self.token_ids:
                        found[role] = self.token_ids[text]
                        break
        return found if len(found) == 3 else {}

    @property
    def has_fim(self) -> bool:
        return bool(self.fim_token_ids)

    def summary(self) -> dict[str, Any]:
        """The fields Pylot uses, as a flat dict (for `pylot models info` and /v1/models)."""
        return {
            "architecture": self.architecture,
            "name": self.name,
            "quantization": self.quantization,
            "file_type": self.file_type,
            "context_length": self.context_length,
            "block_count": self.block_count,
            "embedding_length": self.embedding_length,
            "head_count": self.head_count,
            "head_count_kv": self.head_count_kv,
            "key_length": self.key_length,
            "value_length": self.value_length,
            "vocab_size": self.vocab_size,
            "fim_token_ids": self.fim_token_ids,
            "chat_template": self.has_chat_template,
            "tensor_count": self.tensor_count,
            "gguf_version": self.version,
            "file_size": self.file_size,
        }


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, list):  # per-layer values (some architectures): the largest bounds memory
        value = max(value) if value else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


class _Cursor:
    """Reads little-endian GGUF values from a buffer, raising ModelError on truncation."""

    def __init__(self, buf: mmap.mmap | bytes, path: Path) -> None:
        self.buf = buf
        self.pos = 0
        self.size = len(buf)
        self.path = path
        self.found_tokens: dict[str, int] = {}

    def _need(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size:
            raise ModelError(f"{self.path}: truncated GGUF metadata at byte {self.pos}")

    def unpack(self, fmt: struct.Struct) -> Any:
        self._need(fmt.size)
        (value,) = fmt.unpack_from(self.buf, self.pos)
        self.pos += fmt.size
        return value

    def string(self) -> str:
        n = self.unpack(_U64)
        self._need(n)
        raw = self.buf[self.pos : self.pos + n]
        self.pos += n
        return bytes(raw).decode("utf-8", errors="replace")

    def skip(self, n: int) -> None:
        self._need(n)
        self.pos += n

    def value(self, vtype: int, key: str, max_array_items: int) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            return self.array(key, max_array_items)
        raise ModelError(f"{self.path}: unknown GGUF value type {vtype} for key {key!r}")

    def array(self, key: str, max_array_items: int) -> Any:
        item_type = self.unpack(_U32)
        length = self.unpack(_U64)
        if length <= max_array_items:
            return [self.value(item_type, key, max_array_items) for _ in range(length)]
        if item_type in _SCALARS:
            self.skip(_SCALARS[item_type].size * length)
        elif item_type == _STRING:
            self._skip_strings(length, collect=key == "tokenizer.ggml.tokens")
        else:  # nested arrays: walk them, keeping nothing
            for _ in range(length):
                self.array(key, 0)
        return GGUFArray(_TYPE_NAMES.get(item_type, str(item_type)), length)

    def _skip_strings(self, length: int, *, collect: bool) -> None:
        wanted = {t.encode(): t for texts in FIM_TOKEN_TEXTS.values() for t in texts} if collect else {}
        lengths = {len(b) for b in wanted}
        buf, pos, unpack = self.buf, self.pos, _U64.unpack_from
        found: dict[str, int] = {}
        try:
            for index in range(length):
                (n,) = unpack(buf, pos)
                pos += 8
                if n in lengths:
                    text = wanted.get(bytes(buf[pos : pos + n]))
                    if text is not None:
                        found[text] = index
                pos += n
        except struct.error as exc:
            raise ModelError(f"{self.path}: truncated GGUF string array") from exc
        if pos > self.size:
            raise ModelError(f"{self.path}: truncated GGUF string array")
        self.pos = pos
        self.found_tokens = found


def read_gguf(path: str | Path, *, max_array_items: int = 256) -> GGUFInfo:
    """Read the metadata of a GGUF file; arrays longer than max_array_items are skipped.

    Raises ModelError if the file is missing, not GGUF, of an unsupported version, or truncated.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            size = path.stat().st_size
            if size < 24:
                raise ModelError(f"{path}: not a GGUF file (only {size} bytes)")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(buf, path, size, max_array_items)
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _parse(buf: mmap.mmap, path: Path, size: int, max_array_items: int) -> GGUFInfo:
    if buf[:4] != GGUF_MAGIC:
        raise ModelError(f"{path}: not a GGUF file (no GGUF header)")  # never quote the file: it may be any file
    cur = _Cursor(buf, path)
    cur.pos = 4
    version = cur.unpack(_U32)
    if version not in (2, 3):
        if version & 0xFFFFFF == 0 and version >> 24 in (2, 3):
            raise ModelError(f"{path}: big-endian GGUF files are not supported")
        raise ModelError(f"{path}: GGUF version {version} is not supported (2 and 3 are)")
    tensor_count = cur.unpack(_U64)
    kv_count = cur.unpack(_U64)
    metadata: dict[str, Any] = {}
    token_ids: dict[str, int] = {}
    for _ in range(kv_count):
        key = cur.string()
        vtype = cur.unpack(_U32)
        cur.found_tokens = {}
        metadata[key] = cur.value(vtype, key, max_array_items)
        if key == "tokenizer.ggml.tokens":
            if isinstance(metadata[key], list):
                token_ids = {t: i for i, t in enumerate(metadata[key]) if t in _ALL_FIM_TEXTS}
            else:
                token_ids = cur.found_tokens
    return GGUFInfo(path, version, tensor_count, metadata, size, token_ids)


_ALL_FIM_TEXTS = frozenset(t for texts in FIM_TOKEN_TEXTS.values() for t in texts)
