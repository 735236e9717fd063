"""What there is, before anything runs: engines, the SQL a query renders to, and whether the
config and every workload are sound."""

from __future__ import annotations

from typing import Any

from harness.config import Config
from harness.engines import all_engines, dialects, driver_version, engine_class
from harness.errors import UsageError, WorkloadError
from harness.plan import plan
from harness.workloads import Renderer, discover, get_workload


def engines(config: Config) -> list[dict[str, Any]]:
    """Per engine: dialect, driver and whether it is installed, configured, how it signs in."""
    return [
        {
            "engine": name,
            "dialect": cls.dialect,
            "driver": cls.driver_package,
            "driver_version": driver_version(cls),
            "configured": name in config.engines,
            "auth": cls(config.engines[name]).auth_method() if name in config.engines else None,
            "install": f"pip install 'warehouse-bench[{cls.extra}]'" if cls.extra else None,
            "cost_basis": cls.cost_basis,
            "reports_engine_time": cls.reports_engine_time,
            "supports_dry_run": cls.supports_dry_run,
        }
        for name, cls in sorted(all_engines().items())
    ]


def render(
    config: Config,
    workload: str,
    query: str,
    engine: str | None = None,
    dialect: str | None = None,
    scale: float | None = None,
    parameters: dict[str, str] | None = None,
) -> str:
    """Exactly the SQL an engine (or a dialect) receives for one query."""
    if not engine and not dialect:
        raise UsageError("say which SQL to render: --engine NAME or --dialect NAME")
    if dialect and dialect not in dialects():
        raise UsageError(f"unknown dialect {dialect!r}; known: {', '.join(dialects())}")
    spec = get_workload(workload, config.workload_dirs)
    chosen = spec.scale.check(scale if scale is not None else spec.scale.default, spec.name)
    target = dialect or engine_class(engine).dialect
    from harness.validate import syntax_error, translated_from

    # A syntax error in the user's file is named with the file and position, not as one more
    # dialect it "cannot be translated to"; the query's own dialect gets its text as written.
    if spec.dialect != target and translated_from(spec, spec.query(query).id, target):
        problem = syntax_error(spec, spec.query(query).id)
        if problem is not None:
            raise WorkloadError(f"workload {spec.name}: {problem}")
    return Renderer(spec, target, chosen, parameters, config.templates).query(query)


def validate(config: Config) -> dict[str, Any]:
    """The config's engines, workloads and scales checked, every workload rendered for every
    dialect and parsed with sqlglot; `problems` per workload."""
    from harness.validate import validate_workload

    plan(config)  # the config's engines, workloads and scales are all usable
    found = []
    for workload in discover(config.workload_dirs).values():
        checked = validate_workload(workload, config.templates)
        found.append(
            {
                "workload": workload.name,
                "written_in": workload.dialect,  # plain SQL translated from this dialect
                "statements": checked.statements,
                "problems": [vars(p) for p in checked.problems],
                "queries": {d: {"ok": ok, "of": of} for d, (ok, of) in checked.queries.items()},
                "untranslatable": checked.untranslatable,
            }
        )
    return {"config": config.source, "dialects": len(dialects()), "workloads": found}
