"""Rendering untrusted templates: Jinja2's sandbox, bounded in time, output and reach.

A workload folder may come from someone else, so its templates are untrusted input. They render
in Jinja2's ImmutableSandboxedEnvironment (no attribute starting with _, no internal attribute of
functions, frames or types, no mutation of lists and dicts), and on top of it:

- sizes: every operator, filter and call that can multiply a string or a list (`*`, `**`,
  `%`, `+`, `~`, `replace`, `join`, `center(10**9)` …) is checked before it allocates, and
  every value it makes after: nothing a template holds grows past the output cap;
- output: a template's output is counted as it streams, and a macro's as it is joined;
- time: a watchdog thread raises an exception in the rendering thread past the time limit;
- reach: `include`, `import` and `extends` load only regular files under the workload's
  folder and workloads/_shared, after resolving links.

The sandbox is what holds: no word is blocklisted. Its parts: sizes.py (the size checks),
watchdog.py (the time limit) and cache.py (compiled templates kept on disk); this module puts
them together as a Jinja environment with its loader.

harness.workloads.Renderer is the one user: `environment()` makes its Jinja environment,
`guard()` runs each Jinja step within the time limit and turns any failure into one line naming
the template file and line, and `render()` streams a template's output within the cap.
"""

from __future__ import annotations

import math
import os
import types
from collections.abc import Callable
from pathlib import Path
from stat import S_ISREG
from typing import Any, TypeVar

from harness import units
from harness.errors import TemplateError, first_line
from harness.sandbox.cache import template_cache
from harness.sandbox.sizes import MULTIPLYING, RAISE_OUTPUT, Refused, SizeGuard
from harness.sandbox.watchdog import WATCHDOG, OutOfTime
from harness.settings import TemplateLimits

T = TypeVar("T")

_GUARDS: dict[int, tuple[SizeGuard, dict[str, Any]]] = {}
_CLASSES: tuple[type, type] | None = None


