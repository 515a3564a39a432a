"""The test servers and database fixtures of `tests/servers.py` and `tests/conftest.py`."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.servers import PostgresServer, ServerUnavailable, database_name


def _prepare(url: str) -> None:
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE seeded (name VARCHAR(20))"))
        connection.execute(text("INSERT INTO seeded VALUES ('from the template')"))
    engine.dispose()


def test_fresh_databases_are_separate_copies_of_their_template(make_database, database_backend):
    first, second, empty = make_database("demo", _prepare), make_database("demo", _prepare), make_database()
    assert len({first, second, empty}) == 3
    engines = [create_engine(url, future=True) for url in (first, second, empty)]
    try:
        assert engines[0].dialect.name == database_backend
        with engines[0].begin() as connection:
            connection.execute(text("DELETE FROM seeded"))
        with engines[1].connect() as connection:
            assert connection.execute(text("SELECT name FROM seeded")).scalars().all() == ["from the template"]
        assert inspect(engines[2]).get_table_names() == []
    finally:
        for engine in engines:
            engine.dispose()


def test_a_dropped_database_is_gone(databases):
    url = databases.fresh()
    engine = create_engine(url, future=True)
    with engine.begin() as connection:  # an open pooled connection does not keep it alive
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    databases.drop(url)
    databases.wait()
    if databases.postgres is not None:
        assert database_name(url) not in _postgres_databases(databases.postgres)
    else:
        assert not Path(database_name(url)).exists()
    engine.dispose()


def _postgres_databases(server: PostgresServer) -> list[str]:
    engine = create_engine(server.url(), future=True)
    with engine.connect() as connection:
        names = connection.execute(text("SELECT datname FROM pg_database")).scalars().all()
    engine.dispose()
    return names


def test_postgres_url_is_an_empty_database_of_its_own(postgres_url, postgres_server):
    engine = create_engine(postgres_url, future=True)
    with engine.connect() as connection:
        assert connection.execute(text("SHOW fsync")).scalar() == "off"
        assert connection.execute(text("SELECT current_user")).scalar() == "postgres"
    assert inspect(engine).get_table_names() == []
    engine.dispose()
    assert database_name(postgres_url) in _postgres_databases(postgres_server)


@pytest.mark.parametrize("key", ["first", "second"])
def test_redis_url_starts_empty(redis_url, redis_server, key):
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0  # whichever of the two runs second sees the other's key flushed
        client.set(key, "1")
        assert client.get(key) == b"1"
    finally:
        client.close()


def test_missing_postgres_binaries_say_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("POSTGRES_BIN", str(tmp_path))
    with pytest.raises(ServerUnavailable, match="system_deps.sh"):
        PostgresServer.start()
