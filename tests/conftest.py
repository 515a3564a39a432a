"""Shared fixtures: the real domain, and the whole stack of real services for integration tests."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ROOT

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

MODEL = ROOT / "models" / "bolt.tar.gz"


@pytest.fixture(scope="session")
def domain():
    """The project's real domain (`domain.yml`)."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


def prepare_database(database_url: str) -> None:
    """Migrate and seed a database exactly as `make db` does."""
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    for command in (["bot.accounts.cli", "migrate"], ["bot.accounts.cli", "seed"],
                    ["handoff", "migrate"], ["handoff", "seed"]):
        subprocess.run([sys.executable, "-m", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """Action server, Rasa (the trained model) and the live-agent service on free ports.

    The model is the one `make test` trains before running pytest; the database is a fresh
    SQLite file with the demo data. `stack.restart_handoff()` restarts the live-agent service.
    """
    from scripts.stack import Stack, free_port

    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test does it first)")
    directory: Path = tmp_path_factory.mktemp("stack")
    database_url = f"sqlite:///{directory / 'stack.db'}"
    prepare_database(database_url)
    services = Stack(
        rasa_port=free_port(), action_port=free_port(), handoff_port=free_port(),
        database_url=database_url, model=str(MODEL), log_dir=directory / "log",
    )
    services.start()
    yield services
    services.stop()
