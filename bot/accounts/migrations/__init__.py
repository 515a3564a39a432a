"""Alembic migrations of the accounts schema; `upgrade()` runs them without an alembic.ini."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.database import migration_lock
from bot.settings import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    """Bring the accounts schema up to `revision` (the settings' database unless given).

    Under the project's migration lock: services starting together migrate one at a time.
    """
    url = database_url or get_settings().database_url
    with migration_lock(url):
        command.upgrade(alembic_config(url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
