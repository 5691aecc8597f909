"""The GGUF metadata reader, on the real models in the store and on files written here."""

from __future__ import annotations

import struct
import time
from pathlib import Path
from typing import Any

import pytest

from pylot.errors import ModelError
from pylot.models.gguf import GGUFArray, read_gguf
from tests.conftest import store_model


def real_model(model_id: str) -> Path:
    return store_model(model_id)


# ---- a small GGUF writer, so every value type can be checked -----------------------------------------


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def _value(vtype: int, value: Any) -> bytes:
    if vtype == 8:
        return _string(value)
    if vtype == 9:
        item_type, items = value
        return struct.pack("<IQ", item_type, len(items)) + b"".join(_value(item_type, v) for v in items)
    return struct.pack(_FMT[vtype], value)


def write_gguf(path: Path, kvs: list[tuple[str, int, Any]], *, version: int = 3, tensors: int = 0) -> Path:
    body = b"".join(_string(k) + struct.pack("<I", t) + _value(t, v) for k, t, v in kvs)
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", version, tensors, len(kvs)) + body)
    return path


# ---- real models -----------------------------------------------------------------------------------


@pytest.mark.model
def test_reads_qwen_coder_metadata_and_finds_fim_tokens_by_text() -> None:
    started = time.perf_counter()
    info = read_gguf(real_model("qwen2.5-coder-0.5b"))
    elapsed = time.perf_counter() - started

    assert info.version == 3
    assert info.architecture == "qwen2"
    assert info.quantization == "Q4_K_M"
    assert info.file_type == 15
    assert info.tensor_count == 291
    assert (info.context_length, info.block_count, info.embedding_length) == (32768, 24, 896)
    assert (info.head_count, info.head_count_kv) == (14, 2)
    assert (info.key_length, info.value_length) == (64, 64)  # derived: 896 / 14
    assert info.vocab_size == 151936
    # This file predates the fim_*_token_id keys: the ids come from the token texts.
    assert info.fim_token_ids == {"prefix": 151659, "suffix": 151661, "middle": 151660}
    assert info.has_fim and info.has_chat_template
    # The 150k-token vocabulary is skipped, not materialised.
    assert info.metadata["tokenizer.ggml.tokens"] == GGUFArray("string", 151936)
    assert info.metadata["tokenizer.ggml.merges"].length == 151387
    assert elapsed < 2.0


@pytest.mark.model
def test_reads_smollm2_metadata_without_fim() -> None:
    info = read_gguf(real_model("smollm2-135m"))

    assert info.architecture == "llama"
    assert info.quantization == "Q4_1"
    assert (info.block_count, info.head_count, info.head_count_kv) == (30, 9, 3)
    assert info.context_length == 8192
    assert info.vocab_size == 49152
    assert info.metadata["general.languages"] == ["en"]  # a small array is kept whole
    assert not info.has_fim and info.fim_token_ids == {}
    assert info.summary()["file_size"] == 98_362_432


# ---- every value type, arrays, and broken files ----------------------------------------------------


def test_every_value_type_round_trips(tmp_path: Path) -> None:
    kvs: list[tuple[str, int, Any]] = [
        ("u8", 0, 200),
        ("i8", 1, -5),
        ("u16", 2, 60000),
        ("i16", 3, -300),
        ("u32", 4, 4_000_000_000),
        ("i32", 5, -2_000_000_000),
        ("f32", 6, 0.5),
        ("bool", 7, True),
        ("str", 8, "héllo"),
        ("u64", 10, 2**63),
        ("i64", 11, -(2**62)),
        ("f64", 12, 1e-300),
        ("ints", 9, (5, [1, 2, 3])),
        ("strs", 9, (8, ["a", "bc"])),
        ("nested", 9, (9, [(4, [1]), (4, [2, 3])])),
    ]
    info = read_gguf(write_gguf(tmp_path / "all.gguf", kvs, version=2, tensors=7))

    assert info.version == 2
    assert info.tensor_count == 7
    expected = {k: v for k, _, v in kvs}
    expected.update(ints=[1, 2, 3], strs=["a", "bc"], nested=[[1], [2, 3]])
    assert info.metadata == expected


def test_big_arrays_are_skipped_and_fim_keys_win(tmp_path: Path) -> None:
    tokens = [f"t{i}" for i in range(1000)] + ["<fim_prefix>", "<fim_middle>", "<fim_suffix>"]
    kvs: list[tuple[str, int, Any]] = [
        ("general.architecture", 8, "starcoder2"),
        ("starcoder2.block_count", 4, 2),
        ("starcoder2.attention.head_count", 4, 4),
        ("starcoder2.attention.key_length", 4, 80),
        ("tokenizer.ggml.tokens", 9, (8, tokens)),
        ("tokenizer.ggml.scores", 9, (6, [0.0] * 2000)),
        ("tokenizer.ggml.fim_pre_token_id", 4, 7),
    ]
    info = read_gguf(write_gguf(tmp_path / "big.gguf", kvs), max_array_items=100)

    assert info.metadata["tokenizer.ggml.tokens"] == GGUFArray("string", 1003)
    assert info.metadata["tokenizer.ggml.scores"] == GGUFArray("float32", 2000)
    assert info.vocab_size == 1003
    assert info.token_ids == {"<fim_prefix>": 1000, "<fim_middle>": 1001, "<fim_suffix>": 1002}
    # The explicit key overrides the token found by text.
    assert info.fim_token_ids == {"prefix": 7, "suffix": 1002, "middle": 1001}
    assert info.key_length == 80 and info.value_length == 80
    assert info.head_count_kv == 4  # not given: same as head_count
    assert info.quantization == "unknown"
    assert not info.has_chat_template


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a GGUF file"),
        (b"GGML" + b"\0" * 40, "not a GGUF file"),
        (b"GGUF" + struct.pack("<IQQ", 1, 0, 0), "version 1 is not supported"),
        (b"GGUF" + struct.pack(">IQQ", 3, 0, 0), "big-endian"),
        (
            b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + _string("k") + struct.pack("<I", 8) + _string("v"),
            "truncated",
        ),
        (
            b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _string("k") + struct.pack("<I", 99),
            "unknown GGUF value type",
        ),
    ],
    ids=["empty", "ggml-magic", "version-1", "big-endian", "truncated", "unknown-type"],
)
def test_broken_files_raise_model_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "broken.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        read_gguf(path)


def test_a_file_that_is_not_gguf_is_named_but_none_of_its_bytes_are_quoted(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    path.write_text("root:x:0:0:root:/root:/bin/sh\n" * 4)
    with pytest.raises(ModelError) as info:
        read_gguf(path)
    assert str(info.value) == f"{path}: not a GGUF file (no GGUF header)"


def test_truncated_big_string_array_is_an_error(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "t.gguf", [("tokenizer.ggml.tokens", 9, (8, ["x"] * 500))])
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelError, match="truncated"):
        read_gguf(path, max_array_items=10)


def test_missing_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        read_gguf(tmp_path / "nope.gguf")
