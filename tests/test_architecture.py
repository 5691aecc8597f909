"""The import rules of docs/architecture.md, enforced: each layer imports only the layers below it.

Every `import` and `from ... import` in a module counts, also those inside functions (a lazy import is
still a dependency), except under `if TYPE_CHECKING:`.

And the tests mirror the package, so a module's tests are found from its path: src/pylot/a/b.py (or the
package src/pylot/a/b/) is tested in tests/a/test_b.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pylot"
TESTS = Path(__file__).resolve().parent

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


# The test files that mirror no module, and why: behaviour across modules, or something outside the package.
NOT_MIRRORED = {
    "tests/test_architecture.py": "the import rules and the layout of the whole package",
    "tests/test_doubles.py": "the engine double in tests/doubles.py against the interface it stands in for",
    "tests/test_examples.py": "the scripts in examples/ against a real server",
    "tests/test_packaging.py": "pyproject.toml and requirements.txt",
    "tests/benchmarks/test_quiet.py": "the benchmark harness's quiet-machine guard, benchmarks/_quiet.py",
    "tests/benchmarks/test_spans.py": "the benchmark harness's multi-line items, benchmarks/_spans.py",
    "tests/bridge/tools/test_path_refusals.py": "bad paths refused by every tool that takes one",
    "tests/cli/test_cli.py": "the `pylot` command end to end, in a real process",
    "tests/e2e/test_vscode_e2e.py": "the VS Code extension in a real VS Code against a real server",
    "tests/e2e/test_web_console.py": "the web console in a real browser against a real server",
    "tests/fixtures/polyglot/tests/test_pricing.py": "the sample project the code tools work on, not Pylot's",
    "tests/integration/test_faults.py": "network faults against real llama-servers, through client and balancer",
    "tests/integration/test_llama_server.py": "the client and the server against a real llama-server",
    "tests/models/test_models.py": "catalog, store, fetch, memory fit and quantization together",
    "tests/server/test_bad_input.py": "bad input across every endpoint",
    "tests/server/test_disconnect.py": "a client leaving mid-request, on every streaming endpoint",
    "tests/server/test_openai_client.py": "the official OpenAI client against a live server",
    "tests/server/test_privacy.py": "no user code in the logs, from any endpoint",
    "tests/server/test_schemathesis.py": "every operation of the OpenAPI schema, property-based",
    "tests/server/test_utf8.py": "UTF-8 end to end, over HTTP, the WebSocket and the config",
}


def _mirrors(test: Path) -> bool:
    """tests/a/test_b.py mirrors src/pylot/a/b.py or the package src/pylot/a/b/."""
    rel = test.relative_to(TESTS)
    target = SRC.joinpath(*rel.parts[:-1], rel.stem.removeprefix("test_"))
    return target.with_suffix(".py").is_file() or target.is_dir()


def test_every_test_file_mirrors_a_module_or_says_why_not() -> None:
    unmirrored = {f"tests/{p.relative_to(TESTS).as_posix()}" for p in TESTS.rglob("test_*.py") if not _mirrors(p)}
    unexplained = sorted(unmirrored - set(NOT_MIRRORED))
    assert not unexplained, (
        f"name each test file after the module it tests (src/pylot/a/b.py -> tests/a/test_b.py), "
        f"or add it to NOT_MIRRORED with the reason: {unexplained}"
    )
    stale = sorted(set(NOT_MIRRORED) - unmirrored)
    assert not stale, f"these mirror a module now or are gone; take them out of NOT_MIRRORED: {stale}"


def test_the_mirror_rule_accepts_modules_and_packages_and_nothing_else() -> None:
    assert _mirrors(TESTS / "server" / "routes" / "test_ws.py")  # src/pylot/server/routes/ws.py
    assert _mirrors(TESTS / "engines" / "test_llama_cpp.py")  # the package src/pylot/engines/llama_cpp/
    assert not _mirrors(TESTS / "server" / "test_api.py")
