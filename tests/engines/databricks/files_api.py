"""The Databricks Files API, for the stand-in: files in Unity Catalog volumes
(`/Volumes/<catalog>/<schema>/<volume>/…`), kept in a local folder, the same paths below it, so
that the proxy's COPY INTO (unity_sql.py) reads what was uploaded.

The endpoints and their answers follow Databricks' REST reference, "File"
(https://docs.databricks.com/api/files/v2 and its list-directory-contents page, read 2026-12-06):
PUT /api/2.0/fs/files{path} uploads the body as the file's bytes ("If true or unspecified
[overwrite], an existing file will be overwritten", else an error) with no response body; GET
downloads; HEAD gives the metadata in headers (Content-Length, Last-Modified); DELETE deletes a
file; PUT /api/2.0/fs/directories{path} creates a directory and its parents; GET lists it
({"contents": [{path, name, is_directory, file_size, last_modified}], at most 1000 a page,
"next_page_token" while more follow); HEAD checks one; DELETE deletes an empty one; a missing
path is HTTP 404. Errors are JSON {"error_code", "message"}, as databricks-sdk parses them.

What it is not: no permissions (any token is accepted), no 5 GiB limit, no multipart uploads.
databricks-sdk's newer Files client (0.167's default; whbench turns it off) first asks
/api/2.0/fs/endpoints which transfer endpoints a workspace offers, and before a download
/api/2.0/fs/create-download-url (a presigned URL): both answer 404 here, which the SDK takes as
"not served for this workspace", using the Files API on the workspace host.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

FILES = "/api/2.0/fs/files"
DIRECTORIES = "/api/2.0/fs/directories"
VOLUMES = "/Volumes/"
PAGE = 1000  # entries per listing page, as the reference says

Answer = tuple[int, bytes, dict[str, str]]


def error(status: int, code: str, message: str) -> Answer:
    body = json.dumps({"error_code": code, "message": message}).encode()
    return status, body, {"Content-Type": "application/json"}


class FilesApi:
    """The Files API over `root`: /Volumes/c/s/v/x is root/Volumes/c/s/v/x."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "Volumes").mkdir(parents=True, exist_ok=True)

    def local(self, volume_path: str) -> Path | None:
        """The local path of a /Volumes/… path; None for anything else (or one that climbs out)."""
        if not volume_path.startswith(VOLUMES):
            return None
        path = (self.root / volume_path.lstrip("/")).resolve()
        return path if path.is_relative_to(self.root.resolve() / "Volumes") else None

    def handle(self, method: str, url: str, body: Callable[[], bytes]) -> Answer:
        """One request: (status, body, headers). `body` reads the request's body."""
        parts = urlsplit(url)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        path = unquote(parts.path)
        for prefix, kind in ((FILES, self.file), (DIRECTORIES, self.directory)):
            if path.startswith(prefix + "/"):
                volume_path = path[len(prefix) :]
                local = self.local(volume_path)
                if local is None:
                    return error(
                        400, "INVALID_PARAMETER_VALUE", f"not a volume path: {volume_path}"
                    )
                return kind(method, volume_path, local, query, body)
        return error(404, "ENDPOINT_NOT_FOUND", f"the stand-in does not serve {method} {path}")

    def file(self, method, volume_path, local: Path, query, body) -> Answer:
        if method == "PUT":
            data = body()  # read it whatever the answer: the connection is kept alive
            if local.is_dir():
                return error(409, "ALREADY_EXISTS", f"{volume_path} is a directory")
            if local.exists() and query.get("overwrite", "true").lower() == "false":
                return error(409, "ALREADY_EXISTS", f"the file {volume_path} already exists")
            local.parent.mkdir(parents=True, exist_ok=True)
            partial = local.with_name(f".{local.name}.partial")
            partial.write_bytes(data)
            partial.replace(local)  # a reader never sees half a file
            return 204, b"", {}
        if not local.is_file():
            return error(404, "NOT_FOUND", f"no file at {volume_path}")
        if method == "DELETE":
            local.unlink()
            return 204, b"", {}
        if method in ("GET", "HEAD"):
            stat = local.stat()
            headers = {
                "Content-Type": "application/octet-stream",
                "Content-Length": str(stat.st_size),
                "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
            }
            return 200, local.read_bytes() if method == "GET" else b"", headers
        return error(405, "BAD_REQUEST", f"{method} is not a Files API method on files")

    def directory(self, method, volume_path, local: Path, query, body) -> Answer:
        body()
        if method == "PUT":
            if local.is_file():
                return error(409, "ALREADY_EXISTS", f"{volume_path} is a file")
            local.mkdir(parents=True, exist_ok=True)
            return 204, b"", {}
        if not local.is_dir():
            return error(404, "NOT_FOUND", f"no directory at {volume_path}")
        if method == "HEAD":
            return 200, b"", {}
        if method == "DELETE":
            if any(local.iterdir()):
                return error(
                    409, "DIRECTORY_NOT_EMPTY", f"the directory {volume_path} is not empty"
                )
            shutil.rmtree(local)
            return 204, b"", {}
        if method == "GET":
            return self.listing(volume_path, local, query)
        return error(405, "BAD_REQUEST", f"{method} is not a Files API method on directories")

    def listing(self, volume_path: str, local: Path, query: dict[str, str]) -> Answer:
        entries = sorted(p for p in local.iterdir() if not p.name.endswith(".partial"))
        start = int(query.get("page_token") or 0)
        size = min(int(query.get("page_size") or PAGE), PAGE)
        page = entries[start : start + size]
        contents = []
        for entry in page:
            stat = entry.stat()
            item = {
                "path": f"{volume_path.rstrip('/')}/{entry.name}",
                "name": entry.name,
                "is_directory": entry.is_dir(),
                "last_modified": int(stat.st_mtime * 1000),
            }
            if entry.is_file():
                item["file_size"] = stat.st_size
            contents.append(item)
        answer: dict = {"contents": contents}
        if start + size < len(entries):
            answer["next_page_token"] = str(start + size)
        return 200, json.dumps(answer).encode(), {"Content-Type": "application/json"}
