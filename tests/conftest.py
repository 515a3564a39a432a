"""Shared fixtures: the real domain, real PostgreSQL and Redis servers, fresh databases on
either backend, and the whole stack of real services for integration tests.

Databases and servers (see `tests/servers.py`):
- `database_backend`: "sqlite" or "postgresql". A test that uses it, directly or through another
  fixture such as `make_database`, runs once per backend chosen with `--database` (default:
  both; `--database sqlite` leaves PostgreSQL out on purpose). Test ids end in `[sqlite]` or
  `[postgresql]`, and the tests run grouped by backend.
- `make_database(template=None, prepare=None) -> url`: a fresh database on the test's backend,
  dropped after the test. With `template="name"`, a copy of a template database that
  `prepare(url)` migrates and seeds once per session and backend.
- `databases`: the `Databases` behind `make_database`, one per backend for the session.
- `postgres_server`: a running `PostgresServer` for the session (started on first use; fails,
  never skips, when PostgreSQL is not installed). `postgres_url`: a fresh empty PostgreSQL
  database for one test, whatever `--database` says.
- `redis_server`: a running `RedisServer` for the session; `redis_url`: its URL, emptied
  (FLUSHALL) before the test.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from bot.settings import ROOT
from scripts.runtime import prepare_database
from tests.servers import (
    BACKENDS, Databases, PostgresServer, Prepare, RedisServer, ServerUnavailable, database_name,
)

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

MODEL = ROOT / "models" / "bolt.tar.gz"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database", action="append", choices=BACKENDS, dest="databases",
        help="run the database tests on this backend (repeatable; default: sqlite and postgresql)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_backend" in metafunc.fixturenames:
        backends = metafunc.config.getoption("databases") or list(BACKENDS)
        # Session scope groups the tests by backend: all of SQLite, then all of PostgreSQL.
        metafunc.parametrize("database_backend", backends, indirect=True, scope="session")


@pytest.fixture(scope="session")
def database_backend(request: pytest.FixtureRequest) -> str:
    """"sqlite" or "postgresql": the backend this test runs on (parametrized by --database)."""
    return request.param


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the whole session (initdb into a temporary directory)."""
    try:
        server = PostgresServer.start()
    except ServerUnavailable as error:
        pytest.fail(f"PostgreSQL is needed and could not start: {error} "
                    "(or leave the PostgreSQL variants out with --database sqlite)", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A throwaway Redis server for the whole session."""
    try:
        server = RedisServer.start()
    except ServerUnavailable as error:
        pytest.fail(f"Redis is needed and could not start: {error}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis server, emptied for this test."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test (dropped after it)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(database_name(url))


@pytest.fixture(scope="session")
def databases(database_backend: str, request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """Fresh databases of the test's backend (templates kept for the session)."""
    if database_backend == "postgresql":
        databases = Databases(postgres=request.getfixturevalue("postgres_server"))
    else:
        databases = Databases(directory=tmp_path_factory.mktemp("databases"))
    yield databases
    databases.close()


@pytest.fixture
def make_database(databases: Databases) -> Iterator[Callable[..., str]]:
    """make_database(template=None, prepare=None) -> the URL of a fresh database for this test."""
    made: list[str] = []

    def make(template: str | None = None, prepare: Prepare | None = None) -> str:
        made.append(databases.fresh(template, prepare))
        return made[-1]

    yield make
    for url in made:
        databases.drop(url)


@pytest.fixture(scope="session")
def domain():
    """The project's real domain (`domain.yml`)."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """Action server, Rasa (the trained model) and the live-agent service on free ports.

    The model is the one `make test` trains before running pytest; the database is a fresh
    SQLite file with the demo data. `stack.restart_handoff()` restarts the live-agent service.
    """
    from scripts.runtime import free_port
    from scripts.stack import Stack

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


@pytest.fixture(scope="module")
def agent():
    """The trained model, loaded in this process as Rasa serves it (the pipeline's components
    imported): for tests of the dialogue internals (window, rule index, graph runner, states)."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test does it first)")
    from rasa.core.agent import Agent

    import bot.components  # noqa: F401  (the model's pipeline imports it too)

    return Agent.load(str(MODEL))