def _jinja_classes() -> tuple[type, type]:
    """The sandboxed Environment and the loader, defined on first use (Jinja is imported only
    to render)."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    import jinja2
    import jinja2.compiler
    import jinja2.runtime
    import jinja2.sandbox
    import jinja2.utils

    class CodeGenerator(jinja2.compiler.CodeGenerator):
        @jinja2.compiler.optimizeconst
        def visit_Concat(self, node: Any, frame: Any) -> None:
            # `a ~ b ~ …` joins its parts in one go: they are measured first (sized()).
            if frame.eval_ctx.volatile:
                join = "(markup_join if context.eval_ctx.volatile else str_join)"
            else:
                join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
            self.write(f"{join}(environment.sized((")
            for part in node.nodes:
                self.visit(part, frame)
                self.write(", ")
            self.write(")))")

    # Calls that build values from their arguments, where a large number is data.
    data_calls = {
        id(c)
        for c in (
            dict,
            jinja2.utils.Namespace,
            jinja2.utils.Cycler,
            jinja2.utils.Joiner,
            jinja2.sandbox.safe_range,  # the sandbox's own range: at most 100,000 items
        )
    }
    macro_type = jinja2.runtime.Macro

    class Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
        code_generator_class = CodeGenerator
        # Intercepting these also keeps Jinja from folding `'x' * 10**9` into a constant when it
        # compiles, which would put a 1 GB constant into the compiled-template cache.
        intercepted_binops = frozenset({"*", "**", "%", "+"})

        def __init__(self, limit: int, plain_types: frozenset[type], **options: Any) -> None:
            super().__init__(finalize=self.finalized, **options)
            self.plain_types = plain_types
            if limit not in _GUARDS:
                guard = SizeGuard(limit, jinja2.runtime.LoopContext)
                _GUARDS[limit] = guard, {n: guard.filter(n, f) for n, f in self.filters.items()}
            self.guard, filters = _GUARDS[limit]
            self.filters = dict(filters)

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            # The sandbox's own rule, answered at once for what templates read most (a table's
            # columns, a column's name, str methods): an immutable type with no internal
            # attributes, where only a name starting with _ is unsafe.
            if type(obj) in self.plain_types:
                return not attr.startswith("_")
            return super().is_safe_attribute(obj, attr, value)

        def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
            # Refused at once, rather than as an undefined value that fails only when used:
            # `cycler|attr('__init__')|attr('__globals__')` would otherwise end as a puzzling
            # "undefined" error about the last step, not the unsafe first one.
            raise jinja2.sandbox.SecurityError(
                f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
            )

        def finalized(self, value: Any) -> Any:
            """Every `{{ … }}` value, before it becomes text."""
            return value if type(value) is str else self.guard.check(value, "a printed value")

        def sized(self, parts: tuple[Any, ...]) -> tuple[Any, ...]:
            return self.guard.check(parts, "a `~` concatenation")

        def concat(self, parts: Any) -> str:  # type: ignore[override]
            """Joins a macro's, a call block's or a `{% set %}` block's output."""
            parts = parts if type(parts) is list else list(parts)
            if (size := sum(map(len, parts))) > self.guard.limit:
                raise self.guard.over(size, "a macro's or block's output")
            return "".join(parts)

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            self.guard.binop(operator, left, right)
            return self.guard.check(
                self.binop_table[operator](left, right), f"the {operator} result"
            )

        def wrap_str_format(self, value: Any) -> Any:
            wrapper = super().wrap_str_format(value)
            if wrapper is None:
                return None
            text, guard = value.__self__, self.guard

            def checked(*args: Any, **kwargs: Any) -> str:
                given = [*args, *kwargs.values()]
                if value.__name__ == "format_map" and args and isinstance(args[0], dict):
                    given = [*args[0].values()]
                guard.format_args(text, given, False)
                return guard.check(wrapper(*args, **kwargs), "a formatted string")

            checked.whbench_checked = True  # type: ignore[attr-defined]  # numbers are data here
            return checked

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            guard = __self.guard
            if type(__obj) is macro_type or getattr(__obj, "whbench_macro", False):
                # A macro's output is bounded where it is joined; its arguments are measured.
                for arg in args:
                    if type(arg) is not str or len(arg) > guard.limit:
                        guard.check(arg, "a macro argument")
                for arg in kwargs.values():
                    guard.check(arg, "a macro argument")
                return super().call(__context, __obj, *args, **kwargs)
            if id(__obj) in data_calls or getattr(__obj, "whbench_checked", False):
                return guard.check(super().call(__context, __obj, *args, **kwargs), "a value")
            args = tuple(guard.materialised(a) for a in args)
            name = getattr(__obj, "__name__", "a function")
            owner = getattr(__obj, "__self__", None)
            if isinstance(owner, types.ModuleType):  # a builtin function, not a method
                owner = None
            multiplies = MULTIPLYING.get(name) if owner is not None else None
            guard.arguments(f"{name}()", owner, args, kwargs, True, multiplies)
            return guard.check(super().call(__context, __obj, *args, **kwargs), f"{name}()")

    class Loader(jinja2.BaseLoader):
        """Templates only from the workload's folder and workloads/_shared: a name that is
        absolute or has `..`, or a file that resolves (through links) outside them, is refused;
        so is anything but a regular UTF-8 file under the size limit (a FIFO would hang)."""

        def __init__(self, roots: list[Path], max_bytes: int) -> None:
            self.roots = [str(root) for root in roots]
            self.real_roots = tuple(os.path.realpath(root) + os.sep for root in roots)
            self.max_bytes = max_bytes
            self.real_folders: dict[str, str] = {}  # folder -> its real path

        def real_path(self, filename: str) -> str:
            """Where `filename` really is, resolving its folder once per Renderer."""
            folder, base = os.path.split(filename)
            if folder not in self.real_folders:
                self.real_folders[folder] = os.path.realpath(folder)
            real = os.path.join(self.real_folders[folder], base)
            return os.path.realpath(real) if os.path.islink(real) else real

        def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
            pieces = template.split("/")
            if (
                os.path.isabs(template)
                or "\\" in template
                or "\0" in template
                or any(p in ("", ".", "..") for p in pieces)
            ):
                raise Refused(
                    f"template name {template!r} reaches outside the workload; name a template "
                    "in the workload's folder or in workloads/_shared"
                )
            for root in self.roots:
                filename = os.path.join(root, *pieces)
                try:
                    stat = os.stat(filename)
                except OSError:
                    continue
                real = self.real_path(filename)
                if not real.startswith(self.real_roots):
                    raise Refused(
                        f"template {template!r} is a link to {real}, outside the workload's "
                        "folder and workloads/_shared; copy the file in instead"
                    )
                if not S_ISREG(stat.st_mode):
                    raise Refused(f"template {template!r} is not a regular file; make it one")
                if stat.st_size > self.max_bytes:
                    raise Refused(
                        f"template {template!r} is {stat.st_size:,} bytes, over the output "
                        f"limit of {units.number(self.max_bytes / 2**20)} MB; {RAISE_OUTPUT}"
                    )
                try:
                    with open(filename, encoding="utf-8") as file:
                        source = file.read()
                except UnicodeDecodeError:
                    raise Refused(
                        f"template {template!r} is not UTF-8 text; save it as UTF-8"
                    ) from None
                return source, os.path.normpath(filename), lambda: True
            raise jinja2.TemplateNotFound(template)

    _CLASSES = (Sandbox, Loader)
    return _CLASSES


