"""The import rules of docs/architecture.md, enforced: each layer imports only the layers below it.

Every `import` and `from ... import` in a module counts, also those inside functions (a lazy import is
still a dependency), except under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pylot"

# What each part of the package may import from Pylot (besides itself and the root's __version__). The
# leaf modules import nothing of Pylot but each other.
LEAVES = {"errors", "types", "unicode_text", "logs"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "unicode_text": set(),
    "logs": set(),
    "types": {"unicode_text", "errors"},
    "config": LEAVES,
    "models": LEAVES | {"config"},
    "engines": LEAVES | {"config", "models"},
    "completion": LEAVES | {"config", "models", "engines"},
    "bridge": LEAVES | {"config", "models", "engines", "completion"},
    "server": LEAVES | {"config", "models", "engines", "completion", "bridge", "web"},
    "cli": LEAVES | {"config", "models", "engines", "completion", "bridge", "server"},
    "web": set(),
    "__init__": set(),
    "__main__": {"cli"},
}


def _part(module: str) -> str:
    """pylot.engines.llama_cpp.engine -> engines; pylot.errors -> errors."""
    return module.split(".")[1] if module.count(".") >= 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1] if len(parts) > 1 else [*parts]
    return ".".join(parts)


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    found: list[tuple[int, str]] = []
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("pylot.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name == "pylot":  # `from pylot import __version__` is the root; `from pylot import errors` a part
                found += [(node.lineno, "pylot" if a.name.startswith("__") else f"pylot.{a.name}") for a in node.names]
            elif name.startswith("pylot."):
                found.append((node.lineno, name))
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if "static" not in p.parts)


def test_every_part_of_the_package_has_a_rule() -> None:
    parts = {_part(_module_name(p)) for p in MODULES}
    assert parts <= set(ALLOWED), f"add a rule to ALLOWED (and docs/architecture.md) for {parts - set(ALLOWED)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_layers(path: Path) -> None:
    module = _module_name(path)
    here = _part(module)
    wrong = [
        f"line {line}: {target}"
        for line, target in _imports(path, module)
        if _part(target) not in (here, "__init__") and _part(target) not in ALLOWED.get(here, set())
    ]
    assert not wrong, f"{module} ({here}) may import only {sorted(ALLOWED[here])}: {wrong}"


def test_the_rule_catches_a_lazy_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from pylot.server.app import create_app\n    return create_app\n")
    assert _imports(bad, "pylot.engines.bad") == [(2, "pylot.server.app")]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_is_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 500, f"{path.relative_to(SRC)} has {lines} lines: split it into modules of one concept each"
