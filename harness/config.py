"""Typed configuration: YAML in, dataclasses out, with ${ENV} secrets and strict key checking.

Every key is checked against the dataclass it fills, so a typo is an error that names its path
(`engines.duckdb.thread: unknown key, did you mean 'threads'?`) rather than a silently ignored
setting. Engine sections are checked against each engine's own settings dataclass when that
engine is first used (see EngineSections).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.engines import REGISTRY, engine_class
from harness.errors import ConfigError
from harness.paths import YamlError, default_config_file, read_text, read_yaml


@dataclass(frozen=True)
class Pattern:
    """A team's own activity, for the monthly projection (`projection:`)."""

    queries_per_day: float = 1000
    active_hours: float = 8  # queries arrive evenly over these hours of each day
    data_gb: float | None = None  # stored data; None: what the benchmark stored


@dataclass(frozen=True)
class TemplateLimits:
    """How far one template may go when it is rendered (`templates:`): a workload folder may
    come from someone else, so rendering it is bounded in time and in output."""

    seconds: float = 10.0  # per template render
    output_mb: float = 16.0  # per rendered query or load script


@dataclass
class WorkloadChoice:
    """One workload's entry under `workloads:`: its scale, queries and generator options."""

    scale: float | None = None  # None: the workload's default scale
    queries: list[str] | None = None  # None: every query of the workload
    options: dict[str, int] = field(default_factory=dict)  # generator parameters, e.g. gap_minutes


@dataclass
class Config:
    """A config file, typed and checked; the defaults are what a key left out means."""

    engines: Mapping[str, Any] = field(default_factory=dict)  # name -> that engine's settings
    workloads: dict[str, WorkloadChoice] | None = None  # None: every workload found
    runs: int = 3
    timeout_seconds: float = 600.0
    results_dir: Path = Path("results")
    data_dir: Path | None = None  # generated data; default results_dir/data
    store: Path | None = None  # results store; default results_dir/results.duckdb
    workload_dirs: list[Path] = field(default_factory=list)  # extra folders of workloads
    max_cost: float | None = None  # USD: stop before a run would spend more (see budget.py)
    pricing: Path | None = None  # a price catalog of yours, over each engine's own prices
    projection: Pattern = field(default_factory=Pattern)  # `whbench project` and the report
    templates: TemplateLimits = field(default_factory=TemplateLimits)
    source: str = "<defaults>"  # the file this came from, for messages
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # as written, ${VAR} unresolved

    @property
    def data_path(self) -> Path:
        return self.data_dir or self.results_dir / "data"

    @property
    def store_path(self) -> Path:
        return self.store or self.results_dir / "results.duckdb"

    def redacted(self) -> dict[str, Any]:
        """The config as written, safe to store: ${VAR} references stay references (their values
        are never read into it) and a literal value of a setting typed Secret is masked."""
        from harness.engines.credentials import secret_fields

        raw = copy.deepcopy(self.raw)
        for name, section in (raw.get("engines") or {}).items():
            if name not in REGISTRY or not isinstance(section, dict):
                continue
            for key in secret_fields(engine_class(name).settings_class):
                value = section.get(key)
                if isinstance(value, str) and not _ENV_REF.fullmatch(value):
                    section[key] = "***"
        return raw


# ${VAR}, ${VAR:-default}, or ${file:PATH} (a secret file, e.g. /run/secrets/name): resolved
# when the config is read, kept as written in what is stored.
_ENV_REF = re.compile(r"\$\{(?:file:([^}]+)|([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?)\}")


def load_config(path: Path | None) -> Config:
    """Read a config file (the bundled default when `path` is None) and check it."""
    path = path or default_config_file()
    if not Path(path).exists():
        raise ConfigError(f"config file {path} not found; pass an existing file with --config")
    text = read_text(path, "config file", ConfigError)
    try:
        data = read_yaml(text)
    except YamlError as exc:
        raise ConfigError(f"{path}:{exc.where}: malformed YAML ({exc}); fix the syntax") from None
    return parse_config(data if data is not None else {}, source=str(path))


