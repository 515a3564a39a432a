"""How a push reaches the live-agent instance that holds the socket: the bus behind `Hub`.

A push is a JSON frame published on a topic; every instance delivers what it receives to its
own sockets. Two topics exist: `conversation:<id>` (the widget sockets of one conversation)
and `agents` (signed-in agents; the envelope says which queue or agent it is for).

- `MemoryBus`: one process (SQLite, `make run`). Publishing delivers at once, in process.
- `RedisBus`: Redis pub/sub, for any number of instances. An instance subscribes to
  `conversation:<id>` only while it holds a socket of that conversation, so the answer of
  PUBLISH (how many subscribers got it) is how many instances hold one. When Redis cannot be
  reached, a push is still delivered to this instance's own sockets (and logged): the
  database stays the record, and a user who reconnects gets the whole history.

The API is five coroutines: `start(deliver)`, `publish(topic, payload) -> int`,
`watch(topic)`, `unwatch(topic)`, `close()`; plus `kind` ("memory" | "redis", reported by
`GET /health` as `bus`) and `healthy()`.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable

logger = logging.getLogger(__name__)

Deliver = Callable[[str, dict[str, Any]], Awaitable[int]]

AGENTS = "agents"


def conversation_topic(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class Bus:
    """Publish a payload to every instance that watches its topic."""

    kind = "abstract"

    def __init__(self) -> None:
        self._deliver: Deliver | None = None
        self.watched: set[str] = {AGENTS}

    async def start(self, deliver: Deliver) -> None:
        """Begin delivering what arrives: `deliver(topic, payload)` -> sockets reached."""
        self._deliver = deliver

    async def publish(self, topic: str, payload: dict[str, Any]) -> int:
        """Send to every instance watching `topic`; returns how many instances watch it."""
        raise NotImplementedError

    async def watch(self, topic: str) -> None:
        self.watched.add(topic)

    async def unwatch(self, topic: str) -> None:
        self.watched.discard(topic)

    async def healthy(self) -> bool:
        return True

    async def close(self) -> None:
        self._deliver = None

    async def deliver_here(self, topic: str, payload: dict[str, Any]) -> int:
        if self._deliver is None or topic not in self.watched:
            return 0
        return await self._deliver(topic, payload)


class MemoryBus(Bus):
    """One process: a push goes straight to this process's sockets."""

    kind = "memory"

    async def publish(self, topic: str, payload: dict[str, Any]) -> int:
        watched = topic in self.watched
        await self.deliver_here(topic, payload)
        return 1 if watched else 0


class RedisBus(Bus):
    """Redis pub/sub: one subscriber connection per instance, channels `<prefix><topic>`."""

    kind = "redis"

    def __init__(self, client: Any, prefix: str = "bolt:handoff:push:") -> None:
        super().__init__()
        self.client = client
        self.prefix = prefix
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._listener: asyncio.Task | None = None

    async def start(self, deliver: Deliver) -> None:
        await super().start(deliver)
        await self.pubsub.subscribe(*(self.prefix + topic for topic in self.watched))
        self._listener = asyncio.create_task(self._listen(), name="handoff-bus")

    async def _listen(self) -> None:
        from redis.exceptions import RedisError

        failures = 0
        while True:
            try:
                message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if failures:
                    failures = 0
                    await self._resubscribe()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                # redis-py reconnects and subscribes to its channels again on the next call.
                failures += 1
                if failures == 1:
                    logger.warning("bus: Redis subscription lost (%s); reconnecting", error)
                await asyncio.sleep(min(0.2 * failures, 2.0))
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else channel
            try:
                payload = json.loads(message["data"])
            except ValueError:
                logger.warning("bus: dropped a malformed payload on %s", channel)
                continue
            try:
                await self.deliver_here(channel[len(self.prefix):], payload)
            except Exception:  # one failed delivery must not end the subscription
                logger.exception("bus: delivery on %s failed", channel)

    async def _resubscribe(self) -> None:
        """Subscribe to the topics whose SUBSCRIBE failed while Redis was away."""
        known = {c.decode() if isinstance(c, bytes) else c for c in self.pubsub.channels}
        missing = [self.prefix + t for t in self.watched if self.prefix + t not in known]
        if missing:
            await self.pubsub.subscribe(*missing)
        logger.info("bus: Redis subscription restored")

    async def publish(self, topic: str, payload: dict[str, Any]) -> int:
        from redis.exceptions import RedisError

        try:
            return int(await self.client.publish(self.prefix + topic, json.dumps(payload, ensure_ascii=False)))
        except (RedisError, OSError) as error:
            logger.warning("bus: Redis unreachable (%s); delivering %s on this instance only", error, topic)
            return 1 if await self.deliver_here(topic, payload) else 0

    async def watch(self, topic: str) -> None:
        if topic not in self.watched:
            await super().watch(topic)
            await self._follow(self.pubsub.subscribe, topic)

    async def unwatch(self, topic: str) -> None:
        if topic in self.watched:
            await super().unwatch(topic)
            await self._follow(self.pubsub.unsubscribe, topic)

    async def _follow(self, change: Callable[[str], Awaitable[Any]], topic: str) -> None:
        """(Un)subscribe the topic's channel as `watched` now says; while Redis is away the
        listener's reconnect subscribes again to what `pubsub.channels` lists."""
        from redis.exceptions import RedisError

        try:
            await change(self.prefix + topic)
        except (RedisError, OSError) as error:
            logger.warning("bus: Redis did not take the %s of %s yet: %s", change.__name__, topic, error)

    async def healthy(self) -> bool:
        from redis.exceptions import RedisError

        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except asyncio.CancelledError:
                pass
        try:
            await self.pubsub.close()
        except Exception as error:  # closing on shutdown: nothing left to do about it
            logger.debug("bus: closing the subscription failed: %s", error)
        await super().close()
