"""Where the bytes of report photos and files live: a small storage interface.

Two implementations:

- :class:`LocalStorage` (default): a folder, ``REPORT_STORAGE_PATH`` or the instance
  folder's ``uploads`` — never below ``static``; the files are served only by the
  visibility-checked routes of :mod:`app.reporting.file_views`.
- :class:`S3Storage`: an S3-compatible object store (``REPORT_STORAGE=s3``, see config.py).

Keys are made here (:func:`new_key`) from random bytes only — never from a file name or
any other user input — and every implementation refuses a key of another shape, so no
key can walk out of its folder or bucket prefix.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

#: A key: 32 random URL-safe characters, optionally a suffix like "-thumb" and an extension.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}(-[a-z]{1,10})?(\.[a-z0-9]{1,5})?")


class Storage(Protocol):
    """Bytes by key. ``put`` replaces a key's bytes atomically; ``open`` of an unknown key
    raises :class:`KeyError`; ``delete`` of an unknown key does nothing."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def open(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def list_keys(self) -> Iterator[tuple[str, dt.datetime]]:
        """Every stored key with its last change (naive UTC), for the orphan sweep."""
        ...


def new_key(extension: str = "") -> str:
    """A fresh random key (24 random bytes), e.g. ``"Xf3…Q.jpg"``."""
    key = secrets.token_urlsafe(24)
    return f"{key}.{extension}" if extension else key


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError("invalid storage key")
    return key


class LocalStorage:
    """Files in a folder, spread over subfolders by the key's first two characters.

    Writes go to a temporary file in the target folder, are flushed to disk and then
    renamed over the target (atomic on POSIX): a reader never sees half a file.
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def list_keys(self) -> Iterator[tuple[str, dt.datetime]]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                # well-formed keys only (a crashed write's ".upload-…" temporary file too)
                if path.is_file() and (KEY_PATTERN.fullmatch(path.name) or path.name.startswith(".upload-")):
                    modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(tzinfo=None)
                    yield (
                        path.name if not path.name.startswith(".") else f"{folder.name}/{path.name}",
                        modified,
                    )

    def delete_temporary(self, name: str) -> None:
        """Delete a crashed write's temporary file ("xx/.upload-…" as listed)."""
        folder, _, file_name = name.partition("/")
        if len(folder) == 2 and file_name.startswith(".upload-") and "/" not in file_name:
            path = self.root / folder / file_name
            if path.resolve().parent.parent == self.root:
                path.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"


class S3Storage:
    """Objects in a bucket of an S3-compatible store (AWS, MinIO, Ceph, Hetzner, …),
    optionally below a key prefix."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        prefix: str = "",
        client: Any = None,
    ):
        if not bucket:
            raise ValueError("REPORT_S3_BUCKET is not set")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if client is None:
            import boto3

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=region or None,
                aws_access_key_id=access_key or None,
                aws_secret_access_key=secret_key or None,
            )
        self.client = client

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # one PUT request: the object appears whole or not at all
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data, ContentType=content_type)

    def open(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except self.client.exceptions.NoSuchKey:
            raise KeyError(key) from None
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def list_keys(self) -> Iterator[tuple[str, dt.datetime]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if KEY_PATTERN.fullmatch(key):
                    yield key, item["LastModified"].astimezone(dt.UTC).replace(tzinfo=None)

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, prefix={self.prefix!r})"


#: The config keys that decide the storage (a change makes a new storage object).
CONFIG_KEYS = (
    "REPORT_STORAGE",
    "REPORT_STORAGE_PATH",
    "REPORT_S3_BUCKET",
    "REPORT_S3_ENDPOINT_URL",
    "REPORT_S3_REGION",
    "REPORT_S3_ACCESS_KEY",
    "REPORT_S3_SECRET_KEY",
    "REPORT_S3_PREFIX",
)


def storage_for(app) -> Storage:
    """The storage configured for ``app`` (made once per configuration)."""
    config = app.config
    settings = tuple(config.get(name) for name in CONFIG_KEYS)
    cached = app.extensions.get("report_storage")
    if cached is not None and cached[0] == settings:
        return cached[1]
    kind = (config.get("REPORT_STORAGE") or "local").strip().lower()
    if kind == "s3":
        storage: Storage = S3Storage(
            config.get("REPORT_S3_BUCKET") or "",
            endpoint_url=config.get("REPORT_S3_ENDPOINT_URL"),
            region=config.get("REPORT_S3_REGION"),
            access_key=config.get("REPORT_S3_ACCESS_KEY"),
            secret_key=config.get("REPORT_S3_SECRET_KEY"),
            prefix=config.get("REPORT_S3_PREFIX") or "",
        )
    elif kind == "local":
        storage = LocalStorage(config.get("REPORT_STORAGE_PATH") or Path(app.instance_path) / "uploads")
    else:
        raise ValueError(f"REPORT_STORAGE must be 'local' or 's3', not {kind!r}")
    app.extensions["report_storage"] = (settings, storage)
    return storage
