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

The sandbox is what holds: no word is blocklisted.

harness.workloads.Renderer is the one user: `environment()` makes its Jinja environment,
`guard()` runs each Jinja step within the time limit and turns any failure into one line naming
the template file and line, and `render()` streams a template's output within the cap.
"""

from __future__ import annotations

import collections.abc
import contextlib
import functools
import itertools
import math
import os
import re
import shutil
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from stat import S_ISREG
from typing import Any, TypeVar

from harness.errors import TemplateError, first_line
from harness.paths import cache_dir
from harness.settings import TemplateLimits

T = TypeVar("T")

CACHE_ENTRY_BYTES = 2**20  # a compiled template above this is compiled again each time instead
CACHE_TOTAL_BYTES = 64 * 2**20  # the oldest entries go when the folder holds more than this
# Jinja keys cache entries on template and source, not on Environment options: a change of
# options (trim_blocks, the sandbox, intercepted operators, finalize, the code generator …)
# needs a new folder name here. v1 was the unsandboxed environment.
CACHE_FOLDER = "templates-v2"
# Integers that products and powers may reach, in bits (Python prints at most 4,300 digits):
# multiplying numbers this size is instant, and bigger ones are how `10**10**10` hangs.
_MAX_INT_BITS = 100_000
# Filters whose extra arguments are values rather than sizes, so a large number there is data.
_VALUE_FILTERS = frozenset(
    {
        "default",
        "d",
        "format",
        "int",
        "float",
        "attr",
        "map",
        "select",
        "reject",
        "selectattr",
        "rejectattr",
        "sum",
        "min",
        "max",
        "replace",
    }
)
# Filters and str methods whose output can be their input times an argument: its strings, and
# (True) its numbers too (`indent(1000)` adds 1,000 characters to every line).
_MULTIPLYING = {
    "replace": False,
    "join": False,
    "wordwrap": False,
    "indent": True,
    "tojson": True,
    "expandtabs": True,
}
# printf-style and str.format width and precision fields.
_PRINTF_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d+|\*)?(?:\.(\d+|\*))?")
_FORMAT_SPEC = re.compile(r"{[^{}]*:([^{}]*)([{}])")


_FIX = "fix the template"
_RAISE_OUTPUT = "fix the template, or raise templates.output_mb in the config if it is meant"


class _Refused(Exception):
    """A template went past a limit or out of bounds; the message says which, and the
    renderer adds the file and line."""


class _OutOfTime(BaseException):
    """Raised in the rendering thread by the watchdog. A BaseException, so that no `except
    Exception` in a filter or in Jinja itself (constant folding catches Exception) swallows it."""


class _Watchdog:
    """One daemon thread for the process, raising _OutOfTime in a thread whose render passed its
    deadline. A thread per render would cost about 0.1 ms each (TPC-H renders 30 templates per
    dialect); arming and disarming here is a lock and a dictionary entry.

    A finished render must never get a late exception: the watchdog raises only while the render
    is armed, under the lock, and disarming (under the same lock) withdraws an exception that was
    raised but not yet delivered. An exception delivered while disarming is still inside the
    render's `try`, so it is reported as the timeout it is."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._armed: dict[int, list[Any]] = {}  # token -> [deadline, thread id, fired]
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None
        self._wake_at = math.inf

    def arm(self, seconds: float) -> int:
        # An infinite (or NaN) limit is no limit: the render is watched by nothing.
        deadline = time.monotonic() + seconds if seconds < math.inf else math.inf
        with self._lock:
            token = next(self._tokens)
            self._armed[token] = [deadline, threading.get_ident(), False]
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="whbench-render-watchdog")
                self._thread.daemon = True
                self._thread.start()
            elif deadline < self._wake_at:  # only then: waking the thread costs a switch
                self._lock.notify()
        return token

    def disarm(self, token: int) -> None:
        """Idempotent: the caller repeats it if a timeout cut it short (see guard())."""
        with self._lock:
            entry = self._armed.pop(token, None)
            if entry is not None and entry[2]:  # raised, maybe not yet delivered: withdraw it
                _async_raise(entry[1], None)

    def _watch(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                for entry in self._armed.values():
                    if entry[0] <= now:
                        # Raised again a second later while still armed, in case the first one
                        # landed in code that swallowed it (a bare `except:`).
                        entry[0], entry[2] = now + 1.0, True
                        _async_raise(entry[1], _OutOfTime)
                self._wake_at = min((entry[0] for entry in self._armed.values()), default=math.inf)
                self._lock.wait(None if self._wake_at == math.inf else self._wake_at - now)


def _async_raise(thread: int, exception: type[BaseException] | None) -> None:
    """Raise `exception` in `thread` when it next runs Python code; None withdraws one that is
    pending. ctypes is imported only here, when a render runs out of time."""
    import ctypes

    target = ctypes.c_ulong(thread)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        target, None if exception is None else ctypes.py_object(exception)
    )


_WATCHDOG = _Watchdog()


_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = (list, tuple, set, frozenset, dict)