def parse_config(data: Any, source: str = "<config>") -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of settings")
    resolved = _resolve_env(copy.deepcopy(data), source, "")
    engines_data = resolved.pop("engines", None)
    engines_data = {} if engines_data is None else engines_data
    config = _build(Config, resolved, source, "")
    config.engines = _parse_engines(engines_data, source)
    config.source = source
    config.raw = data
    if config.runs < 1:
        raise ConfigError(f"{source}: runs: must be at least 1 (got {config.runs})")
    if config.timeout_seconds <= 0:
        raise ConfigError(f"{source}: timeout_seconds: must be positive")
    if config.max_cost is not None and not config.max_cost > 0:
        raise ConfigError(f"{source}: max_cost: must be a positive number of dollars")
    return config


def _parse_engines(data: Any, source: str) -> EngineSections:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: engines: expected a mapping of engine name to settings")
    for name in data:
        if name not in REGISTRY:
            raise ConfigError(f"{source}: engines.{name}: unknown engine{_suggest(name, REGISTRY)}")
    return EngineSections(data, source)


class EngineSections(Mapping[str, Any]):
    """The configured engines' settings by name. The names are checked when the config is read;
    each section is checked against its engine's settings, and by the engine itself, when that
    engine is first used: checking it imports the engine's package, which a command touching
    no engine (`whbench results list`) should not pay for. `whbench validate` checks them all."""

    def __init__(self, sections: dict[str, Any], source: str) -> None:
        self._sections, self._source, self._settings = sections, source, {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._settings:
            section = self._sections[name]  # KeyError for an engine not configured
            engine = engine_class(name)
            settings = _build(engine.settings_class, section or {}, self._source, f"engines.{name}")
            try:
                engine(settings)  # the engine's own checks of its settings (cheap: no connection)
            except ConfigError as exc:
                raise ConfigError(f"{self._source}: {exc}") from None
            self._settings[name] = settings
        return self._settings[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sections)

    def __len__(self) -> int:
        return len(self._sections)


def _resolve_env(value: Any, source: str, path: str) -> Any:
    if isinstance(value, dict):
        return {k: _resolve_env(v, source, _join(path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, source, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        secret_file, name, default = match.groups()
        if secret_file is not None:
            try:
                return Path(secret_file).expanduser().read_text().strip()
            except OSError as exc:
                raise ConfigError(
                    f"{source}: {path}: cannot read secret file {secret_file} "
                    f"({exc.strerror}); check the path and its permissions"
                ) from None
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(
            f"{source}: {path}: environment variable {name} is not set; export it or write "
            f"${{{name}:-default}}"
        )

    return _ENV_REF.sub(substitute, value)


def _build(cls: type, data: Any, source: str, path: str) -> Any:
    """Fill dataclass `cls` from a mapping, checking every key and type."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {path or 'top level'}: expected a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in ("source", "raw")}
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        key_path = _join(path, str(key))
        if key not in fields:
            raise ConfigError(f"{source}: {key_path}: unknown key{_suggest(str(key), fields)}")
        values[key] = _convert(hints[key], value, source, key_path)
    return cls(**values)


def _convert(hint: Any, value: Any, source: str, path: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, source, path)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{source}: {path}: expected a list, got {_kind(value)}")
        return [_convert(args[0], v, source, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {path}: expected a mapping, got {_kind(value)}")
        return {
            str(k): _convert(args[1], v if v is not None else {}, source, _join(path, str(k)))
            for k, v in value.items()
        }
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, source, path)
    if hint is Any:
        return value
    if hint is bool and isinstance(value, bool):
        return value
    if hint in (int, float):
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = hint(value)  # values from ${ENV} arrive as text
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if hint is int and value != int(value):
                raise ConfigError(f"{source}: {path}: expected a whole number, got {value}")
            return hint(value)
    if (
        (hint is Path or (isinstance(hint, type) and issubclass(hint, str)))  # str, Secret
        and isinstance(value, (str, int, float))
        and not isinstance(value, bool)
    ):
        return hint(str(value))
    raise ConfigError(f"{source}: {path}: expected {hint.__name__}, got {_kind(value)} {value!r}")


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _suggest(word: str, choices: typing.Iterable[str]) -> str:
    import difflib  # only on a mistake: an import every command would pay otherwise

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f", did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(choices))}"
