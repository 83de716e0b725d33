"""Where files are kept: export files (named, written once, expiring) and documents' blobs
(content-addressed by SHA-256), behind two small interfaces; a local (or shared) folder
implements both, S3-compatible object storage the blob one."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

CHUNK = 64 * 1024


class Storage(Protocol):
    """Named files written once, read in chunks, deleted when they expire."""

    def open_partial(self, name: str) -> BinaryIO:
        """A file to write `name` into; invisible until `publish` renames it."""
        ...

    def publish(self, name: str) -> int:
        """Make the partial file of `name` the file itself (atomically); its size in bytes."""
        ...

    def discard_partial(self, name: str) -> None:
        """Remove what a failed or interrupted write left of `name`."""
        ...

    def exists(self, name: str) -> bool:
        """Whether `name` was published and not deleted."""
        ...

    def chunks(self, name: str) -> AsyncIterator[bytes]:
        """The bytes of `name`, in chunks."""
        ...

    def delete(self, name: str) -> None:
        """Remove `name` (nothing when it is not there)."""
        ...

    def writable(self) -> bool:
        """Whether files can be written now (for readiness checks)."""
        ...


class BlobStore(Protocol):
    """Immutable blobs under content-derived names: stored once, read in chunks, removed by a
    sweep when no row refers to them any more."""

    async def put(self, name: str, source: Path) -> bool:
        """Store the local file `source` under `name` unless a blob of that name is there
        (same name, same bytes); whether it was stored now. `source` is left in place."""
        ...

    async def has(self, name: str) -> bool:
        """Whether a blob `name` is stored."""
        ...

    def chunks(self, name: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes of blob `name` from `start` up to `end` (exclusive; None: to the end),
        in chunks."""
        ...

    async def remove(self, name: str) -> None:
        """Remove blob `name` (nothing when it is not there)."""
        ...

    async def names(self, older_than: float) -> list[str]:
        """The blobs stored more than `older_than` seconds ago."""
        ...


class FolderStorage:
    """Files in one folder; a partial file is `.NAME.partial` beside its final name."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"not a storage name: {name!r}")
        return self.folder / name

    def _partial(self, name: str) -> Path:
        return self._path(name).with_name(f".{name}.partial")

    def open_partial(self, name: str) -> BinaryIO:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self._partial(name).open("wb")

    def publish(self, name: str) -> int:
        partial = self._partial(name)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.replace(self._path(name))
        return self._path(name).stat().st_size

    def discard_partial(self, name: str) -> None:
        self._partial(name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    async def chunks(
        self, name: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        with self._path(name).open("rb") as handle:
            if start:
                handle.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                want = CHUNK if left is None else min(CHUNK, left)
                chunk = await asyncio.to_thread(handle.read, want)
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def writable(self) -> bool:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        return os.access(self.folder, os.W_OK)

    # --- BlobStore ----------------------------------------------------------------------------

    def _put(self, name: str, source: Path) -> bool:
        final = self._path(name)
        if final.is_file():
            os.utime(final)  # young again: the sweep spares it until its new row is committed
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self._partial(name)
        shutil.copyfile(source, partial)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.replace(final)
        return True

    async def put(self, name: str, source: Path) -> bool:
        return await asyncio.to_thread(self._put, name, source)

    async def has(self, name: str) -> bool:
        return await asyncio.to_thread(self.exists, name)

    async def remove(self, name: str) -> None:
        await asyncio.to_thread(self.delete, name)

    def _names(self, older_than: float) -> list[str]:
        if not self.folder.is_dir():
            return []
        cutoff = time.time() - older_than
        return sorted(
            p.name
            for p in self.folder.iterdir()
            if not p.name.startswith(".") and p.is_file() and p.stat().st_mtime < cutoff
        )

    async def names(self, older_than: float) -> list[str]:
        return await asyncio.to_thread(self._names, older_than)


PART = 8 * 1024 * 1024  # S3 multipart parts (the minimum part size is 5 MiB)


class S3Storage:
    """Blobs in a bucket of S3-compatible object storage (objects `PREFIX + name`), through
    aiobotocore; credentials come from botocore's usual chain (AWS_ACCESS_KEY_ID, …)."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        from aiobotocore.session import get_session

        self.bucket, self.prefix = bucket, prefix
        self.endpoint_url, self.region = endpoint_url, region
        self._session = get_session()

    def _client(self) -> Any:
        return self._session.create_client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region
        )

    def _key(self, name: str) -> str:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"not a storage name: {name!r}")
        return self.prefix + name

    async def _has(self, s3: Any, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            await s3.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def put(self, name: str, source: Path) -> bool:
        key = self._key(name)
        async with self._client() as s3:
            if await self._has(s3, name):
                # young again: the sweep spares it until its new row is committed
                await s3.copy_object(
                    Bucket=self.bucket,
                    Key=key,
                    CopySource={"Bucket": self.bucket, "Key": key},
                    MetadataDirective="REPLACE",
                )
                return False
            with source.open("rb") as handle:
                first = await asyncio.to_thread(handle.read, PART)
                if len(first) < PART:
                    await s3.put_object(Bucket=self.bucket, Key=key, Body=first)
                    return True
                upload = await s3.create_multipart_upload(Bucket=self.bucket, Key=key)
                parts: list[dict[str, Any]] = []
                try:
                    chunk = first
                    while chunk:
                        done = await s3.upload_part(
                            Bucket=self.bucket,
                            Key=key,
                            UploadId=upload["UploadId"],
                            PartNumber=len(parts) + 1,
                            Body=chunk,
                        )
                        parts.append({"ETag": done["ETag"], "PartNumber": len(parts) + 1})
                        chunk = await asyncio.to_thread(handle.read, PART)
                    await s3.complete_multipart_upload(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload["UploadId"],
                        MultipartUpload={"Parts": parts},
                    )
                except BaseException:
                    await s3.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload["UploadId"]
                    )
                    raise
        return True

    async def has(self, name: str) -> bool:
        async with self._client() as s3:
            return await self._has(s3, name)

    async def chunks(
        self, name: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        extra: dict[str, str] = {}
        if start or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        async with self._client() as s3:
            found = await s3.get_object(Bucket=self.bucket, Key=self._key(name), **extra)
            async with found["Body"] as body:
                while chunk := await body.read(CHUNK):
                    yield chunk

    async def remove(self, name: str) -> None:
        async with self._client() as s3:
            await s3.delete_object(Bucket=self.bucket, Key=self._key(name))

    async def names(self, older_than: float) -> list[str]:
        cutoff = time.time() - older_than
        found: list[str] = []
        async with self._client() as s3:
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            async for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(self.prefix) :]
                    if "/" not in name and item["LastModified"].timestamp() < cutoff:
                        found.append(name)
        return sorted(found)


def blob_store(
    location: str, *, endpoint_url: str | None = None, region: str | None = None
) -> BlobStore:
    """The blob store a setting names: `s3://BUCKET[/PREFIX]` or a folder."""
    if location.startswith("s3://"):
        bucket, _, prefix = location[len("s3://") :].partition("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return S3Storage(bucket, prefix=prefix, endpoint_url=endpoint_url, region=region)
    return FolderStorage(location)
