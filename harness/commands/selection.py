"""What a user picks on the command line (engines, workloads, scale, queries, a workload's own
parameters), shared by run, load, estimate and generate, and planned into tasks once."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.config import Config
from harness.errors import UsageError
from harness.plan import LoadPlan, Task, plan


@dataclass(frozen=True)
class Selection:
    engines: tuple[str, ...] = ()  # empty: every configured engine
    workloads: tuple[str, ...] = ()  # empty: the config's workloads, else every one
    scale: float | None = None
    queries: tuple[str, ...] = ()
    parameters: dict[str, str] = field(default_factory=dict)  # a workload's own (--gap-minutes)

    def plan(self, config: Config, load: LoadPlan | None = None) -> list[Task]:
        return plan(
            config,
            list(self.engines) or None,
            list(self.workloads) or None,
            self.scale,
            list(self.queries) or None,
            self.parameters,
            load,
        )


def parse_parameters(args: list[str]) -> dict[str, str]:
    """A workload's own parameters as given after a command: `--gap-minutes 5` or
    `--gap-minutes=5` -> {"gap_minutes": "5"}; the workload rejects any it does not declare."""
    args = list(args)
    parameters = {}
    while args:
        token = args.pop(0)
        if not token.startswith("--"):
            raise UsageError(f"unexpected argument {token!r}; see --help")
        name, has_value, value = token[2:].partition("=")
        if not has_value:
            if not args or args[0].startswith("--"):
                raise UsageError(f"workload parameter {token} needs a value")
            value = args.pop(0)
        parameters[name.replace("-", "_")] = value
    return parameters