def _size(value: Any, budget: int, depth: int = 0) -> int:
    """About how many characters `value` becomes as text: a string its length, a container its
    items' sizes plus one per item (so a list of empty strings still counts). Counting stops once
    over `budget`, so a list holding itself a million times over costs little to measure."""
    kind = type(value)
    if kind is str:
        return len(value)
    if kind is int:
        return value.bit_length() // 3 + 1
    if kind is range:
        return len(value) * 7
    if isinstance(value, _CONTAINERS):
        items = itertools.chain.from_iterable(value.items()) if kind is dict else value
        total = len(value)
        if depth < 20:
            for item in items:
                total += _size(item, budget - total, depth + 1)
                if total > budget:
                    break
        return total
    if isinstance(value, str):  # Markup and other str subclasses
        return len(value)
    return 1


def _widths(text: str, printf: bool) -> list[int | None]:
    """The widths and precisions in a format string (None for one taken from the arguments)."""
    if printf:
        found = [group for match in _PRINTF_FIELD.finditer(text) for group in match.groups()]
    else:  # a spec that opens a brace (`{:>{}}`) takes its width from the arguments
        found = []
        for spec, end in _FORMAT_SPEC.findall(text):
            found += [*re.findall(r"\d+", spec), *(["{"] if end == "{" else [])]
    return [None if w in ("*", "{") else int(w) for w in found if w]


class _Guard:
    """The size checks, for one output limit (in characters). One per limit in the process,
    with the filters wrapped once: wrapping Jinja's 50 filters per Renderer would cost more
    than rendering a query."""

    def __init__(self, limit: int, loop_type: type) -> None:
        self.limit = limit
        self.loop_type = loop_type  # Jinja's LoopContext: an iterator that must stay one

    def over(self, size: int, what: str) -> _Refused:
        return _Refused(
            f"{what} would be about {size:,} characters, over the output limit of "
            f"{self.limit / 2**20:g} MB; {_RAISE_OUTPUT}"
        )

    def check(self, value: Any, what: str) -> Any:
        """`value`, if it is within the limit."""
        if type(value) in _SCALARS:
            if type(value) is str and len(value) > self.limit:
                raise self.over(len(value), what)
            return value
        if (size := _size(value, self.limit)) > self.limit:
            raise self.over(size, what)
        return value

    def materialised(self, value: Any) -> Any:
        """A generator's items as a list, so they can be measured before a filter joins them."""
        if type(value) in _SCALARS or isinstance(value, _CONTAINERS):
            return value
        if isinstance(value, collections.abc.Iterator) and not isinstance(value, self.loop_type):
            return list(value)
        return value

    def binop(self, operator: str, left: Any, right: Any) -> None:
        """Refuses `'x' * 10**9`, `10 ** 10**10`, `'%999999999d' % 1` before they allocate."""
        if operator == "*":
            if type(left) is int and type(right) is not int:
                left, right = right, left
            if type(right) is not int:
                return
            if type(left) is int:
                if left.bit_length() + right.bit_length() > _MAX_INT_BITS:
                    raise _Refused(f"a product of numbers too large to compute; {_FIX}")
            elif (
                isinstance(left, (str, list, tuple))
                and (size := _size(left, self.limit) * max(right, 0)) > self.limit
            ):
                raise self.over(size, "a `*` repetition")
        elif operator == "**":
            if (
                type(left) is int
                and type(right) is int
                and abs(left) > 1
                and left.bit_length() * right > _MAX_INT_BITS
            ):
                raise _Refused(f"a power of numbers too large to compute; {_FIX}")
        elif operator == "%" and isinstance(left, str):
            self.format_args(left, right if isinstance(right, tuple) else (right,), True)

    def format_args(self, text: str, args: Any, printf: bool) -> None:
        """Refuses a format string whose widths (`%999999999d`, `{:>999999999}`) or arguments
        would make it too long."""
        given = list(args.values()) if isinstance(args, dict) else list(args)
        widths = _widths(text, printf)
        if None in widths:  # `%*d`, `{:{}}`: the widths are among the arguments
            widths += [a for a in given if type(a) is int]
        size = len(text) + sum(_size(a, self.limit) for a in given)
        size += max((w for w in widths if w is not None), default=0)
        if size > self.limit:
            raise self.over(size, "a formatted string")

    def arguments(
        self,
        what: str,
        value: Any,
        args: Any,
        kwargs: dict[str, Any],
        sizes: bool,
        multiplies: bool | None,
    ) -> None:
        """Refuses a size argument past the limit (`center(10**9)`), and an operation that
        multiplies (`replace`, `join`, `indent` …) whose result could pass it. `multiplies`:
        None, it does not; False, by its string arguments; True, by its numbers too."""
        factor = 1
        for arg in itertools.chain(args, kwargs.values()):
            if type(arg) is int:
                if sizes and abs(arg) > self.limit:
                    raise _Refused(
                        f"{what} was given {arg:,}, over the output limit of "
                        f"{self.limit / 2**20:g} MB; {_RAISE_OUTPUT}"
                    )
                if multiplies:
                    factor += max(arg, 0)
            elif multiplies is not None:
                factor += _size(arg, self.limit)
        if (
            multiplies is not None
            and factor > 1
            and (size := (_size(value, self.limit) + 1) * factor) > self.limit
        ):
            raise self.over(size, f"{what}'s result")

    def filter(self, name: str, func: Any) -> Any:
        """`func` with its arguments and result checked."""
        skip = 1 if getattr(func, "jinja_pass_arg", None) else 0  # context/environment first
        sizes = name not in _VALUE_FILTERS
        multiplies = _MULTIPLYING.get(name)
        formats = name == "format"
        what = f"the {name} filter"

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if len(args) > skip:
                value = self.materialised(args[skip])
                if value is not args[skip]:
                    args = (*args[:skip], value, *args[skip + 1 :])
                if formats and isinstance(value, str):
                    self.format_args(value, args[skip + 1 :] or kwargs, True)
                if len(args) > skip + 1 or kwargs:
                    self.arguments(what, value, args[skip + 1 :], kwargs, sizes, multiplies)
            return self.check(func(*args, **kwargs), f"{what}'s result")

        return guarded


