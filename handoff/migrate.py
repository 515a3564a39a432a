"""Alembic, driven from code: `python -m handoff migrate` upgrades the database to head."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.database import migration_lock

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on a '%' in a password.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Alembic upgrade under the project's migration lock (several instances may start at once)."""
    with migration_lock(database_url):
        command.upgrade(alembic_config(database_url), revision)
