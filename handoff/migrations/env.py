"""Alembic environment of the live-agent service.

Own version table (`alembic_version_handoff`), and only the `handoff_` tables are compared:
the accounts side keeps its own migrations in the same database.
"""
from __future__ import annotations

from alembic import context

from bot.database import run_alembic_environment
from handoff.models import metadata


def database_url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bot.settings import get_settings

    return get_settings().database_url


run_alembic_environment(context, database_url(), metadata, version_table="alembic_version_handoff")
