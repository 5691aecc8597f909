"""ConfigManager: load, validate, override from the environment, update atomically, reload live."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import tomli_w
import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from pylot.config.settings import Settings, default_home
from pylot.errors import ConfigError
from pylot.unicode_text import find_lone_surrogate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

log = logging.getLogger(__name__)

ENV_PREFIX = "PYLOT_"
SECRET_MASK = "**********"  # how pydantic shows a SecretStr

ChangeListener = Callable[[Settings, Settings], None]
Preparer = Callable[[Settings], None]


def default_config_path() -> Path:
    """The user's config file: <PYLOT_HOME>/config.yaml."""
    return default_home() / "config.yaml"


def load_file(path: Path) -> dict[str, Any]:
    """Read a YAML or TOML config file into a dict. The only place config files are parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 (byte {exc.start})", file=str(path)) from None
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text)
        else:
            data = yaml.safe_load(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"{path}: not valid {path.suffix.lstrip('.').upper() or 'YAML'}: {exc}", file=str(path)
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of sections, got {type(data).__name__}", file=str(path)
        )
    return data


def env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """PYLOT_SECTION__KEY=value pairs as a nested dict; values are parsed as YAML scalars or lists."""
    out: dict[str, dict[str, Any]] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        out.setdefault(section, {})[key] = value
    return out


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _check_text(data: Any, source: str) -> None:
    """Refuse lone surrogates in keys and values, naming the key: such a string cannot be saved or shown."""
    found = find_lone_surrogate(data)
    if found is not None:
        raise ConfigError(f"{source}: {found.describe()}", key=found.where, file=source)


def validate(data: Mapping[str, Any], source: str) -> Settings:
    """Build Settings, turning pydantic's errors into one ConfigError that names key, value and source."""
    _check_text(data, source)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, source) from None


def validate_section(section: str, model: type[BaseModel], values: Any, source: str) -> BaseModel:
    """One section through a registered validator, its errors named as `section.key` in `source`."""
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ConfigError(
            f"{source}: '{section}' must be a mapping of keys to values, got {values!r}", key=section, file=source
        )
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise _config_error(exc, source, section) from None


def _config_error(exc: ValidationError, source: str, section: str | None = None) -> ConfigError:
    problems = []
    first_key = None
    for err in exc.errors():
        key = ".".join(str(p) for p in ((section,) if section else ()) + tuple(err["loc"]))
        first_key = first_key or key
        if err["type"] == "extra_forbidden":
            hint = ""
            if "." not in key:
                hint = f" (a plugin's section needs its validator: ConfigManager(path, validators={{'{key}': Model}}))"
            problems.append(f"unknown key '{key}'{hint}")
        else:
            problems.append(f"'{key}' = {err.get('input')!r}: {err['msg']}")
    return ConfigError(f"{source}: " + "; ".join(problems), key=first_key, file=source)


def dump(settings: Settings, *, mask_secrets: bool = True) -> dict[str, Any]:
    """Settings as plain JSON-able data, secrets masked unless asked otherwise."""
    data = settings.model_dump(mode="json")
    if not mask_secrets:
        return _reveal(settings, data)
    return data


def _reveal(model: BaseModel, data: dict[str, Any]) -> dict[str, Any]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            _reveal(value, data[name])
        elif isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
        elif isinstance(value, list) and value and isinstance(value[0], SecretStr):
            data[name] = [v.get_secret_value() for v in value]
    return data


