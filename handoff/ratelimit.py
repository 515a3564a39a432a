"""Token buckets: per websocket connection and per sender (conversation), in memory."""
from __future__ import annotations

import time
from typing import Callable


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
    """One bucket per sender id, shared by all of that sender's connections."""

    def __init__(self, burst: int, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    def take(self, sender: str) -> bool:
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
