"""The Databricks-only SQL whbench's loading sends, rewritten by the proxy for Spark: Spark has no
Unity Catalog volumes and no COPY INTO. Every other statement reaches Spark as it was sent.

- `CREATE VOLUME [IF NOT EXISTS] <name> …` becomes a statement that does nothing and returns
  nothing: the Files API (files_api.py) keeps every volume's files under one local folder whether
  or not the volume was created. `DROP VOLUME` of a three-part name deletes that volume's files
  (as dropping a managed volume does on Databricks), else does nothing.
- `COPY INTO <table> FROM '<folder>' FILEFORMAT = PARQUET|JSON [FORMAT_OPTIONS (…)]
  [COPY_OPTIONS (…)]`, and the form with `FROM (SELECT <exprs> FROM '<folder>')`, become
  `INSERT INTO <table> BY NAME SELECT <exprs or *> FROM parquet.`<local folder>`` (or json.):
  COPY INTO matches the files' columns to the table's by name. With FORMAT_OPTIONS, the folder is
  read through a temporary view `USING <format> OPTIONS (…)` created first, since a path in
  `parquet.`…`` takes no options.

COPY INTO's syntax and meaning: Databricks SQL reference, "COPY INTO"
(https://docs.databricks.com/sql/language-manual/delta-copy-into.html, read 2026-12-06): columns
are matched by name ("the default name matching"; BY POSITION is for headerless CSV only). What
the rewrite does not do, each a gap of the stand-in: COPY INTO is idempotent on Databricks ("files
in the source location that have already been loaded are skipped", unless COPY_OPTIONS
('force' = 'true')); here every file is loaded each time, so COPY_OPTIONS are not used.
FILES = (…), PATTERN, VALIDATE and a source WITH (CREDENTIAL …) are refused with an error naming
them, and so is a bucket URI (s3://, gs://, abfss://): the stand-in has only volumes.
"""

from __future__ import annotations

import itertools
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

NAME = r"(?:`[^`]+`|[\w$]+)(?:\s*\.\s*(?:`[^`]+`|[\w$]+))*"
CREATE_VOLUME = re.compile(
    rf"^\s*CREATE\s+(?:EXTERNAL\s+)?VOLUME\s+(?:IF\s+NOT\s+EXISTS\s+)?{NAME}", re.I
)
DROP_VOLUME = re.compile(rf"^\s*DROP\s+VOLUME\s+(?:IF\s+EXISTS\s+)?(?P<name>{NAME})\s*;?\s*$", re.I)
COPY_INTO = re.compile(
    rf"^\s*COPY\s+INTO\s+(?P<target>{NAME})\s+FROM\s+"
    r"(?:'(?P<folder>[^']*)'|\(\s*SELECT\s+(?P<exprs>.+?)\s+FROM\s+'(?P<select_folder>[^']*)'\s*\))"
    r"\s+FILEFORMAT\s*=\s*(?P<format>\w+)(?P<rest>.*?)\s*;?\s*$",
    re.I | re.S,
)
OPTIONS = re.compile(r"\b(?P<kind>FORMAT_OPTIONS|COPY_OPTIONS)\s*\((?P<body>[^)]*)\)", re.I)
OPTION = re.compile(r"""\s*'(?P<key>[^']+)'\s*=\s*(?P<value>'[^']*'|[\w.+-]+)\s*(?:,|$)""")
NO_OP = "SELECT 1 AS volume WHERE false"  # a statement that runs and returns nothing
FORMATS = ("parquet", "json")
views = itertools.count(1)


@dataclass
class Rewrite:
    statement: str  # what Spark runs in place of the statement sent
    before: list[str] = field(default_factory=list)  # run first, in the same session


def refuse(message: str) -> Rewrite:
    """A statement that fails in Spark with `message` (raise_error: USER_RAISED_EXCEPTION)."""
    return Rewrite("SELECT raise_error('" + message.replace("'", "\\'") + "')")


def unquote_name(name: str) -> list[str]:
    return [part.strip().strip("`") for part in re.split(r"\.(?=(?:[^`]*`[^`]*`)*[^`]*$)", name)]


def local_folder(uri: str, root: Path) -> Path | None:
    """root/Volumes/… for a volume path (/Volumes/… or dbfs:/Volumes/…); None for anything else."""
    path = uri.removeprefix("dbfs:")
    if not path.startswith("/Volumes/"):
        return None
    return root / path.lstrip("/")


def options(text: str) -> dict[str, str] | None:
    """'key' = value, … as a dict; None if it does not parse."""
    found, position = {}, 0
    while position < len(text.strip()):
        match = OPTION.match(text, position)
        if not match:
            return None
        found[match["key"]] = match["value"].strip("'")
        position = match.end()
    return found


def rewrite_copy_into(match: re.Match, root: Path) -> Rewrite:
    uri = match["folder"] if match["folder"] is not None else match["select_folder"]
    fmt = match["format"].lower()
    if fmt not in FORMATS:
        return refuse(f"the Databricks stand-in does not bridge COPY INTO FILEFORMAT = {fmt}")
    folder = local_folder(uri, root)
    if folder is None:
        return refuse(
            f"the Databricks stand-in reads only volumes (/Volumes/...), not {uri}: it has no "
            "object storage"
        )
    format_options: dict[str, str] = {}
    rest = match["rest"]
    for clause in OPTIONS.finditer(rest):
        parsed = options(clause["body"])
        if parsed is None:
            return refuse(f"the Databricks stand-in cannot parse {clause[0]}")
        if clause["kind"].upper() == "FORMAT_OPTIONS":
            format_options = parsed
        # COPY_OPTIONS ('force', 'mergeSchema'): not used; every file is loaded (see above).
    if leftover := OPTIONS.sub("", rest).strip():
        return refuse(f"the Databricks stand-in does not bridge COPY INTO ... {leftover[:60]}")
    columns = match["exprs"] or "*"
    if not format_options:
        source = f"{fmt}.`{folder}`"
        return Rewrite(f"INSERT INTO {match['target']} BY NAME SELECT {columns} FROM {source}")
    view = f"whb_copy_source_{next(views)}"
    listed = ", ".join(f"`{key}` '{value}'" for key, value in format_options.items())
    return Rewrite(
        f"INSERT INTO {match['target']} BY NAME SELECT {columns} FROM {view}",
        before=[
            f"CREATE OR REPLACE TEMPORARY VIEW {view} USING {fmt} "
            f"OPTIONS (path '{folder}', {listed})"
        ],
    )


def rewrite_statement(statement: str, root: Path) -> Rewrite:
    """What Spark runs for `statement` (itself, unless it is Databricks-only SQL above)."""
    if CREATE_VOLUME.match(statement):
        return Rewrite(NO_OP)
    if match := DROP_VOLUME.match(statement):
        parts = unquote_name(match["name"])
        if len(parts) == 3:
            shutil.rmtree(root / "Volumes" / Path(*parts), ignore_errors=True)
        return Rewrite(NO_OP)
    if match := COPY_INTO.match(statement):
        return rewrite_copy_into(match, root)
    return Rewrite(statement)
