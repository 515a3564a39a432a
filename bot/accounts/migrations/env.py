"""Alembic environment of the accounts schema.

The live-agent service keeps its own migrations in the same database, so this one records its
revision in its own table (`alembic_version_accounts`) and ignores tables it does not own.
The database URL comes from the app settings unless the caller passed one
(`config.attributes["database_url"]`, used by the CLI and the tests).
"""
from __future__ import annotations

from alembic import context

from bot.accounts.models import Base
from bot.database import run_alembic_environment
from bot.settings import get_settings

url = context.config.attributes.get("database_url") or get_settings().database_url
run_alembic_environment(context, url, Base.metadata, version_table="alembic_version_accounts")
