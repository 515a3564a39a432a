"""Rasa's Redis lock store from the project's settings (the second line behind the routing)."""
from __future__ import annotations

import asyncio

import pytest

from bot.settings import get_settings


@pytest.fixture
def lock_store(redis_url, monkeypatch):
    from bot.lock_store import RedisLockStore

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("RASA_LOCK_LIFETIME_SECONDS", "5")
    get_settings.cache_clear()
    try:
        yield RedisLockStore()
    finally:
        get_settings.cache_clear()


async def test_a_second_holder_waits_for_the_first(lock_store):
    order: list[str] = []

    async def turn(name: str, seconds: float) -> None:
        async with lock_store.lock("conversation-1"):
            order.append(f"{name} in")
            await asyncio.sleep(seconds)
            order.append(f"{name} out")

    first = asyncio.create_task(turn("first", 0.5))
    await asyncio.sleep(0.1)
    await asyncio.gather(first, turn("second", 0))
    assert order == ["first in", "first out", "second in", "second out"]
    assert lock_store.red.keys("rasa:lock:*") == [] or lock_store.get_lock("conversation-1") is None


async def test_a_lock_of_a_killed_process_runs_out(lock_store):
    """The dead holder's ticket was issued just before the waiter's (the case where Rasa's own
    store waits forever: both tickets run out in one poll)."""
    ticket = lock_store.issue_ticket("conversation-2", lock_lifetime=lock_store.lifetime)
    assert ticket == 0  # held, and never released: its process died
    started = asyncio.get_running_loop().time()
    async with lock_store.lock("conversation-2"):
        waited = asyncio.get_running_loop().time() - started
    assert 4 < waited < 7  # RASA_LOCK_LIFETIME_SECONDS=5


def test_it_needs_redis_url(monkeypatch):
    from bot.lock_store import RedisLockStore

    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError):
            RedisLockStore()
    finally:
        get_settings.cache_clear()
