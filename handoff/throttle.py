"""Sign-in throttling (CONTRACT.md): wrong passwords counted per username and per client address.

Each key (`user:<name>`, `addr:<address>`) keeps the times of its wrong passwords within
`window` seconds. When they reach the key's limit, the key is locked: every sign-in for it gets
429 with `Retry-After`, the right password included, for `lock` seconds, doubled on each repeat
within the window (at most `max_lock`). The log is not emptied by a lock, so after a lock the
next wrong password locks again at once: never more than `limit` guesses per window, plus one
per lock. A right password empties its username's log (not its address's: one good account must
not reset the count of a whole address).

`MemorySignInThrottle` keeps the keys in this process (`make run`); `RedisSignInThrottle` in
Redis (`REDIS_URL`, `make cluster`), so the limit is one limit across instances. Like the
per-sender rate limit (handoff/ratelimit.py) it falls back to this process's count, logged,
while Redis cannot be reached.
"""
from __future__ import annotations

import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """`limit` wrong passwords within `window` seconds lock a key for `lock` seconds at first."""

    limit: int
    window: float = 900.0
    lock: float = 30.0
    max_lock: float = 900.0

    def lock_for(self, strikes: int) -> float:
        return min(self.max_lock, self.lock * 2 ** max(0, strikes - 1))


@dataclass(frozen=True)
class Check:
    key: str
    limit: Limit


@dataclass
class _Key:
    failures: deque = field(default_factory=deque)
    locked_until: float = 0.0
    strikes: int = 0
    strikes_until: float = 0.0


class MemorySignInThrottle:
    kind = "memory"

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self.keys: dict[str, _Key] = {}

    async def retry_after(self, checks: Sequence[Check]) -> float:
        return self.retry_after_here(checks)

    def retry_after_here(self, checks: Sequence[Check]) -> float:
        """Seconds until every key of `checks` is unlocked (0: sign-in may be tried)."""
        now = self.clock()
        return max([0.0] + [state.locked_until - now for c in checks if (state := self.keys.get(c.key))])

    async def failed(self, checks: Sequence[Check]) -> list[tuple[Check, float]]:
        return self.failed_here(checks)

    def failed_here(self, checks: Sequence[Check]) -> list[tuple[Check, float]]:
        """Count a wrong password; returns the keys it locked, with the lock's seconds."""
        now = self.clock()
        if len(self.keys) > self.max_keys:
            self.prune(now)
        locked = []
        for check in checks:
            state = self.keys.setdefault(check.key, _Key())
            failures = state.failures
            failures.append(now)
            while failures and (failures[0] <= now - check.limit.window or len(failures) > check.limit.limit):
                failures.popleft()
            if len(failures) >= check.limit.limit:
                state.strikes = state.strikes + 1 if state.strikes_until > now else 1
                state.strikes_until = now + check.limit.window
                seconds = check.limit.lock_for(state.strikes)
                state.locked_until = now + seconds
                locked.append((check, seconds))
        return locked

    async def succeeded(self, check: Check) -> None:
        self.keys.pop(check.key, None)

    def prune(self, now: float) -> None:
        """Forget keys with no lock and no failure left in their window."""
        for key in [k for k, s in self.keys.items()
                    if s.locked_until <= now and s.strikes_until <= now]:
            del self.keys[key]


# KEYS[1] the failure log (sorted set), KEYS[2] the lock, KEYS[3] the strikes; ARGV limit,
# window ms, first lock ms, longest lock ms, a unique member. Returns the lock's ms, 0 if none.
# Redis's clock, not the instances': they may differ.
_FAILED = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(limit + 1))
redis.call('PEXPIRE', KEYS[1], window)
if redis.call('ZCARD', KEYS[1]) < limit then
  return 0
end
local strikes = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], window)
local lock = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ (strikes - 1))
redis.call('SET', KEYS[2], '1', 'PX', math.floor(lock))
return math.floor(lock)
"""


class RedisSignInThrottle:
    kind = "redis"

    def __init__(self, client: Any, prefix: str = "bolt:handoff:signin:") -> None:
        self.client = client
        self.prefix = prefix
        self.local = MemorySignInThrottle()
        self._failed = client.register_script(_FAILED)

    def _keys(self, check: Check) -> list[str]:
        base = self.prefix + check.key
        return [base + ":failures", base + ":lock", base + ":strikes"]

    async def retry_after(self, checks: Sequence[Check]) -> float:
        from redis.exceptions import RedisError

        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for check in checks:
                    pipe.pttl(self._keys(check)[1])
                remaining = await pipe.execute()
        except (RedisError, OSError) as error:
            logger.warning("sign-in throttle: Redis unreachable (%s); counting on this instance", error)
            return self.local.retry_after_here(checks)
        return max([0.0] + [ms / 1000 for ms in remaining if ms and ms > 0])

    async def failed(self, checks: Sequence[Check]) -> list[tuple[Check, float]]:
        from redis.exceptions import RedisError

        locked = []
        try:
            for check in checks:
                limit = check.limit
                ms = await self._failed(
                    keys=self._keys(check),
                    args=[limit.limit, int(limit.window * 1000), int(limit.lock * 1000),
                          int(limit.max_lock * 1000), os.urandom(8).hex()],
                )
                if ms:
                    locked.append((check, int(ms) / 1000))
        except (RedisError, OSError) as error:
            logger.warning("sign-in throttle: Redis unreachable (%s); counting on this instance", error)
            return self.local.failed_here(checks)
        return locked

    async def succeeded(self, check: Check) -> None:
        from redis.exceptions import RedisError

        await self.local.succeeded(check)
        try:
            await self.client.delete(self._keys(check)[0])
        except (RedisError, OSError) as error:
            logger.warning("sign-in throttle: Redis unreachable (%s)", error)
