"""The report's layout, measured in a real headless Chromium at a desktop's width (1400 px) and a
phone's (390 px): nothing wider than the screen but a data table scrolling inside its own box,
no scientific notation in any text a person can read, the first screen at the top naming the
engines, and chart labels of at least 12 px on the desktop.

The page is tests/test_report.py's report (built once a session). A measuring script is added to a
copy of it; it opens every folded block, measures, and writes what it found into the page, which
`--dump-dom` prints. Headless Chromium will not make a window narrower than 500 px, so the phone
is an iframe 390 px wide: its document lays out at 390 as on a phone (media queries included),
and the script hands its findings to the outer page by postMessage."""

from __future__ import annotations

import html
import json
import re

import pytest
from test_report import built_report, chromium

PHONE, DESKTOP = 390, 1400

# Runs inside the report's copy, after its own scripts: every <details> opened (folded content
# must fit too), then each element's box, and the content spilling out of a box that does not
# scroll, checked against the viewport, unless it sits in a scrolling box that itself fits.
MEASURE = """
<script>
(function () {
  document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  var vw = window.innerWidth, wide = [];
  function scrolls(el) {
    var o = getComputedStyle(el).overflowX;
    return o === 'auto' || o === 'scroll' || o === 'hidden';
  }
  function name(el) {
    var cls = typeof el.className === 'string' ? el.className : '';
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (cls ? '.' + cls : '');
  }
  document.querySelectorAll('body *').forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return;
    var right = scrolls(el) ? r.right : Math.max(r.right, r.left + el.scrollWidth);
    if (right <= vw + 0.5 && r.left >= -0.5) return;
    for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (scrolls(p)) {
        var b = p.getBoundingClientRect();
        if (b.right <= vw + 0.5 && b.left >= -0.5) return;
      }
    }
    wide.push(name(el) + ' ' + Math.round(r.left) + '..' + Math.round(right) + ': '
      + (el.textContent || '').trim().slice(0, 60));
  });
  // A label whose checkbox wrapped away from its text is taller than one line.
  var labels = document.querySelectorAll('#filters label');
  var wrapped = Array.prototype.filter.call(labels, function (l) {
    return l.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(l).lineHeight);
  }).map(function (l) { return l.textContent.trim(); });
  var fonts = Array.prototype.map.call(document.querySelectorAll('svg.chart text'), function (t) {
    return parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
  });
  var first = document.getElementById('first-screen');
  var top = document.querySelector('body > section, body > table, body > div, body > form');
  var found = JSON.stringify({
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    wide: wide,
    wrappedLabels: wrapped,
    text: document.body.innerText,
    firstScreen: first ? first.innerText : null,
    firstScreenTop: first !== null && first === top,
    chartFonts: fonts
  });
  if (window.parent !== window) { window.parent.postMessage(found, '*'); return; }
  var pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = found;
  document.body.appendChild(pre);
})();
</script>
"""

# The phone: the copy in an iframe 390 px wide; its findings land in the outer page.
PHONE_FRAME = f"""<!doctype html><html><body style="margin:0"><pre id="measured"></pre>
<iframe src="measured.html" style="width:{PHONE}px;height:2000px;border:0"></iframe>
<script>addEventListener('message', function (e) {{
  document.getElementById('measured').textContent = e.data; }});</script></body></html>"""


@pytest.fixture(scope="module")
def measured(tmp_path_factory, data_dir, fakesnow_port) -> dict[int, dict]:
    """What the measuring script found at each width: two Chromium launches for the module."""
    report = built_report(tmp_path_factory, data_dir, fakesnow_port)
    root = tmp_path_factory.mktemp("browser")
    page = report.read_text(encoding="utf-8")
    assert page.count("</body>") == 1
    (root / "measured.html").write_text(page.replace("</body>", MEASURE + "</body>"), "utf-8")
    (root / "phone.html").write_text(PHONE_FRAME, "utf-8")
    found = {}
    for width, name, window in ((DESKTOP, "measured.html", DESKTOP), (PHONE, "phone.html", 500)):
        dom = chromium(
            f"--window-size={window},2000",
            "--hide-scrollbars",  # a scroll bar would take its width off the layout viewport
            "--virtual-time-budget=5000",  # the frame's message is handled before the dump
            "--dump-dom",
            (root / name).as_uri(),
            profile=root / f"profile-{width}",
        ).stdout
        match = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.DOTALL)
        assert match and match.group(1), f"the measuring script wrote nothing at {width} px"
        found[width] = json.loads(html.unescape(match.group(1)))
    return found


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_nothing_is_wider_than_the_screen(measured, width):
    found = measured[width]
    assert found["innerWidth"] == width  # the layout really had this width
    assert found["wide"] == []
    assert found["scrollWidth"] == width  # the page itself never scrolls sideways
    assert found["wrappedLabels"] == []  # no filter checkbox wrapped away from its label


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_no_scientific_notation_in_what_a_person_reads(measured, width):
    # Every folded block is open here, so this is the whole page's text, charts included.
    text = measured[width]["text"]
    assert "Per query" in text and "Methodology" in text  # the text is the page's
    assert re.findall(r"\d(\.\d+)?[eE][+-]\d+", text) == []


def test_the_first_screen_comes_first_and_names_what_ran(measured):
    found = measured[DESKTOP]
    assert found["firstScreenTop"]
    first = found["firstScreen"]
    for engine in ("duckdb", "snowflake"):
        assert engine in first
    assert "on this machine, in whbench's process" in first  # DuckDB, where it ran
    assert re.search(r"Not run: bigquery, clickhouse, databricks", first)
    # one verdict per data type, each with its interval or saying why there is none
    assert re.search(r"Structured \(tpch at scale 0\.0\d\): .*95% interval", first)


def test_chart_labels_are_readable_on_a_desktop(measured):
    fonts = measured[DESKTOP]["chartFonts"]
    assert len(fonts) > 50  # the charts are there
    assert min(fonts) >= 12
