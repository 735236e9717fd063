"""Typed configuration: YAML in, dataclasses out, with ${ENV} secrets and strict key checking.

Every key is checked against the dataclass it fills, so a typo is an error that names its path
(`engines.duckdb.thread: unknown key, did you mean 'threads'?`) rather than a silently ignored
setting. Every number is checked too: finite, and within the Range written beside its field
(`runs: Annotated[int, RUNS]`). Engine sections are checked against each engine's own settings
dataclass when that engine is first used (see EngineSections).

Secrets are known by where a value came from, never by what it looks like: whatever a `${VAR}`,
`${VAR:-default}` or `${file:PATH}` reference resolved to is never put in a message (the
reference is named instead) nor in the stored config (`Config.redacted()`), and is registered
with harness.errors.scrub as a last guard. A field typed Secret takes nothing but such a
reference: a value written there literally is refused, unshown (and masked all the same in what
is stored, as a config an older whbench accepted may hold one).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from harness.engines import REGISTRY, engine_class
from harness.errors import ConfigError, register_secret, scrub
from harness.paths import (
    KIB,
    MIB,
    Keys,
    YamlError,
    default_config_file,
    dotted,
    key_line,
    read_text,
    read_yaml,
)
from harness.settings import (
    DOLLARS,
    INT64,
    RUNS,
    SCALE,
    SECONDS,
    Pattern,
    Range,
    TemplateLimits,
)

if TYPE_CHECKING:
    from harness.engines.base import EngineSettings

CONFIG_LIMIT = 1 * MIB  # a config file: a real one is a few KiB
SECRET_FILE_LIMIT = 64 * KIB  # a ${file:…} secret: a password, a token, a key
RESOLVED_LIMIT = 1 * MIB  # all that ${…} references in one config may resolve to, together
MAX_DEPTH = 32  # nesting of mappings and lists: a real config has 4 levels


@dataclass
class WorkloadChoice:
    """One workload's entry under `workloads:`: its scale, queries and generator options."""

    scale: Annotated[float, SCALE] | None = None  # None: the workload's default scale
    queries: list[str] | None = None  # None: every query of the workload
    options: dict[str, int] = field(default_factory=dict)  # generator parameters, e.g. gap_minutes


@dataclass
class Config:
    """A config file, typed and checked; the defaults are what a key left out means."""

    # name -> that engine's settings (its own dataclass), checked when the engine is first used
    engines: EngineSections = field(default_factory=lambda: EngineSections({}, None))
    workloads: dict[str, WorkloadChoice] | None = None  # None: every workload found
    runs: Annotated[int, RUNS] = 3
    timeout_seconds: Annotated[float, SECONDS] = 600.0
    results_dir: Path = Path("results")
    data_dir: Path | None = None  # generated data; default results_dir/data
    store: Path | None = None  # results store; default results_dir/results.duckdb
    workload_dirs: list[Path] = field(default_factory=list)  # extra folders of workloads
    max_cost: Annotated[float, DOLLARS] | None = None  # USD: stop before a run would spend more
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
        """The config as written, safe to store (see redact)."""
        return redact(self.raw)

    def check_folders(self) -> None:
        """The results and data folders must be folders: a path that names an existing file
        is refused now, in one line, not as "File exists" from deep in the store once a run
        has started. (A path under a file is left to whoever makes the folder: the store
        says it cannot open itself there.)"""
        import stat

        for key, folder in (("results_dir", self.results_dir), ("data_dir", self.data_dir)):
            try:
                mode = folder.stat().st_mode if folder is not None else None
            except (OSError, ValueError):
                continue  # missing (made when needed) or unreadable: its maker says why
            if mode is not None and not stat.S_ISDIR(mode):
                option = "--results-dir or " if key == "results_dir" else ""
                raise ConfigError(
                    f"{key} {folder} is a file, not a folder; give a folder with "
                    f"{option}{key}: in {self.source}"
                )


# ${VAR}, ${VAR:-default}, or ${file:PATH} (a secret file, e.g. /run/secrets/name): resolved
# when the config is read, kept as written in what is stored.
_ENV_REF = re.compile(r"\$\{(?:file:([^}]+)|([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?)\}")


