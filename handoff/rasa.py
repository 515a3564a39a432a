"""Client of the Rasa servers: the REST channel for user messages, the tracker API for events.

With several Rasa processes (`RASA_URLS`), each conversation goes to one of them, chosen by
consistent hashing of its sender id: one conversation is never processed by two processes at
once (Rasa 3.6's open-source lock stores don't make that safe, RasaHQ/rasa#9213), and adding
a process moves only a share of the conversations. When that process can't be reached, the
next one on the ring takes the conversation until the first is back.

Two failures are told apart, because the caller must not have a message processed twice:
- `RasaUnavailable`: no Rasa process received the message (connection refused, unreachable):
  sending it again is safe.
- `RasaUncertain`: a process may have received it (it died mid-answer, timed out, failed): the
  caller looks into the tracker (`replies_for`) before sending it again.
"""
from __future__ import annotations

import bisect
import hashlib
import logging
import time
from typing import Any, Callable, Iterable
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)

# Metadata key that carries the live-agent service's id of a user message into Rasa's tracker,
# so a message whose answer got lost can be recognised there.
MESSAGE_KEY = "bolt_message_id"
VIRTUAL_NODES = 64


class RasaUnavailable(Exception):
    """No Rasa process could be reached: the message was not received anywhere."""


class RasaUncertain(RasaUnavailable):
    """A Rasa process may have received the message but gave no usable answer.

    `finished`: the process is done with it (it answered with an error, or the connection
    broke off because it died): once its tracker shows no trace of the message, another
    process may take it at once. Otherwise (a timeout) it may still be working on it.
    """

    def __init__(self, message: str, finished: bool) -> None:
        super().__init__(message)
        self.finished = finished


