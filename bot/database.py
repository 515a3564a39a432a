"""The one way this project opens a database, and runs an Alembic environment on it.

The accounts (`bot/accounts/`), the live-agent service (`handoff/`) and Rasa's tracker store
share one database by default (a SQLite file), each with its own tables and, for the first two,
their own Alembic version table.
"""
from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Engine, create_engine, make_url
from sqlalchemy.pool import NullPool, QueuePool

# Several processes write to the same SQLite file: a writer waits this long for its turn.
SQLITE_BUSY_TIMEOUT_MS = 15_000
# pg_advisory_lock key held while any part of the schema migrates or its demo data is seeded,
# so services starting together on an empty database take turns (issue: UniqueViolation on
# Alembic's version table when three services migrated at once).
MIGRATION_LOCK_KEY = 0x626F6C74  # "bolt"


def make_engine(url: str, pool_size: int = 5, max_overflow: int = 5) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout, foreign keys and explicit BEGINs.

    On SQLite, a connection with the execution option `sqlite_immediate=True` starts its
    transactions with `BEGIN IMMEDIATE`: a write transaction that began as a reader could
    otherwise fail at once with "database is locked" instead of waiting for the busy timeout.
    Other databases get a pool of `pool_size` + `max_overflow` connections at most (the
    connection budget in docs/scaling.md); the URL's query (`sslmode`, `application_name`, …)
    reaches the driver unchanged.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, future=True, pool_pre_ping=True, pool_size=pool_size,
                             max_overflow=max_overflow)
    pooling = {}
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy 1.4 opens a new SQLite connection per checkout by default; keeping a few
        # open saved a sixth of the tracker store's time per message (docs/benchmarks.md).
        pooling = {"poolclass": QueuePool, "pool_size": 4, "max_overflow": 4}
    engine = create_engine(
        url,
        future=True,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **pooling,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is switched off so that `_on_begin` decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Hold the project's migration lock: one process at a time migrates or seeds `url`.

    PostgreSQL: a session-level advisory lock on a connection of its own (released when the
    connection closes, also when the process dies). SQLite: an exclusive `flock` on a file
    beside the database. Other databases: no lock.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        engine = create_engine(url, future=True, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                    connection.commit()
        finally:
            engine.dispose()
    elif backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        lock_path = Path(parsed.database + ".migrate-lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        yield


def run_alembic_environment(context: Any, url: str, metadata: MetaData, version_table: str) -> None:
    """The body of an Alembic `env.py` for one part of the shared database.

    Only the tables of `metadata` are compared, and the revision is kept in `version_table`, so
    each part migrates on its own schedule without touching the others' tables.
    """

    def include_object(obj: Any, name: str, type_: str, reflected: bool, compare_to: Any) -> bool:
        return name in metadata.tables if type_ == "table" else True

    options = dict(target_metadata=metadata, version_table=version_table,
                   include_object=include_object, render_as_batch=True)  # SQLite alters by copying
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                # A batch alter copies the table and drops the old one; with foreign keys on, the
                # drop fails as soon as rows elsewhere point at it (Alembic's batch docs).
                # On the DB-API connection (autocommit, see _on_connect): SQLite ignores the
                # pragma inside a transaction, and SQLAlchemy would begin one around it.
                connection.connection.execute("PRAGMA foreign_keys=OFF")
            context.configure(connection=connection, **options)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()
