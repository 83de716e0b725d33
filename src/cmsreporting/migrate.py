"""Run Alembic migrations from code (the CLI and the tests)."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from cmsreporting.resources import migrations_dir


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the packaged migrations and this database."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database down to `revision`."""
    command.downgrade(alembic_config(url), revision)


@cache
def head_revision() -> str | None:
    """The newest migration revision shipped with the code (read once per process)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
