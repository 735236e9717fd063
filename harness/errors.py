"""The errors whbench reports to a user as one line, and the exit code each one carries."""

from __future__ import annotations

import re


class HarnessError(Exception):
    """A failure the user can act on: the message names the cause and what to do next."""

    exit_code = 1


class UsageError(HarnessError):
    """Bad input: a config file, a command-line argument, a workload or a template."""

    exit_code = 2


class ConfigError(UsageError):
    pass


class WorkloadError(UsageError):
    pass


class TemplateError(WorkloadError):
    pass


class EngineError(HarnessError):
    """An engine could not be reached, authenticated or used."""


class StoreError(HarnessError):
    """The results store could not be opened or written."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run, after the attempt in hand was stored and the run marked
    interrupted; names the run, so the message can say how to resume it."""

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id
        self.resume_command = f"whbench run --resume {run_id}"


# Every secret this process has read (a value resolved from a ${…} reference, or written in a
# setting typed Secret), with what to show in its place. Messages are built so as never to
# carry one; scrub() is the guard behind that, for what we do not build: a driver's error that
# quotes a setting, a traceback under --debug.
_SECRETS: dict[str, str] = {}
# Shorter values are taken out only where quoted ('abc'): a bare "4" from ${THREADS} would
# otherwise be cut out of every number in every message.
_SHORTEST_BARE = 4


def register_secret(value: str, shown: str = "***") -> None:
    """Remember `value` as a secret, shown as `shown` (its reference, or ***) if it ever
    reaches a message."""
    if value.strip():
        _SECRETS.setdefault(value, shown)


def scrub(text: str) -> str:
    """`text` with every registered secret replaced by what may be shown in its place: the
    value itself, quoted as repr() quotes it, and escaped as repr() escapes it."""
    if not _SECRETS:
        return text
    for value, shown in sorted(_SECRETS.items(), key=lambda item: -len(item[0])):
        quoted = repr(value)
        escaped = quoted[1:-1]
        text = text.replace(quoted, shown)
        if len(value) >= _SHORTEST_BARE:
            text = text.replace(value, shown)
            if escaped != value:
                text = text.replace(escaped, shown)
    return text


def lock_holder(exc: Exception) -> str | None:
    """For DuckDB's "Could not set lock" error, who holds the lock (" (PID n)" or ""), else None."""
    text = str(exc)
    if "Could not set lock" not in text:
        return None
    holder = re.search(r"PID (\d+)", text)
    return f" (PID {holder.group(1)})" if holder else ""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (drivers often add pages of detail), with any
    secret a driver quoted in it (a connection string, a setting) taken out: every engine error
    that reaches a note, a stored attempt or a message passes through here."""
    return scrub((str(exc).strip().splitlines() or [type(exc).__name__])[0])


def one_line(exc: BaseException) -> tuple[str, int]:
    """What the user is told about a failure that ends a command, and the exit code: Ctrl-C
    (130, with how to resume), bad arguments (Click's message, 2), a failure the user can act
    on (its exit code), anything else (1, as an internal error to report). One line, whatever
    the message held, and no secret in it."""
    message, code = _describe(exc)
    return scrub(re.sub(r"\s*[\r\n]+\s*", " ", message.strip())), code


def _describe(exc: BaseException) -> tuple[str, int]:
    import click

    if isinstance(exc, (KeyboardInterrupt, click.exceptions.Abort)):  # Click: Ctrl-C = Abort
        stop = exc.__cause__ if isinstance(exc, click.exceptions.Abort) else exc
        resume = getattr(stop, "resume_command", None)
        return (
            "interrupted: every finished attempt is in the results store; the run is marked "
            "interrupted" + (f"; to finish it: {resume}" if resume else ""),
            130,
        )
    if isinstance(exc, click.ClickException):
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f"; see '{exc.ctx.command_path} --help'"
        return f"error: {exc.format_message().rstrip('.')}{hint}", exc.exit_code
    if isinstance(exc, HarnessError):
        return f"error: {exc}", exc.exit_code
    return (
        f"internal error: {type(exc).__name__}: {first_line(exc)} (run again with --debug for "
        "the traceback, and please report it)",
        1,
    )
