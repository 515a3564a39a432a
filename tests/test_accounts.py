"""The accounts database on real SQLite files: migrations, idempotent seed, repository, CLI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from bot.accounts import repository
from bot.accounts.cli import main as cli
from bot.accounts.db import dispose_engines, get_engine, session_scope
from bot.accounts.migrations import alembic_config, downgrade, upgrade
from bot.accounts.models import Account, TechnicalAccountManager, User
from bot.accounts.seed import DEMO_FIXTURE, seed
from bot.settings import ROOT

SHARED_FIXTURE = ROOT.parent / "shared" / "fixtures" / "demo.yml"


@pytest.fixture
def database_url(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    yield url
    dispose_engines()


@pytest.fixture
def migrated(database_url: str) -> str:
    upgrade(database_url)
    return database_url


def test_the_repository_copy_of_the_demo_data_equals_the_shared_fixture():
    assert SHARED_FIXTURE.exists(), f"the shared fixture belongs beside the checkout: {SHARED_FIXTURE}"
    assert DEMO_FIXTURE.read_bytes() == SHARED_FIXTURE.read_bytes()


def test_migrations_create_the_schema_with_their_own_version_table(migrated: str):
    inspector = inspect(get_engine(migrated))
    tables = set(inspector.get_table_names())
    assert {"accounts", "account_users", "technical_account_managers", "action_outbox"} <= tables
    assert "alembic_version_accounts" in tables
    assert "alembic_version" not in tables  # left to the live-agent service
    with get_engine(migrated).connect() as connection:
        version = connection.execute(text("select version_num from alembic_version_accounts")).scalar()
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrations_run_twice_and_down_again(migrated: str):
    upgrade(migrated)
    downgrade(migrated)
    assert "accounts" not in inspect(get_engine(migrated)).get_table_names()
    upgrade(migrated)
    assert "accounts" in inspect(get_engine(migrated)).get_table_names()


def test_sqlite_runs_in_wal_mode(migrated: str):
    with get_engine(migrated).connect() as connection:
        assert connection.execute(text("pragma journal_mode")).scalar().lower() == "wal"


def test_seed_is_idempotent(migrated: str):
    with session_scope(migrated) as session:
        first = seed(session)
    with session_scope(migrated) as session:
        second = seed(session)
    assert (first.accounts_created, first.users_created) == (7, 11)
    assert (second.accounts_created, second.users_created) == (0, 0)
    with session_scope(migrated) as session:
        assert len(session.execute(select(Account)).scalars().all()) == 7
        assert len(session.execute(select(User)).scalars().all()) == 11
        assert len(session.execute(select(TechnicalAccountManager)).scalars().all()) == 1


def test_seed_loads_every_fixture_field(migrated: str):
    data = yaml.safe_load(DEMO_FIXTURE.read_text(encoding="utf-8"))
    with session_scope(migrated) as session:
        seed(session, data)
    with session_scope(migrated) as session:
        for user in data["users"]:
            view = repository.find_user(session, user["id"])
            assert (view.account.id, view.role, view.licensed, view.name, view.email) == (
                user["account"], user["role"], user["licensed"], user["name"], user["email"])
        plus = repository.find_user(session, "u-plus-admin").account
        assert (plus.type, plus.plan, plus.tam_name, plus.tam_email) == (
            "enterprise", "premier_plus", "Miriam Keller", "m.keller@example.com")
        assert repository.find_user(session, "u-nobody") is None


def test_seed_updates_changed_rows(migrated: str):
    data = yaml.safe_load(DEMO_FIXTURE.read_text(encoding="utf-8"))
    with session_scope(migrated) as session:
        seed(session, data)
    data["users"][0]["licensed"] = True
    with session_scope(migrated) as session:
        result = seed(session, data)
    assert result.users_created == 0
    with session_scope(migrated) as session:
        assert repository.find_user(session, data["users"][0]["id"]).licensed is True


def test_cli_migrate_seed_add_and_list(database_url: str, capsys):
    assert cli(["--database-url", database_url, "migrate"]) == 0
    assert cli(["--database-url", database_url, "seed"]) == 0
    assert cli(["--database-url", database_url, "seed"]) == 0
    assert "(0 new)" in capsys.readouterr().out
    assert cli(["--database-url", database_url, "add-account", "acc-new", "--name", "Neu GmbH",
                "--type", "business", "--plan", "premier_plus",
                "--tam-name", "Tom Tam", "--tam-email", "tom@example.com"]) == 0
    assert cli(["--database-url", database_url, "add-user", "u-new", "--account", "acc-new",
                "--role", "admin", "--name", "Nora Neu", "--email", "nora@example.com", "--licensed"]) == 0
    assert cli(["--database-url", database_url, "add-user", "u-lost", "--account", "acc-missing",
                "--role", "member", "--name", "X", "--email", "x@example.com"]) == 1
    capsys.readouterr()
    assert cli(["--database-url", database_url, "list"]) == 0
    listing = capsys.readouterr().out
    assert "acc-new  Neu GmbH  [business, premier_plus, TAM Tom Tam <tom@example.com>]" in listing
    assert "u-new  Nora Neu <nora@example.com>  admin, licensed: tier2" in listing
    assert "u-basic-owner" in listing and "no live chat (free_account)" in listing


def test_cli_as_a_process_reads_database_url_from_the_environment(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(ROOT))
    for command in ("migrate", "seed", "list"):
        done = subprocess.run([sys.executable, "-m", "bot.accounts.cli", command], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert "u-plus-admin" in done.stdout
    assert (tmp_path / "env.db").exists()


def test_no_engine_at_import_time():
    code = ("import bot.accounts.db, bot.accounts.repository, bot.accounts.seed, bot.accounts.cli;"
            "from bot.accounts.db import _ENGINES; assert not _ENGINES")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))
