"""Alembic environment of the accounts schema.

The live-agent service keeps its own migrations in the same database, so this one records its
revision in its own table (`alembic_version_accounts`) and ignores tables it does not own.
The database URL comes from the app settings unless the caller passed one
(`config.attributes["database_url"]`, used by the CLI and the tests).
"""
from __future__ import annotations

from alembic import context

from bot.accounts.db import make_engine
from bot.accounts.models import Base
from bot.settings import get_settings

VERSION_TABLE = "alembic_version_accounts"

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    # Reflected tables that are not ours belong to the live-agent service: never touch them.
    if type_ == "table" and reflected and compare_to is None:
        return name in target_metadata.tables
    return True


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        include_object=_include_object,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_database_url())
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                version_table=VERSION_TABLE,
                include_object=_include_object,
                render_as_batch=True,  # SQLite can only alter tables by copying them
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