def redact(raw: Any) -> Any:
    """A config as written (or as stored by an older whbench), safe to store and show: ${VAR}
    and ${file:PATH} references stay references (their values are never read into it), the
    default of ${VAR:-default} is masked wherever it is written, and any value written in a
    setting typed Secret is masked, whatever its shape (text, a number, a mapping)."""
    raw = _mask_defaults(raw)
    engines = raw.get("engines") if isinstance(raw, dict) else None
    if not isinstance(engines, dict):
        return raw
    from harness.engines.credentials import secret_fields

    for name, section in engines.items():
        if name not in REGISTRY or not isinstance(section, dict):
            continue
        for key in secret_fields(engine_class(name).settings_class):
            value = section.get(key)
            if value is not None and not (isinstance(value, str) and _ENV_REF.fullmatch(value)):
                section[key] = "***"
    return raw


def load_config(path: Path | None) -> Config:
    """Read a config file (the bundled default when `path` is None) and check it."""
    path = Path(path) if path is not None else default_config_file()
    text = read_text(path, "config file", ConfigError, CONFIG_LIMIT)
    try:
        data = read_yaml(text)
    except YamlError as exc:
        what_to_do = exc.hint or "fix the syntax"
        raise ConfigError(f"{path}:{exc.where}: malformed YAML ({exc}); {what_to_do}") from None
    return parse_config(data if data is not None else {}, source=str(path), text=text)


def parse_config(data: Any, source: str = "<config>", text: str | None = None) -> Config:
    """Check `data` (a parsed config) and build its Config; `text`, the file it was read from,
    lets an error name the line of the key it is about."""
    origin = _Origin(source, text)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of settings")
    resolved = _resolve_env(data, origin, (), _Budget())
    engines_data = resolved.pop("engines", None)
    engines_data = {} if engines_data is None else engines_data
    checked = _build(Config, resolved, origin, ())
    engines = _parse_engines(engines_data, origin)
    return dataclasses.replace(checked, engines=engines, source=source, raw=data)


class _Origin:
    """Where a config came from, for messages: its name, and its text, in which the line of
    the key an error is about is looked up (only then: the parse cache keeps no positions)."""

    def __init__(self, name: str, text: str | None) -> None:
        self.name, self.text = name, text

    def error(self, keys: Keys, message: str) -> ConfigError:
        return ConfigError(f"{self.where(keys)}: {dotted(keys)}: {message}")

    def where(self, keys: Keys) -> str:
        line = self.line_of(keys)
        return f"{self.name}: line {line}" if line else self.name

    def line_of(self, keys: Keys) -> int | None:
        return key_line(self.text, keys) if self.text is not None else None


def _parse_engines(data: Any, origin: _Origin) -> EngineSections:
    if not isinstance(data, dict):
        raise origin.error(("engines",), "expected a mapping of engine name to settings")
    for name in data:
        if name not in REGISTRY:
            raise origin.error(("engines", str(name)), f"unknown engine{_suggest(name, REGISTRY)}")
    return EngineSections(data, origin)


class EngineSections(Mapping[str, "EngineSettings"]):
    """The configured engines' settings by name. The names are checked when the config is read;
    each section is checked against its engine's settings, and by the engine itself, when that
    engine is first used: checking it imports the engine's package, which a command touching
    no engine (`whbench results list`) should not pay for. `whbench validate` checks them all."""

    def __init__(self, sections: dict[str, Any], origin: _Origin | None) -> None:
        self._sections = sections
        self._origin = origin or _Origin("<defaults>", None)
        self._settings: dict[str, EngineSettings] = {}

    def __getitem__(self, name: str) -> EngineSettings:
        if name not in self._settings:
            section = self._sections[name]  # KeyError for an engine not configured
            engine = engine_class(name)
            keys: Keys = ("engines", name)
            settings = _build(engine.settings_class, section or {}, self._origin, keys)
            try:
                engine(settings)  # the engine's own checks of its settings (cheap: no connection)
            except ConfigError as exc:
                # The engine's message may quote a value it refused; one that came from a
                # reference is shown as that reference.
                message = scrub(str(exc))
                named = re.match(r"engines\.\w+\.(\w+)", message)
                where = self._origin.where((*keys, named.group(1)) if named else keys)
                raise ConfigError(f"{where}: {message}") from None
            self._settings[name] = settings
        return self._settings[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sections)

    def __len__(self) -> int:
        return len(self._sections)

    def __repr__(self) -> str:  # the names only: a section may hold secrets
        return f"EngineSections({list(self._sections)})"


