"""One holder at a time per conversation, across every live-agent instance.

While a conversation's user messages are relayed to Rasa (and its `agent_handled` event is
delivered), the conversation's lock is held, so its turns reach Rasa one after another and in
order, whichever instance the user's sockets are on.

- `MemoryLocks`: asyncio locks, one process.
- `RedisLocks`: a Redis lock per conversation (SET NX PX, released only by its owner) with a
  short lease that a keeper task renews while the holder works: a holder that dies frees the
  conversation within `lease_seconds`. When Redis cannot be reached, the lock falls back to
  this process's own (logged), so one instance keeps working.

    async with locks.hold(conversation_id):                 # waits up to `wait_seconds`
        ...
    async with locks.try_hold(conversation_id) as held:     # background jobs: skip if busy
        if held: ...
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator
from weakref import WeakValueDictionary

logger = logging.getLogger(__name__)


class LockTimeout(Exception):
    """The conversation stayed busy for longer than the wait allowed."""


class MemoryLocks:
    kind = "memory"

    def __init__(self) -> None:
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    @contextlib.asynccontextmanager
    async def hold(self, key: str, wait_seconds: float = 60.0) -> AsyncIterator[None]:
        lock = self._lock(key)
        try:
            await asyncio.wait_for(lock.acquire(), wait_seconds)
        except asyncio.TimeoutError:
            raise LockTimeout(key) from None
        try:
            yield
        finally:
            lock.release()

    @contextlib.asynccontextmanager
    async def try_hold(self, key: str) -> AsyncIterator[bool]:
        lock = self._lock(key)
        if lock.locked():
            yield False
            return
        await lock.acquire()
        try:
            yield True
        finally:
            lock.release()


class RedisLocks:
    kind = "redis"

    def __init__(self, client: Any, prefix: str = "bolt:handoff:lock:", lease_seconds: float = 6.0) -> None:
        self.client = client
        self.prefix = prefix
        self.lease_seconds = lease_seconds
        self.local = MemoryLocks()  # also orders this instance's own waiters without polling Redis

    async def _keep(self, lock: Any) -> None:
        from redis.exceptions import RedisError

        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await lock.reacquire()
            except (RedisError, OSError) as error:
                logger.warning("locks: could not renew %s: %s", lock.name, error)

    @contextlib.asynccontextmanager
    async def _held(self, lock: Any) -> AsyncIterator[None]:
        from redis.exceptions import LockError, RedisError

        keeper = asyncio.create_task(self._keep(lock))
        try:
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            try:
                await lock.release()
            except (LockError, RedisError, OSError) as error:
                logger.info("locks: %s was not ours any more at release: %s", lock.name, error)

    def _redis_lock(self, key: str, wait_seconds: float | None) -> Any:
        return self.client.lock(
            self.prefix + key, timeout=self.lease_seconds, sleep=0.02,
            blocking=wait_seconds is not None, blocking_timeout=wait_seconds, thread_local=False,
        )

    @contextlib.asynccontextmanager
    async def hold(self, key: str, wait_seconds: float = 60.0) -> AsyncIterator[None]:
        from redis.exceptions import RedisError

        async with self.local.hold(key, wait_seconds):
            lock = self._redis_lock(key, wait_seconds)
            try:
                acquired = await lock.acquire()
            except (RedisError, OSError) as error:
                logger.warning("locks: Redis unreachable (%s); %s is locked on this instance only", error, key)
                yield
                return
            if not acquired:
                raise LockTimeout(key)
            async with self._held(lock):
                yield

    @contextlib.asynccontextmanager
    async def try_hold(self, key: str) -> AsyncIterator[bool]:
        from redis.exceptions import RedisError

        async with self.local.try_hold(key) as free_here:
            if not free_here:
                yield False
                return
            lock = self._redis_lock(key, None)
            try:
                acquired = await lock.acquire()
            except (RedisError, OSError) as error:
                logger.warning("locks: Redis unreachable (%s); skipping %s", error, key)
                yield False
                return
            if not acquired:
                yield False
                return
            async with self._held(lock):
                yield True
