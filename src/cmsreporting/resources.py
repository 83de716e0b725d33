"""Locate the data folders shipped with the package (schemas, content, migrations)."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder `name` from an installed wheel, else from the source tree."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"data folder {name!r} not found beside the package")


def schemas_dir() -> Path:
    """Folder of the JSON Schemas (templates, crosswalk)."""
    return resource_dir("schemas")


def content_dir() -> Path:
    """Folder of the bundled content: templates, crosswalk and reference data."""
    return resource_dir("content")


def migrations_dir() -> Path:
    """Folder of the Alembic migration scripts."""
    return resource_dir("migrations")
