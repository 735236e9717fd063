"""The README a newcomer reads in five minutes, and the docs/ pages that hold the rest.

README.md stays short, starts with the two commands, and its cloud config is one whbench
accepts; every relative link in README.md and docs/*.md, and every #anchor, leads somewhere."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted([README, *DOCS.glob("*.md")])
MAX_README_LINES = 300

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target), text possibly across lines; an optional "title" after.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"`[^`\n]*`")


def prose(text: str) -> str:
    """The text outside fenced code blocks and inline code, where links and headings live."""
    lines, in_fence = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            lines.append("")
            continue
        lines.append("" if in_fence else line)
    return INLINE_CODE.sub("", "\n".join(lines))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = re.sub(r"[^\w\- ]", "", text.lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every anchor a page's headings give, with GitHub's -1, -2 … for repeated ones."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose(page.read_text(encoding="utf-8")).splitlines():
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    return LINK.findall(prose(page.read_text(encoding="utf-8")))


def fenced_blocks(text: str) -> list[tuple[int, str, str]]:
    """(line of the opening fence, info string, body) of every fenced code block."""
    blocks, start, info, body = [], None, "", []
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if match and start is None:
            start, info, body = number, line.strip()[3:].strip(), []
        elif match:
            blocks.append((start, info, "\n".join(body)))
            start = None
        elif start is not None:
            body.append(line)
    return blocks


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, (
        f"README.md has {len(lines)} lines; keep it at most {MAX_README_LINES} and move the "
        "rest to a docs/ page"
    )


def test_readme_starts_with_the_two_commands():
    _, _, first = fenced_blocks(README.read_text(encoding="utf-8"))[0]
    commands = [line.split("#")[0].strip() for line in first.splitlines()]
    assert [c for c in commands if c][:2] == ["make bench", "make test"]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    steps = [line.strip() for line in ci.splitlines() if line.strip() and line[0] != "#"]
    assert steps[-1] == "make test"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^bench:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_the_parser_finds_links_and_anchors_as_github_does():
    assert slug("Large scales: data in object storage") == "large-scales-data-in-object-storage"
    assert slug("`whbench compare` and the gate") == "whbench-compare-and-the-gate"
    assert slug("What fakesnow cannot prove") == "what-fakesnow-cannot-prove"
    text = 'See [a\nb](x.md#y), ![shot](p.png "t"), `[not](here.md)`\n```\n[nor](there.md)\n```'
    assert LINK.findall(prose(text)) == ["x.md#y", "p.png"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto: …
            continue
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(f"{target}: no file {destination.relative_to(ROOT)}")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_every_docs_page_is_linked_from_the_readme():
    linked = {
        (ROOT / target.partition("#")[0]).resolve()
        for target in links(README)
        if target.startswith("docs/")
    }
    missing = [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked]
    assert not missing, f"docs pages the README does not link to: {missing}"


def test_the_screenshot_is_small():
    shot = DOCS / "report.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size < 400 * 1024


def test_the_readme_cloud_config_is_one_whbench_accepts(tmp_path):
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## A cloud config") :]
    config = next(body for _, info, body in fenced_blocks(section) if info == "yaml")
    (tmp_path / "whbench.yaml").write_text(config, encoding="utf-8")
    env = {
        **os.environ,
        "SNOWFLAKE_ACCOUNT": "myorg-myaccount",
        "SNOWFLAKE_USER": "BENCH",
        "SNOWFLAKE_PRIVATE_KEY_FILE": str(tmp_path / "bench.p8"),
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "not-a-secret",
        "BIGQUERY_PROJECT": "my-project",
        "DATABRICKS_SERVER_HOSTNAME": "dbc-1234abcd-5678.cloud.databricks.com",
        "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/abc123",
        "DATABRICKS_CLIENT_ID": "principal",
        "DATABRICKS_CLIENT_SECRET": "not-a-secret",
    }

    def whbench(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "harness", *args, "-c", "whbench.yaml"]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)

    validated = whbench("validate")
    assert validated.returncode == 0, validated.stderr
    assert "whbench.yaml: ok" in validated.stdout.lower()
    listed = whbench("engines", "--json")
    assert listed.returncode == 0, listed.stderr
    engines = {row["engine"]: row for row in json.loads(listed.stdout)}
    assert engines["snowflake"]["configured"] and engines["snowflake"]["auth"] == "key pair"
    assert engines["bigquery"]["auth"] == "Application Default Credentials"
    assert engines["databricks"]["auth"] == "OAuth machine-to-machine (service principal)"
    assert engines["duckdb"]["configured"]
