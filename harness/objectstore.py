"""Object storage for data sets too big to push through a client: generated files are uploaded
once to `gs://` or `s3://` and the warehouse loads them from there itself.

A table's files go to `<data_uri>/<workload>/<variant>/<table>/<format>/<file>`, one folder per
table and format, so a load names the folder (or `folder/*`) and never picks up another scale's
files. A file already there with the same size is not uploaded again.

Clients are the providers' own: boto3 for S3 (credentials, region and endpoint from the usual AWS
chain: profile, environment, `AWS_ENDPOINT_URL_S3`), google-cloud-storage for GCS (Application
Default Credentials; `STORAGE_EMULATOR_HOST` for a local emulator).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, EngineError, first_line

SCHEMES = {"s3": "Amazon S3", "gs": "Google Cloud Storage"}
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]")
_PREFIX = re.compile(r"[\w./=-]*")


@dataclass(frozen=True)
class Location:
    scheme: str  # "s3" or "gs"
    bucket: str
    prefix: str  # no leading or trailing slash; may be empty

    @classmethod
    def parse(cls, uri: str, accepted: Sequence[str], where: str) -> Location:
        """A `data_uri` setting, checked against the schemes the warehouse can load from."""
        scheme, sep, rest = uri.partition("://")
        bucket, _, prefix = rest.partition("/")
        # Bucket names are lower case, digits, dots and dashes on both; the prefix is kept to
        # path characters, so the URI can go into SQL (COPY, CREATE STAGE) as a plain literal.
        if not (
            sep and scheme in SCHEMES and _BUCKET.fullmatch(bucket) and _PREFIX.fullmatch(prefix)
        ):
            raise ConfigError(
                f"{where}: {uri!r} is not an s3://BUCKET/PREFIX or gs://BUCKET/PREFIX URI "
                "(letters, digits and . _ - = / in the prefix)"
            )
        if scheme not in accepted:
            schemes = " or ".join(f"{s}://" for s in accepted)
            raise ConfigError(f"{where}: this warehouse loads from {schemes}, not {scheme}://")
        return cls(scheme, bucket, prefix.strip("/"))

    def folder(self, *parts: str) -> Location:
        return Location(self.scheme, self.bucket, "/".join([self.prefix, *parts]).strip("/"))

    @property
    def uri(self) -> str:
        """The folder's URI, ending in a slash."""
        return f"{self.scheme}://{self.bucket}/{self.prefix}/"


def upload_missing(files: Sequence[Path], folder: Location, **client_options: Any) -> int:
    """Upload the files to `folder` unless an object of the same name and size is there.

    `client_options` go to the provider's client (S3: profile, region; GCS: project,
    credentials). Returns how many were uploaded. Errors name the bucket and what to check.
    """
    client = _CLIENTS[folder.scheme](**client_options)
    try:
        present = client.sizes(folder.bucket, folder.prefix + "/")
        uploaded = 0
        for f in files:
            key = f"{folder.prefix}/{f.name}"
            if present.get(key) != f.stat().st_size:
                client.upload(f, folder.bucket, key)
                uploaded += 1
        return uploaded
    except Exception as exc:
        raise EngineError(
            f"uploading to {folder.uri} failed: {first_line(exc)}; check that the bucket "
            f"exists and that your {SCHEMES[folder.scheme]} credentials may write to it"
        ) from exc


def fetch_matching(pattern: str, cache: Path) -> list[Path]:
    """The objects a `gs://` or `s3://` glob names (`s3://bucket/sales/*.parquet`), each
    downloaded once into `cache/<scheme>/<bucket>/<key>` (again only when its size changed);
    the local copies, sorted. Credentials come from the provider's usual chain."""
    import fnmatch

    scheme, _, rest = pattern.partition("://")
    bucket, _, key_pattern = rest.partition("/")
    literal = re.split(r"[*?\[]", key_pattern, maxsplit=1)[0]
    try:
        client = _CLIENTS[scheme]()
        found = {
            key: size
            for key, size in client.sizes(bucket, literal).items()
            if fnmatch.fnmatchcase(key, key_pattern) and not key.endswith("/")
        }
        copies = []
        for key, size in sorted(found.items()):
            local = cache / scheme / bucket / key
            if not local.is_file() or local.stat().st_size != size:
                local.parent.mkdir(parents=True, exist_ok=True)
                partial = local.with_name(local.name + ".part")
                client.download(bucket, key, partial)
                partial.replace(local)  # whole or absent, never a torn copy
            copies.append(local)
        return copies
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"cannot read {pattern}: {first_line(exc)}; check the URI and that your "
            f"{SCHEMES.get(scheme, scheme)} credentials may read the bucket"
        ) from None


class _S3:
    def __init__(self, profile: str | None = None, region: str | None = None) -> None:
        try:
            import boto3
        except ImportError:
            raise ConfigError("s3:// data needs boto3: pip install boto3") from None
        session = boto3.Session(profile_name=profile, region_name=region)
        self._s3: Any = session.client("s3")

    def sizes(self, bucket: str, prefix: str) -> dict[str, int]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}

    def upload(self, path: Path, bucket: str, key: str) -> None:
        self._s3.upload_file(str(path), bucket, key)  # multipart above 8 MB, with retries

    def download(self, bucket: str, key: str, path: Path) -> None:
        self._s3.download_file(bucket, key, str(path))


class _GCS:
    def __init__(self, project: str | None = None, credentials: Any = None) -> None:
        try:
            from google.cloud import storage
        except ImportError:
            raise ConfigError(
                "gs:// data needs google-cloud-storage: pip install google-cloud-storage"
            ) from None
        if os.environ.get("STORAGE_EMULATOR_HOST"):  # a local emulator takes no credentials
            from google.auth.credentials import AnonymousCredentials

            credentials, project = AnonymousCredentials(), project or "emulator"
        self._gcs: Any = storage.Client(project=project, credentials=credentials)

    def sizes(self, bucket: str, prefix: str) -> dict[str, int]:
        return {b.name: b.size for b in self._gcs.list_blobs(bucket, prefix=prefix)}

    def upload(self, path: Path, bucket: str, key: str) -> None:
        # Resumable upload in chunks, retried by the client on transient errors.
        self._gcs.bucket(bucket).blob(key).upload_from_filename(str(path))

    def download(self, bucket: str, key: str, path: Path) -> None:
        self._gcs.bucket(bucket).blob(key).download_to_filename(str(path))


_CLIENTS: dict[str, Callable[[], Any]] = {"s3": _S3, "gs": _GCS}
