"""Engine and sessions for the accounts database, created on first use (never at import)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.database import make_engine
from bot.settings import get_settings

_ENGINES: dict[str, Engine] = {}


def engine_for(database_url: str) -> Engine:
    """One engine (and pool) per database URL for the life of the process."""
    engine = _ENGINES.get(database_url)
    if engine is None:
        settings = get_settings()
        engine = _ENGINES[database_url] = make_engine(
            database_url, settings.database_pool_size, settings.database_max_overflow
        )
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
