"""The decision report, from a store filled by real runs (DuckDB, and Snowflake on fakesnow),
opened in a real headless Chromium: the headline matrix, the charts and the tables must be in
the rendered page, the filter script must have run, and the page must reach for no network."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import yaml
from conftest import WHBENCH, assert_one_line_error, fakesnow_settings

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The report, built once a session: tests/test_report_browser.py measures the same page.
_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="module")
def report(tmp_path_factory, data_dir, fakesnow_port) -> Path:
    return built_report(tmp_path_factory, data_dir, fakesnow_port)


def built_report(tmp_path_factory, data_dir: Path, fakesnow_port: int) -> Path:
    """A store with TPC-H at two scales (one of them run twice), events and text on DuckDB,
    and TPC-H and text on Snowflake (where two text queries fail), and TPC-H under load on both;
    the report of it. Made once per session, whichever module asks first."""
    if "report" not in _BUILT:
        _BUILT["report"] = _build_report(tmp_path_factory, data_dir, fakesnow_port)
    return _BUILT["report"]


def _build_report(tmp_path_factory, data_dir: Path, fakesnow_port: int) -> Path:
    root = tmp_path_factory.mktemp("report")
    snowflake = fakesnow_settings(fakesnow_port)
    config = root / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "runs": 3,
                "data_dir": str(data_dir),
                "results_dir": "results",
                "engines": {"duckdb": {"database": ":memory:"}, "snowflake": snowflake},
                "workloads": {
                    "tpch": {"scale": 0.01},
                    "events": {"scale": 25000, "options": {"days": 1}},
                    "text": {"scale": 3000},
                },
            }
        )
    )

    def whbench(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*WHBENCH, *args, "--config", str(config)], cwd=root, capture_output=True, text=True
        )

    whbench("run", "--quiet", "-e", "duckdb")
    whbench("run", "--quiet", "-e", "snowflake", "-w", "tpch", "-w", "text")
    whbench("run", "--quiet", "-e", "duckdb", "-w", "tpch")  # a second run: a trend
    whbench("run", "--quiet", "-e", "duckdb", "-w", "tpch", "--scale", "0.02")  # a second scale
    # Under load: all of TPC-H on DuckDB (with its power test), two queries on Snowflake.
    whbench("run", "--quiet", "-e", "duckdb", "-w", "tpch", "--streams", "1,2,4")
    load = ["-e", "snowflake", "-w", "tpch", "-q", "q01", "-q", "q06", "--streams", "1,2"]
    whbench("run", "--quiet", *load)
    result = whbench("report", "-o", "report.html")
    assert result.returncode == 0, result.stderr
    return root / "report.html"


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is missing: `make test` installs it (apt-get install chromium)")
    return subprocess.run(
        [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_report_renders_in_a_real_browser(report, tmp_path):
    url = report.resolve().as_uri()
    dom = chromium("--dump-dom", url, profile=tmp_path / "dom").stdout
    # The filter script ran: it shows its form, which the page hides from script-less readers.
    assert re.search(r'<form id="filters"(?![^>]*hidden)', dom)
    # The headline: a row per data type, a column per engine, verdicts in words with a margin.
    matrix = dom[dom.index('id="matrix"') : dom.index("</table>", dom.index('id="matrix"'))]
    for data_type in ("structured", "semi-structured", "unstructured"):
        assert f'data-type="{data_type}"' in matrix
    assert matrix.count('<th class="l" data-engine=') == 2
    # fakesnow's hot times are all left out (it cannot turn its result cache off): no figure.
    assert re.search(
        r"Fastest: duckdb \(relative hot time [\d.]+\) — the only engine with this figure; "
        r"unknown for snowflake",
        dom,
    )
    assert re.search(
        r"Cheapest: (duckdb|snowflake) \(run bill [^)]+\), [\d.]+× cheaper than \w+ "
        r"\(95% interval [\d.]+–[\d.]+×\)",
        dom,
    )
    assert "Cheapest:" in dom and "Best value:" in dom
    # Charts: relative cold and hot time, cost, time against cost, TPC-H against scale (time
    # and cost), TPC-H over time.
    assert dom.count('class="chart"') >= 7
    # A per-query table for each workload and scale, with answers checked and failures shown.
    assert dom.count('class="queries"') == 4
    assert '<span class="ok">✓</span>' in dom
    # ... each with ONE folded detail of every query, not a detail row under each query; the
    # legend names every mark, the baseline's unchecked answer included
    assert dom.count('<details class="detail">') == 4 and "in detail</summary>" not in dom
    assert '<dl class="legend" id="legend">' in dom and ">baseline</span>" in dom
    # runs: 3 leaves two hot attempts a query, which every table says once above itself
    assert "Every query here had at most 2 hot attempts timed" in dom
    assert dom.count("2 hot attempts</span>") == 1  # the legend's: no cell repeats it
    assert re.search(r'<span class="fail" title="[^"]*split_to_table[^"]*">error</span>', dom)
    # Every first run here was lukewarm (an in-memory DuckDB cannot be made cold, fakesnow
    # refuses to suspend): the headers and the methodology say so, and never "cold".
    assert "<b>duckdb</b>: lukewarm" in dom and "<b>snowflake</b>: lukewarm" in dom
    assert 'data-phase="first">lukewarm</th>' in dom and 'data-phase="first">cold' not in dom
    # fakesnow refuses to turn its result cache off: its hot times are left out, and said so.
    assert "left out of times and verdicts" in dom
    assert 'id="loads"' in dom and "lineitem" in dom
    # Provenance: a folded block per run (the newest of each engine, workload and scale, and
    # each one under load), its summary one line with engine, version, workload and scale,
    # where, when, status and bill.
    blocks = re.findall(r'<details class="run"[^>]*><summary>(.*?)</summary>', dom)
    assert len(blocks) == 8 and sum("tpch at scale 0.01 under load" in b for b in blocks) == 2
    assert any(
        re.search(r"<b>duckdb</b> v?[\d.]+ · tpch at scale 0\.01 · on this machine, in whbench's "
                  r"process · \d{4}-\d\d-\d\d \d\d:\d\d UTC · finished · run bill \$", b)
        for b in blocks
    )  # fmt: skip
    assert any("snowflake" in b and "a local endpoint (127.0.0.1:" in b for b in blocks)
    # Under load: a table of levels per engine, a verdict in words, TPC-H's metric labelled for
    # what it is not, and latency, throughput and cost charts against concurrency.
    under_load = dom[dom.index('id="load"') : dom.index('id="charts"')]
    assert under_load.count('<table class="load"') == 2
    assert re.search(r"duckdb held p95 under [\d.]+ m?s up to \d concurrent sessions?", under_load)
    assert "snowflake held p95 under" in under_load
    assert "Power@Size" in under_load and "not comparable to published TPC-H results" in under_load
    assert under_load.count('class="chart"') == 3  # one data type: p95, throughput, cost
    assert "SQL as each engine received it" in dom

    screenshot = tmp_path / "report.png"
    chromium(
        "--window-size=1400,3000", f"--screenshot={screenshot}", url, profile=tmp_path / "shot"
    )
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 50_000  # a page of tables and charts, not a blank one


def test_the_report_references_no_network_address(report, tmp_path):
    html = report.read_text()
    # Nothing the browser would fetch: no linked files, sources, CSS imports or URLs, and links
    # only within the page. (Text may mention a URL: an engine's message, a regex in the SQL.)
    assert not re.search(
        r"<(link|img|iframe|object|embed|base)\b|\bsrc=|srcset=|@import|url\(", html
    )
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', html))
    assert not re.search(r'http-equiv="?refresh', html, re.IGNORECASE)
    # And the proof: Chromium, sent through a proxy that records every host asked for, asks
    # for none but its own services; the same browser on a page with one image does ask.
    assert hosts_requested(report, tmp_path / "report") == set()
    probe = tmp_path / "probe.html"
    probe.write_text('<img src="http://whbench-probe.invalid/x.png">')
    assert hosts_requested(probe, tmp_path / "probe") == {"whbench-probe.invalid"}


# Chromium's own background services, which it calls whatever the page: not the report's doing.
BROWSER_SERVICES = re.compile(r"(^|\.)(google\.com|googleapis\.com|gstatic\.com)$")


def hosts_requested(page: Path, profile: Path) -> set[str]:
    """The hosts Chromium asks a recording proxy for while it loads `page`."""
    requests: list[bytes] = []
    with socket.socket() as proxy:
        proxy.bind(("127.0.0.1", 0))
        proxy.listen()
        proxy.settimeout(0.2)
        done = threading.Event()

        def record() -> None:
            while not done.is_set():
                try:
                    connection, _ = proxy.accept()
                except OSError:
                    continue
                with connection:
                    connection.settimeout(2)
                    requests.append(connection.recv(500))

        watcher = threading.Thread(target=record)
        watcher.start()
        try:
            chromium(
                f"--proxy-server=127.0.0.1:{proxy.getsockname()[1]}",
                "--dump-dom",
                page.resolve().as_uri(),
                profile=profile,
            )
        finally:
            done.set()
            watcher.join()
    hosts = set()
    for request in requests:
        match = re.match(rb"(?:CONNECT |[A-Z]+ \w+://)([^:/\s]+)", request)
        if match and not BROWSER_SERVICES.search(match.group(1).decode()):
            hosts.add(match.group(1).decode())
    return hosts


def test_report_with_a_run_where_every_query_failed(whbench, make_config, workdir):
    from test_cli_errors import broken_workload

    root = broken_workload(workdir, "q01", "SELECT no_such_column FROM lineitem")
    config = make_config(workload_dirs=[str(root)])
    whbench("run", "--config", config, "--quiet", "-q", "q01")
    result = whbench("report", "--config", config)
    assert result.code == 0, result.stderr
    html = (workdir / "results" / "report.html").read_text()
    assert "No engine answered any query of tpch at scale 0.01" in html
    # A workload nobody answered says nothing of the engines: no verdict row, no month, and no
    # empty section left standing in their place.
    assert 'id="choose"' not in html and 'id="month"' not in html
    # One engine: said once that there is nothing to compare, and no badge anywhere.
    assert html.count("there is nothing to compare it with") == 1
    assert 'class="badge' not in html
    # Only engines in whbench's own process: the report says what that comparison cannot tell.
    assert "Every engine here ran on this machine" in html and "process (duckdb)" in html


def test_a_store_of_runs_under_load_only_shows_no_empty_section(whbench, make_config, workdir):
    config = make_config()
    done = whbench("run", "--config", config, "--quiet", "-q", "q06", "--streams", "1,2")
    assert done.code == 0, done.stderr
    assert "duckdb held p95 under" in done.stdout  # the terminal ends with the load's verdict
    html = (workdir / "results" / "report.html").read_text()
    assert 'id="load"' in html and "duckdb held p95 under" in html
    # no matrix, no month, no charts of the matrix: headings over empty tables say nothing
    assert 'id="choose"' not in html and 'id="month"' not in html
    assert 'id="charts"' not in html and "<tbody></tbody>" not in html
    assert "tpch at scale 0.01 under load" in html  # its run's folded block


def test_report_says_when_there_is_nothing_to_report(whbench, make_config, workdir):
    config = make_config()
    assert whbench("validate", "--config", config).code == 0
    (workdir / "results").mkdir()
    from harness.store import open_store

    with open_store(workdir / "results" / "results.duckdb"):
        pass  # an empty store
    assert_one_line_error(whbench("report", "--config", config), "holds no run", code=2)
    assert_one_line_error(whbench("report", "nope", "--config", config), "no run 'nope'", code=2)


def test_scores_charge_a_failure_and_a_wrong_answer_the_time_limit(tmp_path):
    """The scoring rules on a store written directly: two engines, three queries; snowflake
    is twice as slow on q1, fails q2 and gives another answer to q3, which costs it the
    verdicts."""
    from datetime import UTC, datetime

    from harness.kept_answers import keep
    from harness.pricing import load_catalog
    from harness.report import model
    from harness.report.queries import SMALL_SECONDS as small
    from harness.store import Attempt, open_store

    timeout = 60.0
    with open_store(tmp_path / "r.duckdb") as store:
        for engine, times in (("duckdb", (1.0, 2.0, 3.0)), ("snowflake", (2.0, None, 3.0))):
            run_id = f"run-{engine}"
            store.start_run(
                run_id=run_id,
                engine=engine,
                workload="tpch",
                data_type="structured",
                scale=1.0,
                timeout_seconds=timeout,
                runs_per_query=2,
                checksum_decimals=2,
                # DuckDB is priced as the VM its threads and memory limit need (m6i.large here)
                engine_settings={"threads": 2, "memory_limit": "6 GiB"}
                if engine == "duckdb"
                else {},
                config={},
            )
            for n, seconds in enumerate(times, start=1):
                rows = [("other", 1.0)] if (engine, n) == ("snowflake", 3) else [(f"q{n}", 1.0)]
                for attempt in (1, 2):
                    store.record_attempt(
                        run_id,
                        Attempt(
                            f"q{n}",
                            attempt,
                            "lukewarm" if attempt == 1 else "hot",
                            "ok" if seconds else "error",
                            datetime.now(UTC),
                            client_seconds=seconds,
                            rows=1 if seconds else None,
                            error=None if seconds else "boom",
                            answer="unchecked" if seconds else None,
                        ),
                    )
                if seconds:
                    store.record_result(run_id, f"q{n}", 1, keep(rows, False, 2), "unchecked", None)
            store.finish_run(run_id, "finished")
        report = model.build(store, store.runs(["run-duckdb", "run-snowflake"]), load_catalog())
    (section,) = report.queries
    assert section.ratios["snowflake", "hot"] == pytest.approx(
        [
            (2 + small) / (1 + small),
            (timeout + small) / (2 + small),
            (timeout + small) / (3 + small),
        ]
    )
    assert section.ratios["duckdb", "hot"] == pytest.approx([1.0, 1.0, 1.0])
    cells = [section.cells[q, "snowflake"] for q in ("q1", "q2", "q3")]
    assert [c.agrees for c in cells] == [True, None, False]
    assert cells[2].wrong and cells[2].difference.against == "duckdb's answer"
    assert cells[2].difference.expected == [("q3", 1.0)]
    assert cells[2].difference.actual == [("other", 1.0)]
    assert section.first_kind("snowflake") == "lukewarm"
    (row,) = report.matrix.rows
    # snowflake's wrong answer takes it out of every ranking: duckdb is left as the only
    # engine with a figure, named for each verdict but with no margin to win a badge by
    assert [(m.winner, m.certainty) for m in row.margins] == [("duckdb", "only engine")] * 3
    assert row.cells["duckdb"].badges == [] and row.cells["snowflake"].badges == []
    assert "snowflake not ranked: 1 wrong answer" in row.verdicts[0]
    assert any("snowflake gave wrong answers to q3" in note for note in report.cannot_show)
    # A service among the engines: the report does not call the comparison a local one.
    assert not any("ran on this machine" in note for note in report.cannot_show)


def test_one_formatter_per_unit():
    """harness.units, the report's filters (and the console's): what a reader sees for a time,
    money, a size, a count, a ratio and any other figure; a dash (money: "unknown") where nothing
    was measured, never 0."""
    from harness import units

    assert [units.seconds(v) for v in (None, 0.000146, 0.0123, 0.5, 1.0, 12.345, 999.6, 3600)] == [
        "–",
        "0.146 ms",
        "12.3 ms",
        "500 ms",
        "1 s",
        "12.3 s",
        "1,000 s",
        "3,600 s",
    ]
    assert units.seconds(0.99996) == "1 s"  # rounds up to a second: never "1e+03 ms"
    money = (None, 0, 0.0000004, 0.000021, 0.000996, 0.0123, 0.37, 1234.5, -0.0021)
    assert [units.dollars(v) for v in money] == [
        "unknown",
        "$0",
        "< $0.000001",  # a millionth of a dollar: nothing a reader acts on
        "$0.000021",  # two significant digits, never 2.1e-05
        "$0.0010",  # rounded first, then two significant digits
        "$0.012",
        "$0.37",
        "$1,234.50",
        "-$0.0021",
    ]
    assert units.dollars_per_query(0.0012) == "$0.0012 ($1.20 per 1,000)"
    assert units.dollars_per_query(0.0000004) == "< $0.000001 ($0.00040 per 1,000)"
    assert [units.data_size(v) for v in (None, 512, 1536, 3 * 2**40, 2**52)] == [
        "–",
        "512 B",
        "1.5 KiB",
        "3.0 TiB",
        "4,096.0 TiB",
    ]
    assert [units.count(v) for v in (None, 0, 1234567)] == ["–", "0", "1,234,567"]
    assert units.factor(1.234) == "1.23×" and units.factor(None) == "–"
    assert [units.figure(v) for v in (None, 0.5, 8, 123.4, 1000, 9507.3)] == [
        "–",
        "0.5",
        "8",
        "123",
        "1,000",
        "9,507",
    ]
    assert units.scale(0.1) == "0.1" and units.scale(0) == "your data"