def _point(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big")


class HashRing:
    """Consistent hashing of sender ids over the Rasa URLs (virtual nodes for an even spread)."""

    def __init__(self, urls: Iterable[str], virtual_nodes: int = VIRTUAL_NODES) -> None:
        self.urls = tuple(dict.fromkeys(u.rstrip("/") for u in urls))
        if not self.urls:
            raise ValueError("at least one Rasa URL is needed")
        points = sorted((_point(f"{url}#{n}"), url) for url in self.urls for n in range(virtual_nodes))
        self._points = [p for p, _ in points]
        self._owners = [u for _, u in points]

    def order(self, key: str) -> list[str]:
        """Every URL, the key's own first, then as the ring goes on."""
        start = bisect.bisect(self._points, _point(key)) % len(self._points)
        seen: dict[str, None] = {}
        for index in range(start, start + len(self._points)):
            seen.setdefault(self._owners[index % len(self._points)])
            if len(seen) == len(self.urls):
                break
        return list(seen)


class RasaClient:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_urls: str | Iterable[str],
        api_token: str,
        timeout: float,
        down_seconds: float = 3.0,
    ) -> None:
        self.http = http
        self.ring = HashRing([base_urls] if isinstance(base_urls, str) else base_urls)
        self.api_token = api_token
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(3.0, timeout))
        self.down_seconds = down_seconds
        self._down_until: dict[str, float] = {}
        self._reachable: tuple[float, bool] = (0.0, False)
        # Called with the seconds each answered user message took (handoff/metrics.py).
        self.on_answer: Callable[[float], None] | None = None

    @property
    def base_url(self) -> str:
        return self.ring.urls[0]

    def route(self, sender: str) -> list[str]:
        """The processes to try for `sender`: its own first, those known to be down last."""
        now = time.monotonic()
        order = self.ring.order(sender)
        return [u for u in order if self._down_until.get(u, 0) <= now] + [
            u for u in order if self._down_until.get(u, 0) > now
        ]

    def _mark_down(self, url: str, error: BaseException) -> None:
        if self._down_until.get(url, 0) <= time.monotonic():
            logger.warning("Rasa at %s unreachable (%s); its conversations go to the next process", url, error)
        self._down_until[url] = time.monotonic() + self.down_seconds

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """The bot's replies to one user message, from the sender's Rasa process (or the next)."""
        body = {"sender": sender, "message": text, "metadata": metadata}
        last: BaseException | None = None
        for url in self.route(sender):
            started = time.monotonic()
            try:
                async with self.http.post(
                    f"{url}/webhooks/rest/webhook", json=body, timeout=self.timeout
                ) as response:
                    if response.status != 200:
                        self._mark_down(url, RuntimeError(f"HTTP {response.status}"))
                        raise RasaUncertain(f"Rasa at {url} answered {response.status}", finished=True)
                    replies = await response.json(content_type=None)
            except aiohttp.ClientConnectorError as error:
                # Refused or unreachable: the message never got there, the next process may take it.
                self._mark_down(url, error)
                last = error
                continue
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as error:
                self._mark_down(url, error)
                raise RasaUncertain(f"Rasa at {url} broke off: {error.__class__.__name__}: {error}",
                                    finished=True) from error
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                raise RasaUncertain(f"Rasa at {url}: {error.__class__.__name__}: {error}",
                                    finished=False) from error
            self._down_until.pop(url, None)
            if self.on_answer is not None:
                self.on_answer(time.monotonic() - started)
            if not isinstance(replies, list):
                raise RasaUncertain(f"Rasa at {url} answered with something other than a list", finished=True)
            return [r for r in replies if isinstance(r, dict)]
        raise RasaUnavailable(f"no Rasa process reachable: {last.__class__.__name__}: {last}")

    async def replies_for(self, sender: str, message_key: str) -> list[dict[str, Any]] | None:
        """The replies Rasa gave to the message tagged `message_key`, read from the tracker.

        None when the tracker holds no such message (it may be sent); raises
        `RasaUnavailable` when no process could tell.
        """
        last: BaseException | None = None
        for url in self.route(sender):
            try:
                async with self.http.get(
                    f"{url}/conversations/{quote(sender, safe='')}/tracker",
                    params={"token": self.api_token}, timeout=self.timeout,
                ) as response:
                    if response.status != 200:
                        last = RasaUnavailable(f"tracker of {sender} at {url}: {response.status}")
                        continue
                    tracker = await response.json(content_type=None)
            except aiohttp.ClientConnectorError as error:
                self._mark_down(url, error)
                last = error
                continue
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                last = error
                continue
            return replies_in_tracker(tracker.get("events") or [], message_key)
        raise RasaUnavailable(f"no Rasa process could show the tracker of {sender}: {last}")

    async def agent_handled(self, sender: str) -> bool:
        """Append the `agent_handled` slot to the tracker; False when Rasa can't take it now."""
        event = {"event": "slot", "name": "agent_handled", "value": True}
        for url in self.route(sender):
            try:
                async with self.http.post(
                    f"{url}/conversations/{quote(sender, safe='')}/tracker/events",
                    params={"token": self.api_token}, json=event, timeout=self.timeout,
                ) as response:
                    if response.status == 200:
                        return True
                    logger.warning("Rasa refused the agent_handled event for %s: %s", sender, response.status)
                    return False
            except aiohttp.ClientConnectorError as error:
                self._mark_down(url, error)
            except (aiohttp.ClientError, TimeoutError) as error:
                logger.warning("Rasa failed the agent_handled event of %s: %s", sender, error)
                return False
        return False

    async def reachable(self, cache_seconds: float = 2.0) -> bool:
        """Whether at least one Rasa process answers. A yes is kept briefly (health checks come
        every second); a no is asked again each time, so a process that is back shows at once."""
        checked_at, answer = self._reachable
        if answer and time.monotonic() - checked_at < cache_seconds:
            return answer
        answer = False
        for url in self.ring.urls:
            try:
                async with self.http.get(f"{url}/", timeout=aiohttp.ClientTimeout(total=1.0)) as response:
                    if response.status == 200:
                        answer = True
                        break
            except (aiohttp.ClientError, TimeoutError):
                continue
        self._reachable = (time.monotonic(), answer)
        return answer


def replies_in_tracker(events: list[dict[str, Any]], message_key: str) -> list[dict[str, Any]] | None:
    """The bot messages that followed the user message tagged `message_key`, REST-shaped."""
    start = None
    for index, event in enumerate(events):
        if event.get("event") == "user" and str((event.get("metadata") or {}).get(MESSAGE_KEY)) == message_key:
            start = index
    if start is None:
        return None
    replies = []
    for event in events[start + 1:]:
        if event.get("event") == "user":
            break
        if event.get("event") != "bot":
            continue
        reply: dict[str, Any] = {}
        if event.get("text"):
            reply["text"] = event["text"]
        for key, value in (event.get("data") or {}).items():
            if value:
                reply[key] = value
        if reply:
            replies.append(reply)
    return replies
