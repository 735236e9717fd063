"""The sandbox's size checks: nothing a template holds or makes grows past the output cap.

Every operator, filter and call that can multiply a string or a list (`*`, `**`, `%`, `+`, `~`,
`replace`, `join`, `center(10**9)` …) is checked before it allocates, and every value it makes
after. One SizeGuard per output limit; harness.sandbox's environment calls it.
"""

from __future__ import annotations

import collections.abc
import functools
import itertools
import re
from typing import Any

from harness import units

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
MULTIPLYING = {
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
RAISE_OUTPUT = "fix the template, or raise templates.output_mb in the config if it is meant"


class Refused(Exception):
    """A template went past a limit or out of bounds; the message says which, and the
    renderer adds the file and line."""


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


class SizeGuard:
    """The size checks, for one output limit (in characters). One per limit in the process,
    with the filters wrapped once: wrapping Jinja's 50 filters per Renderer would cost more
    than rendering a query."""

    def __init__(self, limit: int, loop_type: type) -> None:
        self.limit = limit
        self.loop_type = loop_type  # Jinja's LoopContext: an iterator that must stay one

    def over(self, size: int, what: str) -> Refused:
        return Refused(
            f"{what} would be about {size:,} characters, over the output limit of "
            f"{units.number(self.limit / 2**20)} MB; {RAISE_OUTPUT}"
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
                    raise Refused(f"a product of numbers too large to compute; {_FIX}")
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
                raise Refused(f"a power of numbers too large to compute; {_FIX}")
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
                    raise Refused(
                        f"{what} was given {arg:,}, over the output limit of "
                        f"{units.number(self.limit / 2**20)} MB; {RAISE_OUTPUT}"
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
        multiplies = MULTIPLYING.get(name)
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
