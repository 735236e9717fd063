"""Where the bundled workloads and configs live (source checkout or wheel), and how YAML is read."""

from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """The bundled `workloads` or `configs` folder.

    A wheel carries them inside the package (`harness/_data/`); a source checkout or an editable
    install has them beside the package, at the top of the repository.
    """
    inside_wheel = _PACKAGE / "_data" / name
    if inside_wheel.is_dir():
        return inside_wheel
    return _PACKAGE.parent / name


def cache_dir() -> Path:
    """whbench's own cache folder (compiled templates, fetched objects): $XDG_CACHE_HOME/whbench,
    else ~/.cache/whbench. Nothing in it is needed: deleting it only makes the next run slower."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "whbench"


def default_config_file() -> Path:
    return bundled("configs") / "default.yaml"


def read_text(path: Path, what: str, error: type[Exception]) -> str:
    """A text file the user gave (config, price catalog, workload, secret), or one line naming
    why it cannot be read: missing, unreadable, or not text."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} {path} not found; give an existing file") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not a text file (not UTF-8); give a YAML file") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None


class YamlError(Exception):
    """Malformed YAML: what is wrong and, when the parser knows, where (1-based)."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None):
        super().__init__(problem)
        self.problem, self.line, self.column = problem, line, column

    @property
    def where(self) -> str:
        return f" line {self.line}, column {self.column}" if self.line else ""


def read_yaml(text: str) -> Any:
    """Parse YAML safely; raises YamlError with a position on bad input.

    What a text parses to is kept in the cache, keyed by the text's hash, so a command that
    reads only files it read before (the config, the workloads) never imports PyYAML: that
    import alone is 7 ms of every command's start. A text is always parsed the same way, so an
    entry can never be stale. Values marshal cannot write (a YAML date) are parsed each time.
    """
    digest = hashlib.sha256(text.encode()).hexdigest()
    cached = cache_dir() / f"yaml-{marshal.version}" / f"{digest}.marshal"
    try:
        return marshal.loads(cached.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        pass
    data = _parse_yaml(text)
    try:
        encoded = marshal.dumps(data)
        cached.parent.mkdir(parents=True, exist_ok=True)
        # Written whole, then renamed, so a reader never sees half an entry.
        partial = cached.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(encoded)
        os.replace(partial, cached)
    except (OSError, ValueError):
        pass  # a read-only home or an unmarshallable value: parse it again next time
    return data


def _parse_yaml(text: str) -> Any:
    import yaml

    # libyaml's parser when PyYAML was built with it: several times faster than pure Python.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if mark is None:
            raise YamlError(problem) from None
        raise YamlError(problem, mark.line + 1, mark.column + 1) from None
