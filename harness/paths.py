"""Where the bundled workloads and configs live, in a source checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

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


def default_config_file() -> Path:
    return bundled("configs") / "default.yaml"
