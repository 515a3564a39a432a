"""Engine, sessions and the bridge from the event loop to blocking database work.

Every request runs its database work as one function in one session, in a small thread pool,
so the event loop never waits on the database. Writes on SQLite start with `BEGIN IMMEDIATE`:
a write transaction that began as a reader could otherwise fail at once with "database is
locked" instead of waiting its turn (busy timeout) when another writer commits in between.
"""
from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.database import make_engine  # noqa: F401  (the service opens its database with it)

T = TypeVar("T")

class Database:
    """Sessions for reading and for writing, run in a thread pool off the event loop."""

    def __init__(self, engine: Engine, threads: int = 4) -> None:
        self.engine = engine
        writer = engine
        if engine.dialect.name == "sqlite":
            writer = engine.execution_options(sqlite_immediate=True)
        self._read_sessions = sessionmaker(bind=engine, future=True, expire_on_commit=False)
        self._write_sessions = sessionmaker(bind=writer, future=True, expire_on_commit=False)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="handoff-db")

    def read_sync(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._read_sessions() as session:
            try:
                return work(session, *args, **kwargs)
            finally:
                session.rollback()

    def write_sync(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._write_sessions() as session, session.begin():
            return work(session, *args, **kwargs)

    async def read(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work(session, *args)` in a read-only session, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self.read_sync, work, *args, **kwargs))

    async def write(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work(session, *args)` in one transaction, committed when it returns."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self.write_sync, work, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()


