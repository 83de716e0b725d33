"""Where export files are kept: a small interface, and a local (or shared) folder behind it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

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

    async def chunks(self, name: str) -> AsyncIterator[bytes]:
        with self._path(name).open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def writable(self) -> bool:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        return os.access(self.folder, os.W_OK)
