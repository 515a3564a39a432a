"""Load generator (aiohttp) for the REST channel and the widget websocket `/ws/chat`.

Closed loop: `concurrency` virtual users each run conversations back to back, every
conversation with a fresh sender id, until `duration` seconds or `max_messages` messages are
used up; without think time (`think=0`) the next message goes as soon as the answer is there,
with it a user waits a uniformly random 0.5-1.5 × `think` seconds first (and the users start
spread over one think time, so they don't arrive in a burst). A conversation is a fixed,
realistic mix (German and English: greeting, phone numbers and follow-ups, plans, priorities,
"how do I submit a web ticket?", thanks), alternating between the scripts below.

`capacity` finds how many users with think time a server holds at a p95 latency limit (grows
the count by half until the limit or an error is hit, then bisects); `length_probe` compares
the latency of a conversation's 100th message with its 5th (interleaved, so a change of the
machine's load hits both).

- REST: `POST /webhooks/rest/webhook`; latency = request → response. Errors: non-200,
  transport errors, timeouts. Empty replies (HTTP 200, no bot message) are counted apart: a
  failure for our bot (it must answer every FAQ message), normal for the stock `rasa init` bot,
  which has no answer for most of these messages.
- Widget: `hello` → `welcome`, then per message `{"type": "message"}` followed by
  `{"type": "ping"}`; the server handles a socket's frames in order, so the `pong` marks the
  end of the bot's whole reply. Latency = message sent → pong. Errors: `error` frames, no bot
  frame before the pong, transport errors, timeouts. A conversation (≤ 8 messages) stays inside
  the service's per-connection burst, so the rate limiter never triggers.

    python -m scripts.loadgen rest http://127.0.0.1:5005 --concurrency 20 --duration 20
    python -m scripts.loadgen ws http://127.0.0.1:8080 --concurrency 20 --duration 20
    python -m scripts.loadgen ws http://127.0.0.1:8080 --capacity --think 4 --concurrency 40 --duration 30
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import aiohttp

# Each a conversation as users have them: one language, a greeting, FAQ questions, a thank-you.
CONVERSATIONS: List[List[str]] = [
    ["Hallo", "Wie lautet die Support-Telefonnummer in der Schweiz?", "und in Österreich?",
     "Was ist im Premier-Plan enthalten?", "Was bedeutet Priorität P1?", "Danke!"],
    ["Hi there", "What is the support phone number in Germany?", "What does the Standard plan include?",
     "How fast do you respond to a P2 issue?", "thanks a lot"],
    ["Guten Tag", "Welche Support-Pläne gibt es?", "Gibt es eine Hotline für Italien?",
     "Was ist der Unterschied zwischen P3 und P4?", "vielen Dank"],
    ["hello", "Do you have a support number for the UK?", "and for Japan?",
     "Is phone support included in Premier+?", "how do I submit a web ticket?", "What does priority 1 mean?",
     "thank you!"],
]
# Conversation length probe (`length_probe`): FAQ questions asked over and over, no greeting.
LONG_CONVERSATION: List[str] = [
    "Wie lautet die Support-Telefonnummer in der Schweiz?", "Was ist im Premier-Plan enthalten?",
    "Was bedeutet Priorität P1?", "What is the support phone number in Germany?",
    "What does the Standard plan include?", "How fast do you respond to a P2 issue?",
]
REQUEST_TIMEOUT = 30.0


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """The q-th percentile (0..100), linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


@dataclass
class RunResult:
    channel: str
    concurrency: int
    latencies: List[float] = field(default_factory=list)  # seconds, successful messages only
    errors: Dict[str, int] = field(default_factory=dict)
    conversations: int = 0
    empty: int = 0  # answered (HTTP 200) with no bot message
    wall: float = 0.0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self) -> dict:
        return summarize(self.channel, self.concurrency, self.latencies, self.errors, self.wall, self.conversations,
                         self.empty)


def summarize(channel: str, concurrency: int, latencies: Sequence[float], errors: Dict[str, int],
              wall: float, conversations: int = 0, empty: int = 0) -> dict:
    """msg/s (answered messages per wall second) and latency percentiles in milliseconds."""
    ms = [x * 1000 for x in latencies]
    return {
        "channel": channel,
        "concurrency": concurrency,
        "messages": len(ms),
        "conversations": conversations,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "empty_replies": empty,
        "seconds": round(wall, 2),
        "msg_per_s": round(len(ms) / wall, 2) if wall > 0 else 0.0,
        "p50_ms": _round(percentile(ms, 50)),
        "p95_ms": _round(percentile(ms, 95)),
        "p99_ms": _round(percentile(ms, 99)),
        "max_ms": _round(max(ms) if ms else None),
    }


def _round(x: Optional[float]) -> Optional[float]:
    return None if x is None else round(x, 1)


