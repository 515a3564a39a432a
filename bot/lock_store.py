"""Rasa's Redis lock store, configured from the project's settings: the second line.

The first line is the live-agent service, which sends each conversation to one Rasa process
(`handoff.rasa`, consistent hashing). When that process is down, the next one takes the
conversation; if the first comes back while a message of it is still being answered, this
lock makes the second message wait instead of both processes appending to one tracker. Rasa
3.6's open-source lock store narrows that race but does not close it (RasaHQ/rasa#9213).

    lock_store:
      type: bot.lock_store.RedisLockStore     # endpoints.yml of a cluster

`REDIS_URL` says where Redis is (`redis://[:password@]host:port/db`); `RASA_LOCK_LIFETIME_SECONDS`
how long a lock lives at most: a process killed while answering frees its conversation then.

A waiter's own ticket lives `WAIT_MARGIN_SECONDS` longer than the tickets before it: Rasa's
ticket lock serves the oldest unexpired ticket, and a waiter whose ticket ran out in the same
poll as the dead holder's would wait forever (both gone, "now serving" 0, never its number).
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional
from urllib.parse import urlsplit

from rasa.core import lock_store
from rasa.core.lock_store import TicketLock

from bot.settings import get_settings

# Longer than a few of the waiter's polls (`wait_time_in_seconds`).
WAIT_MARGIN_SECONDS = 2.0


class RedisLockStore(lock_store.RedisLockStore):
    def __init__(self, endpoint_config: Any = None) -> None:
        settings = get_settings()
        if not settings.redis_url:
            raise ValueError("bot.lock_store.RedisLockStore needs REDIS_URL")
        url = urlsplit(settings.redis_url)
        database = url.path.strip("/")
        super().__init__(
            host=url.hostname or "localhost",
            port=url.port or 6379,
            db=int(database) if database.isdigit() else 0,
            username=url.username or None,
            password=url.password or None,
            use_ssl=url.scheme == "rediss",
            key_prefix="rasa",
        )
        self.lifetime = settings.rasa_lock_lifetime_seconds

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: Optional[float] = None, wait_time_in_seconds: float = 0.2,
    ) -> AsyncGenerator[TicketLock, None]:
        lifetime = (lock_lifetime or self.lifetime) + WAIT_MARGIN_SECONDS
        async with super().lock(conversation_id, lifetime, wait_time_in_seconds) as ticket:
            yield ticket
