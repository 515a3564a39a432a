"""Engine and sessions for the accounts database, created on first use (never at import)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import get_settings

SQLITE_BUSY_TIMEOUT_MS = 5000


def make_engine(database_url: str) -> Engine:
    """An engine for `database_url`; SQLite gets WAL and a busy timeout (several processes write)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, future=True, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, future=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


_ENGINES: dict[str, Engine] = {}


def engine_for(database_url: str) -> Engine:
    """One engine (and pool) per database URL for the life of the process."""
    engine = _ENGINES.get(database_url)
    if engine is None:
        engine = _ENGINES[database_url] = make_engine(database_url)
    return engine


def get_engine(database_url: str | None = None) -> Engine:
    return engine_for(database_url or get_settings().database_url)


def session_factory(database_url: str | None = None) -> sessionmaker:
    return sessionmaker(bind=get_engine(database_url), future=True, expire_on_commit=False)


@contextmanager
def session_scope(database_url: str | None = None) -> Iterator[Session]:
    """A session for one unit of work (one action run): committed on success, else rolled back."""
    session = session_factory(database_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engines() -> None:
    """Close every pooled connection and forget the engines (tests, shutdown)."""
    while _ENGINES:
        _, engine = _ENGINES.popitem()
        engine.dispose()
