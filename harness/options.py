"""The options commands share, declared once: --config, --results-dir and --debug on every
command (`common`); engines, workloads, scale and queries (`selection`); and the small pieces
(`option`, a command with an example in its help, the exit code of a failed check)."""

from __future__ import annotations

import dataclasses
import functools
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

PATH = click.Path(path_type=Path)


@dataclasses.dataclass
class Invocation:
    """What one `whbench` invocation decided, for the error handler that ends it: the entry
    point makes one and hands it to Click (`cli.main(obj=Invocation())`), the command's
    --debug fills it in, and the handler reads it once the command has failed. Passed down,
    not kept in a module, so two invocations in one process (tests) never see each other's."""

    debug: bool = False  # --debug: the whole traceback instead of one line


def option(flags: str, help: str, **kwargs: Any) -> Callable:
    """A click option from its flags and parameter name in one string: "--engine -e engines"."""
    return click.option(*flags.split(), help=help, **kwargs)


class Number(click.ParamType):
    """A number option, checked as the config checks the setting it stands for: finite (no
    `inf`, no `nan`: Click's own FloatRange lets `nan` through every bound), whole for an int,
    and within `limit`, the name of a Range in harness.config (`"SECONDS"`), so that a limit
    is written once for the config key and the option. harness.config is imported only when
    the option is given, and every command imports it anyway to read its config."""

    def __init__(self, kind: type[int] | type[float], limit: str) -> None:
        self.kind, self.limit = kind, limit
        self.name = "integer" if kind is int else "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.kind) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = self.kind(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a valid {self.name}", param, ctx)
        if isinstance(number, float) and not math.isfinite(number):
            self.fail(f"{value} is not a finite number", param, ctx)
        from harness import settings

        problem = getattr(settings, self.limit).problem(number)
        if problem:
            self.fail(f"{problem} (got {value})", param, ctx)
        return number


SCALE = option("--scale -s", "Scale (TPC-H: scale factor).", type=Number(float, "SCALE"))
PRICING = option("--pricing", "Your price catalog, over the bundled prices.", type=PATH)
COUNT = Number(int, "QUERIES")
RUNS = option("--runs -n", "Attempts per query (default 3).", type=Number(int, "RUNS"))
INTO = option("--into", "Folder to write it in (default: the first of workload_dirs).", type=PATH)
JSON = option("--json as_json", "Print as JSON.", is_flag=True)
RUN_IDS = click.argument("run_ids", nargs=-1)
FACTOR, FRACTION = Number(float, "FACTOR"), Number(float, "FRACTION")
HOURS = Number(float, "HOURS")
SECONDS = Number(float, "SECONDS")
DOLLARS = Number(float, "DOLLARS")
AMOUNT = Number(float, "AMOUNT")
WITH_PARAMETERS = {"ignore_unknown_options": True, "allow_extra_args": True}


def common(command: Callable) -> Callable:
    """--config, --results-dir and --debug on every command; the command gets the config."""

    @option("--config -c config_file", "Config file (default: configs/default.yaml).", type=PATH)
    @option("--results-dir", "Where the store, data and report go.", type=PATH)
    @option("--debug", "Show tracebacks instead of one-line errors.", is_flag=True)
    @functools.wraps(command)
    def wrapper(config_file: Path | None, results_dir: Path | None, debug: bool, **kwargs: Any):
        from harness.config import load_config

        # ensure_object: a caller that gave Click no Invocation (a test invoking `cli`) still
        # has one, so --debug never fails for want of a place to go.
        click.get_current_context().ensure_object(Invocation).debug = debug
        config = load_config(config_file)
        if results_dir is not None:
            config = dataclasses.replace(config, results_dir=results_dir)
        config.check_folders()  # a results folder that is a file: refused before any work
        return command(config, **kwargs)

    return wrapper


def selection(*, engines: bool = True, queries: bool = True) -> Callable:
    """-e, -w, --scale, -q and a workload's own parameters after them (`--gap-minutes 5`),
    handed to the command as one Selection."""

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from harness.commands.selection import Selection

            chosen = {key: kwargs.pop(key, ()) for key in ("engines", "workloads", "queries")}
            scale = kwargs.pop("scale")
            parameters = workload_parameters()
            kwargs["selection"] = Selection(**chosen, scale=scale, parameters=parameters)
            return command(*args, **kwargs)

        options = [option("--workload -w workloads", "Workload (repeatable).", multiple=True)]
        options.append(SCALE)
        if engines:
            options.insert(0, option("--engine -e engines", "Engine (repeatable).", multiple=True))
        if queries:
            options.append(option("--query -q queries", "Query id (repeatable).", multiple=True))
        return functools.reduce(lambda wrapped, add: add(wrapped), reversed(options), wrapper)

    return decorate


def workload_parameters() -> dict[str, str]:
    from harness.commands.selection import parse_parameters

    return parse_parameters(click.get_current_context().args)


def command(group: click.Group, example: str, parameters: bool = False, name: str | None = None):
    """A command of `group`, whose help ends with an example; `parameters`: it takes a
    workload's own parameters after its options."""
    return group.command(
        name,
        context_settings=WITH_PARAMETERS if parameters else None,
        epilog=f"\b\nExample: {example}",
    )


def failed(problem: bool) -> None:
    if problem:
        sys.exit(1)
