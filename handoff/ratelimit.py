"""Token buckets: per websocket connection (in memory: a connection lives on one instance) and
per sender (conversation: in Redis when several instances serve it, so the limit is one limit).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

logger = logging.getLogger(__name__)


class TokenBucket:
    def __init__(self, burst: int, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self) -> bool:
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    @property
    def full(self) -> bool:
        self._refill()
        return self.tokens >= self.burst


class SenderLimits:
    """One bucket per sender id, shared by all of that sender's connections on this process."""

    kind = "memory"

    def __init__(self, burst: int, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    async def take(self, sender: str) -> bool:
        return self.take_here(sender)

    def take_here(self, sender: str) -> bool:
        bucket = self.buckets.get(sender)
        if bucket is None:
            if len(self.buckets) > 10_000:
                self.prune()
            bucket = self.buckets[sender] = TokenBucket(self.burst, self.rate, self.clock)
        return bucket.take()

    def prune(self) -> None:
        """Forget buckets that have refilled: they carry no information any more."""
        for sender in [s for s, b in self.buckets.items() if b.full]:
            del self.buckets[sender]


# A token bucket in one Redis hash, refilled from Redis's own clock (the instances' clocks may
# differ). KEYS[1] bucket; ARGV burst, rate per second. Returns 1 when a token was taken.
_TAKE = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return taken
"""


class RedisSenderLimits:
    """The per-sender bucket in Redis: one limit however many instances the sender reaches.

    When Redis cannot be reached, this process's own bucket decides (logged), so a Redis
    outage neither blocks every user nor lifts the limit.
    """

    kind = "redis"

    def __init__(self, client: Any, burst: int, rate: float, prefix: str = "bolt:handoff:rate:") -> None:
        self.client = client
        self.burst = burst
        self.rate = rate
        self.prefix = prefix
        self.local = SenderLimits(burst, rate)
        self._script = client.register_script(_TAKE)

    async def take(self, sender: str) -> bool:
        from redis.exceptions import RedisError

        try:
            return bool(await self._script(keys=[self.prefix + sender], args=[self.burst, self.rate]))
        except (RedisError, OSError) as error:
            logger.warning("rate limit: Redis unreachable (%s); counting on this instance", error)
            return self.local.take_here(sender)
