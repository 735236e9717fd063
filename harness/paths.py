"""Where the bundled workloads and configs live (source checkout or wheel), and how YAML is read."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it: several times faster than the pure-Python one.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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


def read_yaml(text: str) -> Any:
    """Parse YAML safely (raises yaml.YAMLError with a position on bad input)."""
    return yaml.load(text, Loader=_SafeLoader)
