"""Start-up, migrations, seed and SLA reminders."""
from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text, update

from handoff import repository
from handoff.__main__ import main
from handoff.background import run_once
from handoff.db import Database, make_engine
from handoff.models import Conversation, metadata, utcnow
from tests.handoff.conftest import DEMO as DEMO_FILE, intake, login, receive


def test_an_upgrade_keeps_the_rows_of_a_database_in_use(tmp_path):
    """Every migration step on a database with conversations, messages, tickets and actions in
    it (SQLite copies a table to alter it: the rows pointing at it must survive)."""
    import alembic.script

    from handoff.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    script = alembic.script.ScriptDirectory.from_config(_alembic_config(url))
    revisions = [revision.revision for revision in reversed(list(script.walk_revisions()))]
    upgrade(url, revisions[0])
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO handoff_conversations (id, status, prioritized, tracker_event_pending, created_at, updated_at) "
            "VALUES ('c-old', 'bot', 0, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
        connection.execute(text(
            "INSERT INTO handoff_messages (conversation_id, sender, text, at) "
            "VALUES ('c-old', 'user', 'hello', '2026-01-01 00:00:00')"))
    for revision in revisions[1:]:
        upgrade(url, revision)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM handoff_messages WHERE conversation_id = 'c-old'")).scalar() == 1
    engine.dispose()


def _alembic_config(url: str):
    from handoff.migrate import alembic_config

    return alembic_config(url)


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_object": lambda obj, name, kind, *_: kind != "table" or name in metadata.tables})
        assert compare_metadata(context, metadata) == []
        assert connection.execute(text("SELECT version_num FROM alembic_version_handoff")).scalar()
        if engine.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert "alembic_version" not in inspect(engine).get_table_names()  # the accounts' table stays theirs
    engine.dispose()


def test_seeding_is_idempotent(database_url):
    database = Database(make_engine(database_url), threads=1)
    try:
        again = database.write_sync(repository.seed_agents, [
            {"username": "anna", "password": "changed", "name": "Anna", "tiers": ["tier1"]}])
        assert again == []
    finally:
        database.close()


def test_refuses_production_with_development_secrets(monkeypatch, capsys):
    from bot.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setenv("BOT_ENV", "production")
    try:
        assert main(["serve"]) == 2
    finally:
        get_settings.cache_clear()
    assert "BOT_IDENTITY_SECRET" in capsys.readouterr().err


async def test_sla_warning_is_pushed_once(client):
    await intake(client, "c-sla", priority="P1", prioritized=True)
    await intake(client, "c-relaxed", priority="P4", prioritized=True)
    tom = await login(client, "tom")
    ws = await client.ws_connect("/ws/agent")
    await ws.send_json({"type": "auth", "token": tom["Authorization"].split()[1]})
    await receive(ws, "ready")

    def deadline_in_ten_minutes(session):
        session.execute(update(Conversation).where(Conversation.id == "c-sla")
                        .values(first_response_due=utcnow() + timedelta(minutes=10)))

    from handoff.state import DATABASE

    await client.app[DATABASE].write(deadline_in_ten_minutes)
    assert await run_once(client.app) == 1
    warning = await receive(ws, "sla_warning")
    assert warning["conversation_id"] == "c-sla" and warning["deadline"] == "first_response"
    assert 9 <= warning["minutes_left"] <= 10
    assert await run_once(client.app) == 0
    await ws.close()


@pytest.mark.parametrize("command", ["migrate", "seed"])
def test_commands(command, tmp_path, monkeypatch):
    from bot.settings import get_settings

    url = f"sqlite:///{tmp_path / 'cmd.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        if command == "seed":
            assert main(["migrate"]) == 0
        assert main([command]) == 0
    finally:
        get_settings.cache_clear()
    engine = make_engine(url)
    with engine.connect() as connection:
        agents = connection.execute(text("SELECT count(*) FROM handoff_agents")).scalar()
    engine.dispose()
    demo_agents = len(yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))["agents"])
    assert agents == (demo_agents if command == "seed" else 0)