class _Resolved(str):
    """Text that came from ${…} references, so a secret: `shown` is what a message may print
    in its place, the text as written with any default masked (`${DB_PASSWORD}`)."""

    shown: str


class _Budget:
    """What the references of one config have resolved to so far, in characters: a config of
    100,000 `${file:…}` references must not read gigabytes."""

    used = 0


def _resolve_env(value: Any, origin: _Origin, keys: Keys, budget: _Budget) -> Any:
    """`value` with every ${…} reference in its strings resolved (a new structure: what was
    read stays as written, for `raw`); the nesting is checked here, once, so that nothing
    after (the checks, redacted()) can recurse out of the stack."""
    if isinstance(value, (dict, list)) and len(keys) >= MAX_DEPTH:
        raise origin.error(keys, f"nested more than {MAX_DEPTH} levels deep; flatten it")
    if isinstance(value, dict):
        return {k: _resolve_env(v, origin, (*keys, str(k)), budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, origin, (*keys, i), budget) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match) -> str:
        secret_file, name, default = match.groups()
        if secret_file is not None:
            try:
                secret_path = Path(secret_file).expanduser()
            except RuntimeError:  # ~user of no such user
                raise origin.error(keys, f"secret file {secret_file} not found") from None
            try:
                text = read_text(secret_path, "secret file", ConfigError, SECRET_FILE_LIMIT)
            except ConfigError as exc:
                raise origin.error(keys, str(exc)) from None
            text = text.strip()
        elif name in os.environ:
            text = os.environ[name]
        elif default is not None:
            text = default
        else:
            raise origin.error(
                keys,
                f"environment variable {name} is not set; export it or write ${{{name}:-default}}",
            )
        budget.used += len(text)
        if budget.used > RESOLVED_LIMIT:
            raise origin.error(
                keys, f"the ${{…}} references resolve to more than {RESOLVED_LIMIT:,} characters"
            )
        register_secret(text, _mask_reference(match))
        return text

    text, count = _ENV_REF.subn(substitute, value)
    if not count:
        return value  # "${" that is no reference: plain text, as written
    resolved = _Resolved(text)
    resolved.shown = _ENV_REF.sub(_mask_reference, value)
    return resolved


def _mask_reference(match: re.Match) -> str:
    """A reference as it may be shown and stored: ${VAR:-default} loses its default."""
    secret_file, name, default = match.groups()
    return f"${{{name}:-***}}" if secret_file is None and default else match.group(0)