class ConfigManager:
    """Owns the settings: loads the file, applies environment overrides, validates updates, watches the file.

    `update` writes the file atomically (a temp file renamed over the old one), so a failed or invalid
    update leaves the file and the running settings as they were.

    `validators` ({section: pydantic model}) are those of `register_validator`, for a file that already
    has a section Settings does not know (a plugin's): such a section is an error until its validator
    is registered.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        validators: Mapping[str, type[BaseModel]] | None = None,
    ) -> None:
        self.path = Path(path) if path else None
        self._validators: dict[str, type[BaseModel]] = {}
        for section, model in (validators or {}).items():
            self._validators[section] = _checked_model(section, model)
        self._sections: dict[str, BaseModel] = {}
        self._overrides = dict(overrides or {})
        self._environ = dict(os.environ if environ is None else environ)
        self._lock = threading.RLock()
        self._listeners: list[ChangeListener] = []
        self._file_data: dict[str, Any] = {}
        self._stamp: tuple[float, int] | None = None
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self._settings = self._load()

    # ---- reading ---------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self._settings

    def get(self, section: str, key: str | None = None, default: Any = None) -> Any:
        """A section (its settings object, or its validator's model for a section Settings does not know)
        or one value of it.

        `default` comes back instead of a value that is unset (None), or of a section or key that does
        not exist; without a default, a section or key that does not exist is a ConfigError naming it.
        """
        part = getattr(self._settings, section) if section in Settings.model_fields else self._sections.get(section)
        if part is None:
            if default is not None:
                return default
            raise ConfigError(f"unknown config section '{section}'", key=section)
        if key is None:
            return part
        if key not in type(part).model_fields:
            if default is not None:
                return default
            raise ConfigError(f"unknown config key '{section}.{key}'", key=f"{section}.{key}")
        value = getattr(part, key)
        return default if value is None else value

    def register_validator(self, section: str, model: type[BaseModel]) -> None:
        """Validate `section` with the pydantic `model` from now on: a plugin's own section, or rules of
        your own for one of Settings' sections (checked by both then).

        The section as it stands (file and environment) is checked at once; a ConfigError leaves the
        validator unregistered. Then `get`, `update`, reload and `PYLOT_SECTION__KEY` go through it. Give
        the model `extra="forbid"` so that a misspelt key is an error.
        """
        model = _checked_model(section, model)
        with self._lock:
            validators = {**self._validators, section: model}
            source = str(self.path) if self.path is not None else "defaults"
            _, sections = self._check(self._effective(self._file_data), source, validators)
            self._validators, self._sections = validators, sections

    def _check(
        self, data: Mapping[str, Any], source: str, validators: Mapping[str, type[BaseModel]] | None = None
    ) -> tuple[Settings, dict[str, BaseModel]]:
        """Settings from `data`, and every registered section through its validator."""
        validators = self._validators if validators is None else validators
        core = {k: v for k, v in data.items() if k in Settings.model_fields or k not in validators}
        settings = validate(core, source)
        sections = {name: validate_section(name, model, data.get(name), source) for name, model in validators.items()}
        return settings, sections

    def on_change(self, listener: ChangeListener) -> None:
        """Call listener(old, new) after every successful reload or update."""
        self._listeners.append(listener)

    # ---- writing ---------------------------------------------------------------------------------

    def update(self, section: str, key: str, value: Any) -> Settings:
        """Set one value: validated, persisted atomically, applied to the running settings."""
        return self.patch({section: {key: value}})

    def patch(self, changes: Mapping[str, Any], *, prepare: Preparer | None = None) -> Settings:
        """Apply a partial nested update such as {"generation": {"temperature": 0.1}}.

        prepare(new) runs with the validated settings before anything is written (the server loads a new
        model there); if it raises, the file and the running settings stay as they were.
        """
        with self._lock:
            target = self.path or default_config_path()
            source = f"update of {target}"
            _check_text(changes, source)
            for section, values in changes.items():
                if not isinstance(values, Mapping):
                    raise ConfigError(f"'{section}' must be a mapping of keys to values, got {values!r}", key=section)
            changes = _restore_masked(changes, self._file_data)
            new_file = _merge(self._file_data, changes)
            new, sections = self._check(self._effective(new_file), source)
            if prepare is not None:
                prepare(new)
            self._write(target, new_file)
            self.path = target
            self._file_data = new_file
            self._sections = sections
            self._swap(new)
            return new

    def _write(self, target: Path, data: dict[str, Any]) -> None:
        if target.suffix.lower() == ".toml":
            text = tomli_w.dumps(_drop_none(data))
        else:
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        try:
            _replace_atomically(target, text)
        except OSError as exc:
            raise ConfigError(
                f"cannot save {target}: {exc.strerror or exc}; the file and the settings were not changed",
                file=str(target),
            ) from exc
        self._stamp = _stamp(target)

    # ---- loading and live reload -----------------------------------------------------------------

    def _effective(self, file_data: Mapping[str, Any]) -> dict[str, Any]:
        return _merge(_merge(dict(file_data), env_overrides(self._environ)), self._overrides)

    def _load(self) -> Settings:
        file_data: dict[str, Any] = {}
        source = "defaults"
        if self.path is not None:
            if self.path.exists():
                file_data = load_file(self.path)
                self._stamp = _stamp(self.path)
            source = str(self.path)
        env = env_overrides(self._environ)
        for section, values in env.items():
            for key in values:
                if section not in Settings.model_fields and section not in self._validators:
                    raise ConfigError(
                        f"environment variable {ENV_PREFIX}{section.upper()}__{key.upper()}: "
                        f"unknown section '{section}'",
                        key=section,
                    )
        settings, self._sections = self._check(self._effective(file_data), source)
        self._file_data = file_data
        return settings

    def reload(self) -> bool:
        """Re-read the file. On a bad, empty or unreadable file keep the running settings, log why, return False."""
        with self._lock:
            if self.path is None or not self.path.exists():
                return False
            stamp = _stamp(self.path)  # before reading: a write that lands meanwhile is seen next time
            try:
                file_data = load_file(self.path)
                if not file_data:
                    # At start-up an empty file means the defaults; live, it is an editor (or a full disk)
                    # half-way through a save, and applying it would drop every setting, API keys included.
                    raise ConfigError(
                        f"{self.path} is empty (or only comments), as in the middle of a save; "
                        "it is read again when it changes",
                        file=str(self.path),
                    )
                new, sections = self._check(self._effective(file_data), str(self.path))
            except ConfigError as exc:
                self._stamp = stamp
                log.warning("config reload rejected, keeping the running settings: %s", exc)
                return False
            self._stamp = stamp
            self._file_data = file_data
            self._sections = sections
            self._swap(new)
            log.info("config reloaded from %s", self.path)
            return True

    def _swap(self, new: Settings) -> None:
        old, self._settings = self._settings, new
        for listener in list(self._listeners):
            try:
                listener(old, new)
            except Exception:
                log.exception("config listener failed")

    def watch(self, interval_s: float = 1.0) -> None:
        """Poll the file for changes in a daemon thread (portable: no inotify needed)."""
        if self._watcher is not None or self.path is None:
            return
        self._stop.clear()

        def loop() -> None:
            # A change is read once the file has stopped changing for one interval, so an editor's
            # half-written (say, just truncated) file is never taken for the new settings.
            seen = self._stamp
            while not self._stop.wait(interval_s):
                if self.path is None:
                    continue
                try:
                    stamp = _stamp(self.path)
                    if stamp is not None and stamp != self._stamp and stamp == seen:
                        self.reload()
                except Exception:  # a watcher that dies stops live reload without a word: log and go on
                    log.exception("config watcher: checking %s failed", self.path)
                    stamp = None
                seen = stamp

        self._watcher = threading.Thread(target=loop, name="pylot-config-watch", daemon=True)
        self._watcher.start()

    def stop_watching(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None


def _checked_model(section: str, model: Any) -> type[BaseModel]:
    if not isinstance(section, str) or not section:
        raise TypeError(f"a config section is a non-empty name, got {section!r}")
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"the validator of '{section}' must be a pydantic model class, got {model!r}")
    return model


def _restore_masked(new: Any, old: Any) -> Any:
    """A form that read masked secrets and sends them back must not overwrite the real ones: a masked value
    takes the value from the same place in the file (list items are matched by position)."""
    if isinstance(new, Mapping):
        old_map = old if isinstance(old, Mapping) else {}
        out = {}
        for key, value in new.items():
            if _is_mask(value):
                if key in old_map:
                    out[key] = old_map[key]
                continue
            out[key] = _restore_masked(value, old_map.get(key))
        return out
    if isinstance(new, list) and any(isinstance(v, Mapping) for v in new):
        old_list = old if isinstance(old, list) else []
        return [_restore_masked(v, old_list[i] if i < len(old_list) else None) for i, v in enumerate(new)]
    return new


def _is_mask(value: Any) -> bool:
    if isinstance(value, str):
        return value == SECRET_MASK
    if isinstance(value, list) and value:
        return all(v == SECRET_MASK for v in value)
    return False


def _replace_atomically(target: Path, text: str) -> None:
    """Write a temp file beside target and rename it over target: readers see the old file or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        st = path.stat()
    except OSError:  # gone, or (briefly) unreadable: no stamp, so nothing is reloaded
        return None
    return (st.st_mtime, st.st_size)


def _drop_none(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _drop_none(v) for k, v in data.items() if v is not None}
    return data
