"""Load generator (aiohttp) for the REST channel and the widget websocket `/ws/chat`.

Closed loop, no think time: `concurrency` virtual users each run conversations back to back,
every conversation with a fresh sender id, until `duration` seconds or `max_messages` messages
are used up. A conversation is a fixed, realistic mix of FAQ messages (German and English:
greeting, phone numbers, plans, priorities, thanks), alternating between the scripts below.

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
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
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
     "Is phone support included in Premier+?", "What does priority 1 mean?", "thank you!"],
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


async def _rest_user(session: aiohttp.ClientSession, url: str, index: int, budget: _Budget, result: RunResult,
                     prefix: str) -> None:
    n = index
    while True:
        script = CONVERSATIONS[n % len(CONVERSATIONS)]
        sender = f"{prefix}-{uuid.uuid4().hex[:12]}"
        for text in script:
            if not budget.take():
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
                   locale_for: Sequence[str]) -> None:
    n = index
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
                for text in script:
                    if not budget.take():
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
              prefix: str = "bench") -> RunResult:
    """One load level. `base_url`: Rasa's (rest) or the live-agent service's (ws) root URL."""
    result = RunResult(channel, concurrency)
    budget = _Budget(duration, max_messages)
    connector = aiohttp.TCPConnector(limit=concurrency + 4)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        if channel == "rest":
            url = base_url.rstrip("/") + "/webhooks/rest/webhook"
            users = [_rest_user(session, url, i, budget, result, prefix) for i in range(concurrency)]
        elif channel == "ws":
            url = base_url.rstrip("/").replace("http", "ws", 1) + "/ws/chat"
            users = [_ws_user(session, url, i, budget, result, ["de", "en"]) for i in range(concurrency)]
        else:
            raise ValueError(channel)
        await asyncio.gather(*users)
    result.wall = time.monotonic() - started
    return result


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
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.channel, args.url, args.concurrency, args.duration, args.max_messages))
    print(json.dumps(result.summary(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
