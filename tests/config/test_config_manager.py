"""ConfigManager: files, environment overrides, validation errors, atomic updates, live reload."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from pylot.config.config_manager import ConfigManager, load_file
from pylot.config.settings import Settings
from pylot.errors import ConfigError


def test_defaults_without_a_file_are_private_and_sensible(tmp_path: Path) -> None:
    s = ConfigManager(tmp_path / "none.yaml", environ={}).settings
    assert s.server.host == "127.0.0.1" and s.server.port == 8080
    assert s.model.model == "qwen2.5-coder-0.5b"


def test_yaml_and_toml_files_load_the_same(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("generation:\n  temperature: 0.3\nserver:\n  port: 9001\n")
    (tmp_path / "a.toml").write_text("[generation]\ntemperature = 0.3\n[server]\nport = 9001\n")
    a = ConfigManager(tmp_path / "a.yaml", environ={}).settings
    b = ConfigManager(tmp_path / "a.toml", environ={}).settings
    assert a == b and a.generation.temperature == 0.3


def test_unknown_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("generation:\n  tempreature: 0.5\n")
    with pytest.raises(ConfigError) as info:
        ConfigManager(path, environ={})
    assert "unknown key 'generation.tempreature'" in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.key == "generation.tempreature"


def test_bad_value_names_key_value_and_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[server]\nport = 70000\n")
    with pytest.raises(ConfigError, match=r"'server.port' = 70000") as info:
        ConfigManager(path, environ={})
    assert str(path) in str(info.value)


def test_unparseable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("generation: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_file(path)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("server:\n  port: 9000\n")
    m = ConfigManager(path, environ={"PYLOT_SERVER__PORT": "9100", "PYLOT_GENERATION__STOP": '["\\n"]'})
    assert m.settings.server.port == 9100
    assert m.settings.generation.stop == ["\n"]
    with pytest.raises(ConfigError, match="PYLOT_NOPE__X"):
        ConfigManager(path, environ={"PYLOT_NOPE__X": "1"})


def test_get_and_update_persist_atomically(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("generation:\n  temperature: 0.5\n")
    m = ConfigManager(path, environ={})
    assert m.get("generation", "temperature") == 0.5
    m.update("generation", "max_tokens", 64)
    assert yaml.safe_load(path.read_text()) == {"generation": {"temperature": 0.5, "max_tokens": 64}}
    assert m.get("generation", "max_tokens") == 64
    with pytest.raises(ConfigError, match="unknown config key"):
        m.get("generation", "nope")


def test_a_failed_update_leaves_file_and_settings_as_they_were(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("generation:\n  temperature: 0.5\n")
    m = ConfigManager(path, environ={})
    before = path.read_text()
    with pytest.raises(ConfigError, match=r"generation\.temperature"):
        m.update("generation", "temperature", 5)
    assert path.read_text() == before
    assert m.settings.generation.temperature == 0.5
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]  # no temp file left behind


def test_update_writes_toml_back_as_toml(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[generation]\ntemperature = 0.5\n")
    ConfigManager(path, environ={}).update("cache", "ttl_s", 30)
    assert "[cache]" in path.read_text() and "ttl_s = 30" in path.read_text()


def test_live_reload_applies_good_edits_and_keeps_old_config_on_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    m, seen = _watched(path, interval_s=0.05)
    try:
        path.write_text("generation:\n  max_tokens: 20\n")
        _wait(lambda: m.settings.generation.max_tokens == 20)
        path.write_text("generation:\n  max_tokens: -1\n")
        time.sleep(0.4)
        assert m.settings.generation.max_tokens == 20
        path.write_text("generation:\n  max_tokens: 30\n")
        _wait(lambda: m.settings.generation.max_tokens == 30)
    finally:
        m.stop_watching()
    assert seen == [20, 30]


def test_live_reload_waits_for_a_write_to_finish(tmp_path: Path) -> None:
    # Editors truncate, then write: the empty file in between must not be taken for "all defaults".
    path = tmp_path / "c.yaml"
    m, seen = _watched(path, interval_s=0.6)  # polls at 0.6 s, 1.2 s, ...; _wait below returns just after one
    try:
        for value in (20, 30):
            # truncate just before the next poll, write the new settings just after it
            time.sleep(0.45)
            path.write_text("")
            time.sleep(0.3)
            path.write_text(f"generation:\n  max_tokens: {value}\n")
            _wait(lambda v=value: m.settings.generation.max_tokens == v)  # type: ignore[misc]
    finally:
        m.stop_watching()
    assert seen == [20, 30]


def _watched(path: Path, interval_s: float) -> tuple[ConfigManager, list[int]]:
    """A watched config with max_tokens 10, and the max_tokens of every reload it applies."""
    path.write_text("generation:\n  max_tokens: 10\n")
    m = ConfigManager(path, environ={})
    seen: list[int] = []
    m.on_change(lambda old, new: seen.append(new.generation.max_tokens))
    m.watch(interval_s=interval_s)
    return m, seen


def _wait(cond, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_default_config_yaml_documents_every_option() -> None:
    from pylot.config.defaults import render_default_config

    shipped = (Path(__file__).resolve().parents[2] / "src/pylot/config/default_config.yaml").read_text()
    assert shipped == render_default_config(), (
        "run: python -m pylot.config.defaults > src/pylot/config/default_config.yaml"
    )
    for section, model in Settings.model_fields.items():
        for key in model.annotation.model_fields:  # type: ignore[union-attr]
            assert f"  {key}:" in shipped or f"  # {key}:" in shipped, f"{section}.{key} undocumented"
    assert yaml.safe_load(shipped) is not None
    Settings.model_validate(yaml.safe_load(shipped))


def test_patching_back_masked_secrets_keeps_the_real_ones(tmp_path: Path) -> None:
    from pylot.config.config_manager import dump

    path = tmp_path / "c.yaml"
    path.write_text("server:\n  api_keys: [k1]\n")
    m = ConfigManager(path, environ={})
    shown = dump(m.settings)
    assert shown["server"]["api_keys"] == ["**********"]
    m.patch({"server": shown["server"] | {"port": 9999}})
    assert [k.get_secret_value() for k in m.settings.server.api_keys] == ["k1"]
    assert m.settings.server.port == 9999


def test_masked_keys_inside_lists_keep_their_real_values(tmp_path: Path) -> None:
    from pylot.config.config_manager import dump

    path = tmp_path / "c.yaml"
    path.write_text("backend:\n  servers:\n    - url: http://127.0.0.1:9001\n      api_key: real-key\n")
    m = ConfigManager(path, environ={})
    shown = dump(m.settings)["backend"]
    assert shown["servers"][0]["api_key"] == "**********"
    m.patch({"backend": {"servers": shown["servers"], "retries": 4}})
    assert m.settings.backend.servers[0].api_key.get_secret_value() == "real-key"  # type: ignore[union-attr]
    assert "real-key" in path.read_text()


def test_a_backend_url_the_policy_refuses_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("backend:\n  external_url: http://203.0.113.5:8080\n")
    with pytest.raises(ConfigError, match=r"203\.0\.113\.5"):
        ConfigManager(path, environ={})
    path.write_text("backend:\n  external_url: http://127.0.0.1:8080\n")
    ok = ConfigManager(path, environ={})
    with pytest.raises(ConfigError, match="allowed_hosts"):
        ok.patch({"backend": {"external_url": "https://build-box.example:8080"}})
    assert ok.settings.backend.external_url == "http://127.0.0.1:8080"


def test_a_renamed_key_says_what_replaced_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("completion:\n  prefix_chars: 8000\n")
    with pytest.raises(ConfigError, match="prefix_tokens") as info:
        ConfigManager(path, environ={})
    assert str(path) in str(info.value)


# ---- hardening: empty and unreadable files, lone surrogates, failed writes --------------------------


def test_an_empty_file_at_start_up_means_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"")
    assert ConfigManager(path, environ={}).settings == Settings()


def test_a_file_emptied_while_watched_keeps_the_running_settings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # An editor that truncates and then stalls, or a disk that filled up: 0 bytes is never "all defaults".
    path = tmp_path / "c.yaml"
    m, seen = _watched(path, interval_s=0.05)
    try:
        with caplog.at_level("WARNING", logger="pylot.config"):
            path.write_bytes(b"")
            time.sleep(0.5)  # ten polls: the empty file is stable, so the watcher reads it
        assert m.settings.generation.max_tokens == 10
        assert any(str(path) in r.getMessage() and "empty" in r.getMessage() for r in caplog.records)
        path.write_text("generation:\n  max_tokens: 20\n")
        _wait(lambda: m.settings.generation.max_tokens == 20)
    finally:
        m.stop_watching()
    assert seen == [20]


@pytest.mark.parametrize(
    "content",
    [b"  \n\n", b"# every line commented out\n# generation:\n#   max_tokens: 5\n"],
    ids=["blank", "only-comments"],
)
def test_a_reload_of_a_file_without_settings_is_rejected(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("server:\n  api_keys: [k1]\n")
    m = ConfigManager(path, environ={})
    path.write_bytes(content)
    assert m.reload() is False
    assert [k.get_secret_value() for k in m.settings.server.api_keys] == ["k1"]


def test_a_file_that_is_not_utf8_is_a_config_error_and_never_applied(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"generation:\n  max_tokens: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not valid UTF-8") as info:
        ConfigManager(path, environ={})
    assert info.value.file == str(path)
    path.write_text("generation:\n  max_tokens: 12\n")
    m = ConfigManager(path, environ={})
    path.write_bytes(b"generation:\n  max_tokens: \xff\n")
    assert m.reload() is False
    assert m.settings.generation.max_tokens == 12


def test_an_unreadable_file_keeps_the_running_settings(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("generation:\n  max_tokens: 12\n")
    m = ConfigManager(path, environ={})
    path.unlink()
    path.mkdir()  # reading a directory fails, for root too
    assert m.reload() is False
    assert m.settings.generation.max_tokens == 12


def test_a_lone_surrogate_is_refused_naming_the_key_and_nothing_is_saved(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("generation:\n  max_tokens: 12\n")
    before = path.read_bytes()
    m = ConfigManager(path, environ={})
    with pytest.raises(ConfigError, match=r"'generation\.stop\.1'.*surrogate") as info:
        m.patch({"generation": {"stop": ["ok", "bad \ud800"]}})
    assert info.value.key == "generation.stop.1"
    with pytest.raises(ConfigError, match="surrogate") as info:
        m.patch({"generation": {"\udcff": 1}})
    str(info.value).encode("utf-8")  # the message itself is valid text
    assert path.read_bytes() == before
    assert m.settings.generation.stop == []


def test_a_lone_surrogate_in_the_file_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text('server:\n  host: "\\ud800"\n')  # a YAML escape, so the file itself is valid UTF-8
    with pytest.raises(ConfigError, match=r"'server\.host'") as info:
        ConfigManager(path, environ={})
    assert str(path) in str(info.value)


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("generation:\n  max_tokens: 12\nserver:\n  api_keys: [k1]\n")
    before = path.read_bytes()
    m = ConfigManager(path, environ={})

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", full_disk)
    with pytest.raises(ConfigError, match="No space left on device") as info:
        m.update("generation", "max_tokens", 64)
    assert info.value.file == str(path) and str(path) in str(info.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]  # the temp file is gone too
    assert m.settings.generation.max_tokens == 12
    monkeypatch.undo()
    m.update("generation", "max_tokens", 64)
    assert m.settings.generation.max_tokens == 64


# ---- validators for sections of one's own (register_validator) -----------------------------------


class Linter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: int = Field(default=1, ge=0, le=3, description="How strict.")
    rules: list[str] = Field(default_factory=list, description="Rules to run.")


def test_a_plugin_section_is_validated_read_and_updated(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("generation:\n  temperature: 0.5\n")
    m = ConfigManager(path, environ={})
    m.register_validator("linter", Linter)
    assert m.get("linter") == Linter()
    assert m.get("linter", "level") == 1
    m.update("linter", "level", 2)
    assert yaml.safe_load(path.read_text()) == {"generation": {"temperature": 0.5}, "linter": {"level": 2}}
    assert m.get("linter", "level") == 2
    again = ConfigManager(path, environ={}, validators={"linter": Linter})  # the file now has the section
    assert again.get("linter", "level") == 2


def test_a_bad_plugin_value_names_section_key_and_file_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("linter:\n  level: 1\n")
    m = ConfigManager(path, environ={}, validators={"linter": Linter})
    before = path.read_text()
    with pytest.raises(ConfigError, match=r"'linter\.level' = 9: Input should be less than or equal to 3") as info:
        m.update("linter", "level", 9)
    assert str(path) in str(info.value) and info.value.key == "linter.level"
    with pytest.raises(ConfigError, match=r"unknown key 'linter\.levle'"):
        m.update("linter", "levle", 2)
    assert path.read_text() == before and m.get("linter", "level") == 1


def test_a_plugin_section_without_its_validator_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("linter:\n  level: 1\n")
    with pytest.raises(ConfigError, match=r"unknown key 'linter' \(a plugin's section needs its validator") as info:
        ConfigManager(path, environ={})
    assert str(path) in str(info.value)


class ShortAnswers(BaseModel):
    model_config = ConfigDict(extra="allow")

    max_tokens: int = Field(default=128, le=256, description="A house rule on top of Settings' own.")


def test_a_validator_adds_rules_to_a_known_section(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    m = ConfigManager(path, environ={})
    m.register_validator("generation", ShortAnswers)
    m.update("generation", "max_tokens", 200)
    with pytest.raises(ConfigError, match=r"'generation\.max_tokens' = 1000"):
        m.update("generation", "max_tokens", 1000)  # Settings allows it; the house rule does not
    assert m.get("generation", "max_tokens") == 200


def test_get_with_a_default(tmp_path: Path) -> None:
    m = ConfigManager(tmp_path / "none.yaml", environ={})
    assert m.get("model", "n_threads", default=2) == 2  # unset (None): chosen at load
    assert m.get("server", "port", default=1) == 8080
    assert m.get("nope", "x", default=3) == 3
    assert m.get("server", "nope", default=3) == 3


def test_registering_checks_the_section_as_it_stands(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("generation:\n  max_tokens: 64\n")
    m = ConfigManager(path, environ={"PYLOT_GENERATION__MAX_TOKENS": "1000"})
    with pytest.raises(ConfigError, match=r"'generation\.max_tokens' = 1000") as info:
        m.register_validator("generation", ShortAnswers)
    assert str(path) in str(info.value)
    m.update("generation", "temperature", 0.1)  # not registered: Settings' own rules only
    with pytest.raises(ConfigError, match="unknown config section 'linter'"):
        m.get("linter")
    with pytest.raises(TypeError, match="pydantic model class"):
        m.register_validator("linter", dict)  # type: ignore[arg-type]
