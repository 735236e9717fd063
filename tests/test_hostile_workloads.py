"""A workload folder is data, not code: hostile templates through the real CLI.

Each row puts one template into a copy of TPC-H (query q05, the payload on line 2) and runs one
command on it. Every row must end with exit 2 and one line naming the template file and line,
no traceback; a row that tries to run a command must not have run it (its marker file is not
there). The sandbox is what holds: the payloads are of many shapes, not a list of words.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import assert_one_line_error

from harness.paths import bundled

MARKER = "PAYLOAD_RAN"  # a payload that runs code creates this file in the test's folder


@dataclass(frozen=True)
class Case:
    id: str
    template: str  # line 2 of q05.sql.j2; `{marker}` is the marker file's path
    expected: str  # in the one error line, after "q05.sql.j2:<line>: "
    command: str = "render"  # render, validate or run
    line: int = 2
    templates: dict | None = None  # the config's `templates:` limits
    setup: Callable[[Path], None] | None = None  # given the copy of TPC-H's folder


def _link_out(root: Path) -> None:
    (root / "queries" / "evil.sql.j2").symlink_to("/etc/passwd")


def _folder_out(root: Path) -> None:
    (root / "etc").symlink_to("/etc")


SANDBOX = "refused by the template sandbox"
OUTPUT = "over the output limit"
OUTSIDE = "reaches outside the workload"

CASES = [
    # -- code execution: every walk to Python's internals is refused, and nothing runs ---------
    Case(
        "globals via cycler",
        "{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}",
        SANDBOX,
    ),
    Case(
        "globals via cycler, validate",
        "{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}",
        SANDBOX,
        command="validate",
    ),
    Case(
        "globals via cycler, run",
        "{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}",
        SANDBOX,
        command="run",
    ),
    Case(
        "globals via joiner",
        "{{ joiner.__init__.__globals__['os'].system('touch {marker}') }}",
        SANDBOX,
    ),
    Case(
        "globals via lipsum",
        "{{ lipsum.__globals__['os'].popen('touch {marker}').read() }}",
        SANDBOX,
    ),
    Case(
        "globals via namespace",
        "{{ namespace.__init__.__globals__.os.popen('touch {marker}') }}",
        SANDBOX,
    ),
    Case(
        "globals via a macro dispatcher",
        "{{ ident.__globals__['os'].popen('touch {marker}') }}",
        SANDBOX,
    ),
    Case(
        "subclasses walk",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        SANDBOX,
    ),
    Case("mro", "{{ cycler.mro() }}", SANDBOX),
    Case("func_globals", "{{ cycler.__init__.func_globals }}", SANDBOX),
    Case(
        "format-string attribute walk",
        "{{ '{0.__init__.__globals__[os]}'.format(cycler) }}",
        SANDBOX,
    ),
    Case("format_map walk", "{{ '{x.__class__}'.format_map({'x': 1}) }}", SANDBOX),
    Case(
        "template reference context",
        "{{ self._TemplateReference__context.cycler.__init__.__globals__ }}",
        SANDBOX,
    ),
    Case(
        "getattr filter",
        "{{ (cycler|attr('__init__')|attr('__globals__'))['os'].popen('touch {marker}') }}",
        SANDBOX,
    ),
    Case("mutating a list", "{% set l = [1] %}{{ l.append(2) }}", SANDBOX),
    # -- time ----------------------------------------------------------------------------------
    Case(
        "range too big",
        "{% for i in range(10**15) %}{% endfor %}",
        "OverflowError: Range too big",
    ),
    Case(
        "nested loops for hours",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "rendering took over 1 s",
        command="run",
        templates={"seconds": 1},
    ),
    Case(
        "loops over a long string",
        "{% set s = 'x' * 100000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
        "rendering took over 1 s",
        templates={"seconds": 1},
    ),
    # -- memory and output: refused before it is allocated --------------------------------------
    Case(
        "string repetition",
        "{{ 'x' * 10**9 }}",
        f"a `*` repetition would be about 1,000,000,000 characters, {OUTPUT} of 16 MB",
    ),
    Case("constant repetition", "{{ 'x' * 1000000000 }}", "a `*` repetition"),
    Case("list repetition", "{{ [1, 2] * 1000000000 }}", "a `*` repetition"),
    Case("huge power", "{{ 10 ** 10000000 }}", "too large to compute"),
    Case("center", "{{ 'x'|center(10**9) }}", "the center filter was given 1,000,000,000"),
    Case("indent", "{{ 'x\\ny'|indent(1000000000) }}", "the indent filter was given"),
    Case("wordwrap", "{{ 'x y'|wordwrap(1000000000) }}", "the wordwrap filter was given"),
    Case("truncate", "{{ 'x'|truncate(1000000000) }}", "the truncate filter was given"),
    Case("str method", "{{ 'x'.ljust(1000000000) }}", "ljust() was given"),
    Case("printf width", "{{ '%0999999999d' % 1 }}", "a formatted string"),
    Case("format width", "{{ '{:>999999999}'.format(1) }}", "a formatted string"),
    Case("format filter width", "{{ '%999999999s'|format('x') }}", "a formatted string"),
    Case("lipsum", "{{ lipsum(1000000000) }}", "was given 1,000,000,000"),
    Case(
        "replace amplification",
        "{% set s = 'x' * 100000 %}{{ s|replace('x', s) }}",
        "the replace filter's result",
    ),
    Case(
        "join amplification",
        "{% set s = 'x' * 1000000 %}{{ range(100000)|join(s) }}",
        "the join filter's result",
    ),
    Case(
        "doubling in a namespace",
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "a `~` concatenation",
    ),
    Case(
        "doubling by recursion",
        "{% macro d(s, n) %}{{ d(s ~ s, n - 1) if n else s }}{% endmacro %}{{ d('x', 64) }}",
        "a `~` concatenation",
    ),
    Case(
        "output over the cap",
        "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
        "the output passed 1 MB",
        templates={"output_mb": 1},
    ),
    Case(
        "macro output over the cap",
        "{% macro m() %}{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}{% endmacro %}"
        "{{ m() }}",
        "a macro's or block's output",
        templates={"output_mb": 1},
    ),
    # -- reach: only the workload's folder and workloads/_shared --------------------------------
    Case("include an absolute path", "{% include '/etc/passwd' %}", OUTSIDE),
    Case("include with ..", "{% include '../../../../../../etc/passwd' %}", OUTSIDE),
    Case("import an absolute path", "{% import '/etc/passwd' as p %}", OUTSIDE, command="run"),
    Case("extends an absolute path", "{% extends '/etc/passwd' %}", OUTSIDE),
    Case(
        "include a link pointing outside",
        "{% include 'queries/evil.sql.j2' %}",
        "is a link to /etc/passwd, outside the workload's folder",
        setup=_link_out,
    ),
    Case(
        "include through a linked folder",
        "{% include 'etc/passwd' %}",
        "is a link to /etc/passwd",
        command="validate",
        setup=_folder_out,
    ),
    Case("include a missing file", "{% include 'nope.sql.j2' %}", "'nope.sql.j2' not found"),
    # -- any other error while rendering --------------------------------------------------------
    Case("division by zero", "{{ 1/0 }}", "ZeroDivisionError: division by zero"),
    Case("type error", "{{ 1 + 'a' }}", "TypeError: unsupported operand"),
    Case(
        "endless recursion",
        "{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}",
        "recurse too deeply",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_hostile_template_is_one_line_naming_file_and_line(whbench, make_config, workdir, case):
    root = workdir / "workloads"
    shutil.copytree(bundled("workloads") / "tpch", root / "tpch")
    marker = workdir / MARKER
    text = "select 1\n" + case.template.replace("{marker}", str(marker)) + "\n"
    (root / "tpch" / "queries" / "q05.sql.j2").write_text(text)
    if case.setup:
        case.setup(root / "tpch")
    overrides = {"workload_dirs": [str(root)]}
    if case.templates:
        overrides["templates"] = case.templates
    config = make_config(**overrides)
    args = {
        "render": ["render", "tpch", "q05", "--dialect", "duckdb"],
        "validate": ["validate"],
        "run": ["run", "-q", "q05", "--quiet"],
    }[case.command]
    # A cache of its own: hostile templates stay out of the home folder's cache.
    env = {"XDG_CACHE_HOME": str(workdir / "cache")}
    result = whbench(*args, "--config", config, env=env, timeout=120)
    assert_one_line_error(result, f"q05.sql.j2:{case.line}: ", case.expected, code=2)
    assert not marker.exists(), "the payload ran"
    assert not (workdir / "results" / "results.duckdb").exists()  # refused before any work
    # Nothing a template made got into the compiled-template cache past the entry limit.
    cached = [f.stat().st_size for f in (workdir / "cache").rglob("*") if f.is_file()]
    assert max(cached, default=0) <= 2**20


def test_the_compiled_template_cache_is_bounded(whbench, make_config, workdir):
    """A template whose compiled form is over 1 MB renders but is not cached; the folder is
    pruned, oldest first, once over its total; an earlier version's folder goes."""
    from harness.sandbox.cache import CACHE_FOLDER, CACHE_TOTAL_BYTES, prune

    root = workdir / "workloads"
    shutil.copytree(bundled("workloads") / "tpch", root / "tpch")
    big = "select '" + "x" * (3 * 2**20) + "' as big\n"  # a constant of 3 MB in the code
    (root / "tpch" / "queries" / "q05.sql.j2").write_text(big)
    cache = workdir / "cache"
    old = cache / "whbench" / "templates-v1"
    old.mkdir(parents=True)
    (old / "huge.cache").write_bytes(b"0" * 1000)
    config = make_config(workload_dirs=[str(root)])
    env = {"XDG_CACHE_HOME": str(cache)}
    result = whbench("render", "tpch", "q05", "--dialect", "duckdb", "--config", config, env=env)
    assert result.code == 0 and len(result.stdout) > 3 * 2**20
    folder = cache / "whbench" / CACHE_FOLDER
    sizes = [f.stat().st_size for f in folder.iterdir()]
    assert sizes and max(sizes) <= 2**20  # the others cached, the big one not
    assert not old.exists()

    for number in range(10):  # 10 entries of an eighth of the total, oldest first
        entry = folder / f"entry{number}.cache"
        entry.write_bytes(b"0" * (CACHE_TOTAL_BYTES // 8))
        os.utime(entry, (1_600_000_000 + number, 1_600_000_000 + number))
    prune(folder)
    left = sorted(f.name for f in folder.iterdir() if f.name.startswith("entry"))
    assert sum(f.stat().st_size for f in folder.iterdir()) <= CACHE_TOTAL_BYTES
    assert left == [f"entry{n}.cache" for n in range(10 - len(left), 10)]  # the newest kept


def test_a_finished_render_never_gets_a_late_timeout(tmp_path):
    """Renders that end right at their time limit: each either returns its SQL or is a
    timeout error, and no timeout arrives after the render has ended."""
    import time

    from harness.errors import TemplateError
    from harness.settings import TemplateLimits
    from harness.workloads import Renderer, read_workload

    root = tmp_path / "tpch"
    shutil.copytree(bundled("workloads") / "tpch", root)
    (root / "queries" / "q05.sql.j2").write_text(  # some 30 ms of pure-Python looping
        "{% for i in range(10) %}{% for j in range(100000) %}{% endfor %}{% endfor %}select 1"
    )
    renderer = Renderer(read_workload(root), "duckdb", 1.0)
    started = time.perf_counter()
    renderer.query("q05")
    took = time.perf_counter() - started
    renderer.limits = TemplateLimits(seconds=took)  # about as long as one render takes
    outcomes = set()
    for _ in range(40):
        try:
            outcomes.add(renderer.query("q05"))
        except TemplateError as exc:
            assert "rendering took over" in str(exc)
            outcomes.add("timeout")
        sum(range(2000))  # Python code between renders, where a late exception would land
    deadline = time.perf_counter() + 0.2
    while time.perf_counter() < deadline:
        sum(range(100))
    assert outcomes <= {"select 1", "timeout"}