def _mask_defaults(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask_defaults(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_defaults(v) for v in value]
    if isinstance(value, str) and "${" in value:
        return _ENV_REF.sub(_mask_reference, value)
    return value


def _build(cls: type, data: Any, origin: _Origin, keys: Keys) -> Any:
    """Fill dataclass `cls` from a mapping, checking every key and type."""
    if not isinstance(data, dict):
        if not keys:
            raise ConfigError(f"{origin.name}: top level: expected a mapping")
        raise origin.error(keys, f"expected a mapping, got {_kind(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in ("source", "raw")}
    hints = typing.get_type_hints(cls, include_extras=True)
    values = {}
    for key, value in data.items():
        if key not in fields:
            raise origin.error((*keys, str(key)), f"unknown key{_suggest(key, fields)}")
        values[key] = _convert(hints[key], value, origin, (*keys, key))
    return cls(**values)


def _convert(hint: Any, value: Any, origin: _Origin, keys: Keys, limit: Range | None = None) -> Any:
    """`value` as type `hint`, or a ConfigError that shows no secret: a value that came from a
    reference is named by that reference, a Secret-typed setting's value is never shown."""
    origin_type, args = typing.get_origin(hint), typing.get_args(hint)
    if origin_type is Annotated:
        ranges = [a for a in hint.__metadata__ if isinstance(a, Range)]
        return _convert(args[0], value, origin, keys, ranges[0] if ranges else limit)
    if origin_type in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, origin, keys, limit)
    if origin_type is list:
        if not isinstance(value, list):
            raise origin.error(keys, f"expected a list, got {_described(value)}")
        return [_convert(args[0], v, origin, (*keys, i)) for i, v in enumerate(value)]
    if origin_type is dict:
        if not isinstance(value, dict):
            raise origin.error(keys, f"expected a mapping, got {_described(value)}")
        return {
            str(k): _convert(args[1], v if v is not None else {}, origin, (*keys, str(k)))
            for k, v in value.items()
        }
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, origin, keys)
    if hint is Any:
        return value
    if hint in (int, float):
        return _to_number(hint, value, origin, keys, limit)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, _Resolved) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"  # values from ${ENV} arrive as text
    if hint is Path or (isinstance(hint, type) and issubclass(hint, str)):  # str, Path, Secret
        secret = hint not in (str, Path) and _is_secret(hint)
        if secret and not (isinstance(value, _Resolved) and _ENV_REF.fullmatch(value.shown)):
            # Written into the file, a secret is in every copy of it (a repository, a ticket,
            # a screen share): only a reference, the whole value, keeps it out. Whatever was
            # written is not shown.
            variable = "_".join(str(key) for key in keys[1:]).upper()
            raise origin.error(
                keys,
                f"a secret may not be written into the config; write ${{{variable}}} (an "
                "environment variable) or ${file:PATH} (a secrets file) instead; its value is "
                "not shown",
            )
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            text = str(value)
            if secret:
                register_secret(text)
            return hint(text)
    name = getattr(hint, "__name__", str(hint))
    raise origin.error(keys, f"expected {name}, got {_described(value)}")


def _to_number(hint: type, value: Any, origin: _Origin, keys: Keys, limit: Range | None) -> Any:
    """An int or float setting: a number (or the text of one, from a reference), finite, whole
    for an int, and within `limit` (an int also within 64 bits)."""
    original, shown = value, _described(value, kind=False)
    if isinstance(value, str):
        try:
            value = int(value) if hint is int else float(value)
        except ValueError:
            if hint is int:
                with contextlib.suppress(ValueError):
                    value = float(value)  # "3.0": a whole number all the same
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise origin.error(keys, f"expected {hint.__name__}, got {_described(original)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise origin.error(keys, f"must be a finite number, got {shown}")
    if hint is int and isinstance(value, float):
        if not value.is_integer():
            raise origin.error(keys, f"expected a whole number, got {shown}")
        value = int(value)
    for bound in (limit, INT64 if hint is int else None):
        problem = bound.problem(value) if bound is not None else None
        if problem:
            raise origin.error(keys, f"{problem} (got {shown})")
    if hint is float:
        try:
            return float(value)
        except OverflowError:  # an int past 1e308 and no Range to stop it sooner
            raise origin.error(keys, f"must be a finite number, got {shown}") from None
    return value


def _is_secret(hint: type) -> bool:
    from harness.engines.credentials import Secret  # only engine settings have Secret fields

    return issubclass(hint, Secret)


def _described(value: Any, kind: bool = True) -> str:
    """`value` as a message may show it: a container by its kind only (it may hold a value
    from a reference), a value from a reference by that reference, other text cut short."""
    if isinstance(value, _Resolved):
        return f"{value.shown} (its value is not shown)"
    if isinstance(value, (dict, list)) or value is None:
        return _kind(value)
    text = _short(value)
    return f"{_kind(value)} {text}" if kind else text


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)  # repr: one line, whatever the value holds
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def _suggest(word: Any, choices: typing.Iterable[str]) -> str:
    import difflib  # only on a mistake: an import every command would pay otherwise

    word = str(word)
    close = difflib.get_close_matches(word, list(choices), n=1) if len(word) <= 60 else []
    return f", did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(choices))}"