class _Budget:
    """Stops the virtual users after `duration` seconds or `max_messages` messages."""

    def __init__(self, duration: float, max_messages: int) -> None:
        self.deadline = time.monotonic() + duration
        self.left = max_messages

    def take(self) -> bool:
        if self.left <= 0 or time.monotonic() >= self.deadline:
            return False
        self.left -= 1
        return True


async def _think(think: float, rng: random.Random, first: bool = False) -> None:
    if think > 0:
        await asyncio.sleep(rng.uniform(0, think) if first else rng.uniform(0.5 * think, 1.5 * think))


async def _turn(position: int, think: float, rng: random.Random, budget: _Budget) -> bool:
    """Before a conversation's turn: think (not before its first), then take a message from the
    budget; False when the budget is spent."""
    if position:
        await _think(think, rng)
    return budget.take()


async def _rest_user(session: aiohttp.ClientSession, url: str, index: int, budget: _Budget, result: RunResult,
                     prefix: str, think: float = 0.0) -> None:
    n = index
    rng = random.Random(index)
    await _think(think, rng, first=True)
    while True:
        script = CONVERSATIONS[n % len(CONVERSATIONS)]
        sender = f"{prefix}-{uuid.uuid4().hex[:12]}"
        for position, text in enumerate(script):
            if not await _turn(position, think, rng, budget):
                return
            started = time.perf_counter()
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as response:
                    body = await response.read()
                    elapsed = time.perf_counter() - started
                    if response.status != 200:
                        result.error(f"http_{response.status}")
                        continue
                    result.latencies.append(elapsed)
                    if not json.loads(body):
                        result.empty += 1
            except asyncio.TimeoutError:
                result.error("timeout")
            except aiohttp.ClientError as error:
                result.error(type(error).__name__)
        result.conversations += 1
        n += 1


async def _ws_user(session: aiohttp.ClientSession, url: str, index: int, budget: _Budget, result: RunResult,
                   locale_for: Sequence[str], think: float = 0.0) -> None:
    n = index
    rng = random.Random(index)
    await _think(think, rng, first=True)
    while True:
        script = CONVERSATIONS[n % len(CONVERSATIONS)]
        if budget.left <= 0 or time.monotonic() >= budget.deadline:
            return
        try:
            async with session.ws_connect(url, timeout=REQUEST_TIMEOUT) as socket:
                await socket.send_json({"type": "hello", "locale": locale_for[n % len(locale_for)]})
                frame = await socket.receive_json(timeout=REQUEST_TIMEOUT)
                if frame.get("type") != "welcome":
                    result.error(f"no_welcome_{frame.get('type')}")
                    n += 1
                    continue
                for position, text in enumerate(script):
                    if not await _turn(position, think, rng, budget):
                        return
                    started = time.perf_counter()
                    await socket.send_json({"type": "message", "text": text})
                    await socket.send_json({"type": "ping"})
                    answered, failed = False, None
                    while True:
                        frame = await socket.receive_json(timeout=REQUEST_TIMEOUT)
                        kind = frame.get("type")
                        if kind == "pong":
                            break
                        if kind == "error":
                            failed = f"ws_error_{frame.get('code')}"
                        elif kind == "message" and frame.get("from") == "bot":
                            answered = True
                        elif kind == "message" and frame.get("from") == "system":
                            failed = "system_message"
                    elapsed = time.perf_counter() - started
                    if failed or not answered:
                        result.error(failed or "no_bot_reply")
                    else:
                        result.latencies.append(elapsed)
        except asyncio.TimeoutError:
            result.error("timeout")
        except (aiohttp.ClientError, aiohttp.WSServerHandshakeError, TypeError, ValueError) as error:
            result.error(type(error).__name__)
        result.conversations += 1
        n += 1


