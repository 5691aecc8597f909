"""pyproject.toml is the one list of dependencies; requirements.txt must be its generated copy."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_requirements_txt_is_generated_from_pyproject() -> None:
    spec = importlib.util.spec_from_file_location("gen_requirements", ROOT / "scripts/gen_requirements.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "requirements.txt").read_text() == module.render(), "run: make requirements"


def test_every_dependency_is_pinned() -> None:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert "==" in line, line
