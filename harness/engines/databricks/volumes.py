"""The volume whbench puts generated files in when no `data_uri` is set: a Unity Catalog volume
in a schema of whbench's own, `<catalog>.whb_files.data`, filled through the Files API, which
COPY INTO then reads by its path (`/Volumes/<catalog>/whb_files/data/<data set>/<table>/<format>/`).
One volume for every data set, not one per benchmark schema: a table's folder is named before
the schema it is loaded into is known (Engine.source_uris), and a data set loaded into several
schemas is uploaded once. `whbench clean` lists and drops `whb_files` like any schema whbench
made (DROP SCHEMA … CASCADE takes the volume and its files).

The Files API (https://docs.databricks.com/api/workspace/files and
https://docs.databricks.com/aws/en/volumes/files-api, read 2026-12-06) works on volume paths:
PUT /api/2.0/fs/files{path}?overwrite= uploads one file, HEAD the same path gives its
Content-Length, PUT /api/2.0/fs/directories{path} makes a folder with its parents. Through
databricks-sdk's WorkspaceClient.files, its plain client (version 2.0; the multipart upload is
Files API 3.0, a Beta an admin must turn on). "A single-request upload … accepts files up to
5000 MiB" (https://docs.databricks.com/aws/en/volumes/files-api/multipart-upload, read
2026-12-06), far above a generated part file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.engines.base import TableData

SCHEMA = "whb_files"  # the harness prefix: whbench made it, so clean may drop it
VOLUME = "data"


class Volume:
    """whbench's volume in one catalog, and the folder each table's files go to."""

    def __init__(self, catalog: str, sdk_config: Callable[[], Any]) -> None:
        self.catalog = catalog
        self._sdk_config = sdk_config  # called on the first upload only
        self._client: Any = None

    @property
    def schema(self) -> str:
        """The schema the volume is in, for CREATE SCHEMA."""
        return f"{self.catalog}.{SCHEMA}"

    @property
    def name(self) -> str:
        """The volume's three-part name, for CREATE VOLUME."""
        return f"{self.catalog}.{SCHEMA}.{VOLUME}"

    def folder(self, data_set: str, table: str, fmt: str) -> str:
        """Where one table's files of one format go, as COPY INTO names it."""
        return f"/Volumes/{self.catalog}/{SCHEMA}/{VOLUME}/{data_set}/{table}/{fmt}/"

    def upload(self, data: TableData) -> None:
        """Every file of the table into its folder, skipping one already there at its size
        (a load retried after a failed COPY does not send the files again)."""
        files = self._files()
        for fmt, paths in data.by_format().items():
            folder = self.folder(data.data_set, data.table, fmt)
            files.create_directory(folder.rstrip("/"))
            for path in paths:
                remote = folder + path.name
                if _size(files, remote) == path.stat().st_size:
                    continue
                with Path(path).open("rb") as stream:
                    files.upload(remote, stream, overwrite=True)

    def _files(self) -> Any:
        if self._client is None:
            from databricks.sdk import WorkspaceClient

            self._client = WorkspaceClient(config=self._sdk_config())
        return self._client.files


def _size(files: Any, remote: str) -> int | None:
    """The size of a file in the volume, or None when it is not there."""
    from databricks.sdk.errors import NotFound

    try:
        length = files.get_metadata(remote).content_length
    except NotFound:
        return None
    return None if length is None else int(length)