async def run(channel: str, base_url: str, concurrency: int, duration: float, max_messages: int,
              prefix: str = "bench", think: float = 0.0) -> RunResult:
    """One load level. `base_url`: Rasa's (rest) or the live-agent service's (ws) root URL."""
    result = RunResult(channel, concurrency)
    budget = _Budget(duration, max_messages)
    connector = aiohttp.TCPConnector(limit=concurrency + 4, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        if channel == "rest":
            url = base_url.rstrip("/") + "/webhooks/rest/webhook"
            users = [_rest_user(session, url, i, budget, result, prefix, think) for i in range(concurrency)]
        elif channel == "ws":
            url = base_url.rstrip("/").replace("http", "ws", 1) + "/ws/chat"
            users = [_ws_user(session, url, i, budget, result, ["de", "en"], think) for i in range(concurrency)]
        else:
            raise ValueError(channel)
        await asyncio.gather(*users)
    result.wall = time.monotonic() - started
    return result


def within(summary: dict, p95_limit_ms: float) -> bool:
    """A load level is held: every message answered (no errors) at p95 within the limit."""
    return summary["messages"] > 0 and summary["errors"] == 0 and (summary["p95_ms"] or 1e9) <= p95_limit_ms


async def capacity(channel: str, base_url: str, think: float = 4.0, duration: float = 30.0,
                   p95_limit_ms: float = 500.0, start: int = 40, most: int = 2000, bisect_steps: int = 2,
                   prefix: str = "capacity", report=print) -> dict:
    """The most users with `think` seconds between messages held at p95 <= the limit.

    Grows the count by half from `start` until a level misses (or `most`; when `start` misses,
    shrinks it by a third until one holds), then bisects between the last held and the first
    missed level `bisect_steps` times. Returns the users held and
    every level's summary.
    """
    levels: List[dict] = []

    async def probe(users: int) -> bool:
        summary = (await run(channel, base_url, users, duration, 10**9, prefix=f"{prefix}-{users}",
                             think=think)).summary()
        summary["held"] = within(summary, p95_limit_ms)
        levels.append(summary)
        report(f"  {channel} {users:>4} users, think {think:g} s: {summary['msg_per_s']:6.1f} msg/s  "
               f"p50 {summary['p50_ms']} p95 {summary['p95_ms']} ms  errors {summary['errors']}  "
               f"{'held' if summary['held'] else 'missed'}")
        return summary["held"]

    held, missed, users = 0, None, start
    while users <= most:
        if not await probe(users):
            missed = users
            break
        held, users = users, int(users * 1.5)
    while not held and missed and missed > 2:  # the first level missed already: down by a third
        users = max(1, int(missed / 1.5))
        if await probe(users):
            held = users
        else:
            missed = users
    for _ in range(bisect_steps if missed else 0):
        middle = (held + missed) // 2
        if middle in (held, missed):
            break
        if await probe(middle):
            held = middle
        else:
            missed = middle
    return {"channel": channel, "think_s": think, "p95_limit_ms": p95_limit_ms, "users": held,
            "first_missed": missed, "levels": levels}


async def length_probe(base_url: str, conversations: int = 3, length: int = 100, early: int = 5,
                       window: int = 5, prefix: str = "length") -> dict:
    """Median latency of messages `length`-window+1..`length` against `early`-2..`early`+2.

    First `conversations` conversations are driven to `length - window` messages (not timed),
    then the late messages of those and the early ones of as many fresh conversations are sent
    alternately, one at a time (REST).
    """
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    texts = LONG_CONVERSATION
    early_range = range(max(1, early - window // 2), max(1, early - window // 2) + window)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    late_ms: List[float] = []
    early_ms: List[float] = []
    errors = 0
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def send(sender: str, n: int) -> Optional[float]:
            nonlocal errors
            started = time.perf_counter()
            async with session.post(url, json={"sender": sender, "message": texts[n % len(texts)]}) as response:
                body = await response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200 or not json.loads(body):
                errors += 1
                return None
            return elapsed

        aged = [f"{prefix}-aged-{uuid.uuid4().hex[:10]}" for _ in range(conversations)]
        fresh = [f"{prefix}-fresh-{uuid.uuid4().hex[:10]}" for _ in range(conversations)]
        for n in range(1, length - window + 1):
            await asyncio.gather(*(send(sender, n) for sender in aged))
        for sender_aged, sender_fresh in zip(aged, fresh):
            for n in range(1, early_range.start):
                await send(sender_fresh, n)
            for late_n, early_n in zip(range(length - window + 1, length + 1), early_range):
                late = await send(sender_aged, late_n)
                first = await send(sender_fresh, early_n)
                if late is not None:
                    late_ms.append(late)
                if first is not None:
                    early_ms.append(first)
    early_median = statistics.median(early_ms) if early_ms else None
    late_median = statistics.median(late_ms) if late_ms else None
    return {"length": length, "early": early, "early_ms": _round(early_median), "late_ms": _round(late_median),
            "ratio": round(late_median / early_median, 3) if early_median and late_median else None,
            "samples": len(late_ms), "errors": errors}


async def warm_up(base_url: str, messages: int = 8) -> None:
    """A few REST messages so first-request costs (lazy imports, JIT caches) are not measured."""
    await run("rest", base_url, 2, 60, messages, prefix="warmup")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("channel", choices=["rest", "ws"])
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--max-messages", type=int, default=5000)
    parser.add_argument("--think", type=float, default=0.0, help="seconds between a user's messages (mean)")
    parser.add_argument("--capacity", action="store_true",
                        help="find the users held at p95 <= --p95-limit with --think (default 4) s think time")
    parser.add_argument("--p95-limit", type=float, default=500.0)
    args = parser.parse_args(argv)
    if args.capacity:
        found = asyncio.run(capacity(args.channel, args.url, think=args.think or 4.0, duration=args.duration,
                                     p95_limit_ms=args.p95_limit, start=args.concurrency))
        print(json.dumps({k: v for k, v in found.items() if k != "levels"}, indent=1))
        return 0
    result = asyncio.run(run(args.channel, args.url, args.concurrency, args.duration, args.max_messages,
                             think=args.think))
    print(json.dumps(result.summary(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