def max_chars(limits: TemplateLimits) -> int:
    """The output cap in characters."""
    if not 0 < limits.output_mb < math.inf:
        raise TemplateError(
            f"templates.output_mb {limits.output_mb} must be a positive number of MB"
        )
    return max(1, int(limits.output_mb * 2**20))


def environment(
    search_path: list[Path], limits: TemplateLimits, plain_types: tuple[type, ...] = ()
) -> Any:
    """A sandboxed Jinja environment loading templates only from under `search_path`.
    `plain_types`: immutable types of the caller's whose public attributes templates read
    often (a table's columns), checked at once rather than by the sandbox's slower rule."""
    import jinja2

    sandbox, loader = _jinja_classes()
    cap = max_chars(limits)
    return sandbox(
        cap,
        frozenset({str, int, float, *plain_types}),
        loader=loader(search_path, cap),
        bytecode_cache=template_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        auto_reload=False,  # one Renderer renders each file once: no need to stat it again
    )


def render(template: Any, context: dict[str, Any], limits: TemplateLimits) -> str:
    """The template's output, counted as it streams and stopped once over the cap."""
    parts, size, cap = [], 0, max_chars(limits)
    stream = template.generate(context)
    for part in stream:
        size += len(part)
        if size > cap:
            where = _suspended_at(stream) or template.filename
            stream.close()
            raise TemplateError(
                f"{where}: the output passed {units.number(limits.output_mb)} MB "
                "(templates.output_mb in the config); fix the template, or raise the limit "
                "if it is meant"
            )
        parts.append(part)
    return "".join(parts)


def guard(name: str, dialect: str, limits: TemplateLimits, action: Callable[[], T]) -> T:
    """Run a Jinja action within the time limit, turning its errors into one line naming
    file, line and cause."""
    import jinja2
    import jinja2.sandbox

    token = WATCHDOG.arm(limits.seconds)
    try:
        try:
            return action()
        finally:
            WATCHDOG.disarm(token)
    except OutOfTime as exc:
        # The timeout may have landed inside disarm(), before it took the render off the
        # watch: disarm until it has, or the watchdog would raise again later, elsewhere.
        while True:
            try:
                WATCHDOG.disarm(token)
                break
            except OutOfTime:
                continue
        raise TemplateError(
            f"{_template_frame(exc, name)}: rendering took over {units.seconds(limits.seconds)} "
            "(templates.seconds in the config); fix the template, or raise the limit if it "
            "is meant"
        ) from None
    except TemplateError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or name}:{exc.lineno}"
        raise TemplateError(f"{where}: template syntax error: {exc.message}") from None
    except jinja2.sandbox.SecurityError as exc:
        raise TemplateError(
            f"{_template_frame(exc, name)}: refused by the template sandbox: "
            f"{str(exc.message).rstrip('.')}; "
            "a workload's templates cannot reach Python's internals"
        ) from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(
            f"{_template_frame(exc, name)}: {exc.message} when rendering for {dialect}; "
            "fix the template, or give the variable in the query's params in workload.yaml"
        ) from None
    except Refused as exc:
        raise TemplateError(f"{_template_frame(exc, name)}: {exc}") from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(
            f"{_template_frame(exc, name)}: template {exc.name!r} not found in the "
            "workload's folder or workloads/_shared; fix the name or create it"
        ) from None
    except RecursionError as exc:
        raise TemplateError(
            f"{_template_frame(exc, name)}: templates nest or recurse too deeply; fix the template"
        ) from None
    except (Exception, MemoryError) as exc:  # whatever a template's expression raised
        raise TemplateError(
            f"{_template_frame(exc, name)}: {type(exc).__name__}: {first_line(exc)} when "
            f"rendering for {dialect}; fix the template"
        ) from None


def _template_frame(exc: BaseException, fallback: str) -> str:
    """file:line of the innermost template frame in a traceback: a frame Jinja rewrote (named
    after the template file), or a frame of compiled template code, mapped to its line."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        found = _frame_location(tb.tb_frame, tb.tb_lineno) or found
        tb = tb.tb_next
    return found or fallback


def _frame_location(frame: Any, line: int) -> str | None:
    template = frame.f_globals.get("__jinja_template__")
    if template is not None:
        return f"{template.filename}:{template.get_corresponding_lineno(line)}"
    if frame.f_code.co_filename.endswith(".j2"):
        return f"{frame.f_code.co_filename}:{line}"
    return None


def _suspended_at(stream: Any) -> str | None:
    """file:line where a template's output generator is suspended (the innermost one)."""
    found = None
    while stream is not None and getattr(stream, "gi_frame", None) is not None:
        found = _frame_location(stream.gi_frame, stream.gi_frame.f_lineno) or found
        stream = stream.gi_yieldfrom
    return found