_GUARDS: dict[int, tuple[_Guard, dict[str, Any]]] = {}
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
                guard = _Guard(limit, jinja2.runtime.LoopContext)
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
            multiplies = _MULTIPLYING.get(name) if owner is not None else None
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
                raise _Refused(
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
                    raise _Refused(
                        f"template {template!r} is a link to {real}, outside the workload's "
                        "folder and workloads/_shared; copy the file in instead"
                    )
                if not S_ISREG(stat.st_mode):
                    raise _Refused(f"template {template!r} is not a regular file; make it one")
                if stat.st_size > self.max_bytes:
                    raise _Refused(
                        f"template {template!r} is {stat.st_size:,} bytes, over the output "
                        f"limit of {self.max_bytes / 2**20:g} MB; {_RAISE_OUTPUT}"
                    )
                try:
                    with open(filename, encoding="utf-8") as file:
                        source = file.read()
                except UnicodeDecodeError:
                    raise _Refused(
                        f"template {template!r} is not UTF-8 text; save it as UTF-8"
                    ) from None
                return source, os.path.normpath(filename), lambda: True
            raise jinja2.TemplateNotFound(template)

    _CLASSES = (Sandbox, Loader)
    return _CLASSES


def _template_cache() -> Any:
    """Compiled templates on disk, keyed by file and source checksum, so a run does not pay
    for compiling every template again (about 0.1 s for TPC-H). Bounded: an entry over
    CACHE_ENTRY_BYTES is not written, and after a write the oldest entries go while the folder
    holds over CACHE_TOTAL_BYTES. A cache that cannot be written is only slower; None when there
    is nowhere to keep one."""
    import jinja2

    class TemplateCache(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with contextlib.suppress(OSError):
                if os.stat(self._get_cache_filename(bucket)).st_size <= CACHE_ENTRY_BYTES:
                    super().load_bytecode(bucket)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            data = bucket.bytecode_to_string()
            if len(data) > CACHE_ENTRY_BYTES:
                return
            name = self._get_cache_filename(bucket)
            partial = f"{name}.{os.getpid()}.partial"
            try:
                with open(partial, "wb") as file:
                    file.write(data)
                os.replace(partial, name)  # whole or not at all, for a reader in another process
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(partial)
                return
            global _WRITTEN
            _WRITTEN += len(data)
            if _WRITTEN >= 0:  # the first write of the process, then every eighth of the total
                _WRITTEN = -CACHE_TOTAL_BYTES // 8
                _prune(Path(self.directory))

    directory = cache_dir() / CACHE_FOLDER
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return TemplateCache(str(directory))


_WRITTEN = 0  # bytes this process wrote to the template cache since it last pruned it, less 1/8


def _prune(directory: Path, total: int = CACHE_TOTAL_BYTES) -> None:
    """The oldest entries removed until the folder holds at most three quarters of `total`
    (so a full folder is not pruned on every write), and earlier versions' folders removed."""
    entries = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            with contextlib.suppress(OSError):
                stat = entry.stat(follow_symlinks=False)
                entries.append((stat.st_mtime, stat.st_size, entry.path))
    held = sum(size for _, size, _ in entries)
    if held > total:
        for _, size, path in sorted(entries):
            with contextlib.suppress(OSError):
                os.unlink(path)
                held -= size
            if held <= total * 3 // 4:
                break
    for old in directory.parent.glob("templates-v*"):
        if old.name != directory.name and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


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
        bytecode_cache=_template_cache(),
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
                f"{where}: the output passed {limits.output_mb:g} MB "
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

    token = _WATCHDOG.arm(limits.seconds)
    try:
        try:
            return action()
        finally:
            _WATCHDOG.disarm(token)
    except _OutOfTime as exc:
        # The timeout may have landed inside disarm(), before it took the render off the
        # watch: disarm until it has, or the watchdog would raise again later, elsewhere.
        while True:
            try:
                _WATCHDOG.disarm(token)
                break
            except _OutOfTime:
                continue
        raise TemplateError(
            f"{_template_frame(exc, name)}: rendering took over {limits.seconds:g} s "
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
    except _Refused as exc:
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
