"""Message 100 vs message 5 of a conversation against a running bot, optionally profiled.

A micro-benchmark of a minute (the conversation-length figure of `make bench` without the rest):
`loadgen.length_probe` (late and early messages sent alternately, so a change of the machine's
load hits both). With `--profile PID`, py-spy records that process (Rasa, or the action server)
while only the late messages are sent, then while only early ones are, and prints the key frames
of both side by side: what grows with the conversation.

    python -m scripts.length_probe http://127.0.0.1:5005
    python -m scripts.length_probe http://127.0.0.1:5005 --profile $(pgrep -f 'rasa run' | head -1)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from collections import Counter
from typing import Dict, List, Optional

import aiohttp

from scripts import loadgen
from scripts.bench import profile_summary

PY_SPY = str(Path(sys.executable).with_name("py-spy"))


async def _drive(url: str, senders: List[str], first: int, last: int) -> List[float]:
    """Messages first..last of each sender's conversation (one at a time); their latencies, ms."""
    texts = loadgen.LONG_CONVERSATION
    timings: List[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=loadgen.REQUEST_TIMEOUT)) as session:
        for n in range(first, last + 1):
            for sender in senders:
                started = time.perf_counter()
                async with session.post(url, json={"sender": sender, "message": texts[n % len(texts)]}) as response:
                    body = await response.read()
                if response.status != 200 or not json.loads(body):
                    raise RuntimeError(f"message {n} of {sender}: HTTP {response.status} {body[:200]!r}")
                timings.append((time.perf_counter() - started) * 1000)
    return timings


def _record(pid: int, seconds: int, out: Path) -> subprocess.Popen:
    return subprocess.Popen([PY_SPY, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(RATE),
                             "--format", "raw", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


RATE = 100  # py-spy samples a second


def inclusive_ms(raw: Path, messages: int) -> Dict[str, float]:
    """Milliseconds per message spent in each frame (inclusive, by function name) of a raw profile."""
    counts: Counter = Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            for name in {frame.split(" (")[0] for frame in stack.split(";")}:
                counts[name] += int(count)
    return {name: n * 1000 / RATE / max(messages, 1) for name, n in counts.items()}


def growth_table(late: Dict[str, float], early: Dict[str, float], top: int = 25) -> str:
    """Markdown: the frames whose CPU per message grew most from the early to the late messages."""
    rows = sorted(late, key=lambda name: early.get(name, 0.0) - late[name])[:top]
    lines = ["| frame (inclusive) | early ms/msg | late ms/msg | growth |", "|---|---|---|---|"]
    lines += [f"| {name} | {early.get(name, 0.0):.2f} | {late[name]:.2f} | {late[name] - early.get(name, 0.0):+.2f} |"
              for name in rows]
    return "\n".join(lines) + "\n"


def profile_by_length(base_url: str, pid: int, seconds: int, length: int, keep: Optional[Path] = None,
                      conversations: int = 8) -> str:
    """py-spy of `pid` during late messages only, then during early messages only; the key frames
    of both, and the frames whose CPU per message grew most (samples / messages of each phase).
    The late messages go to `conversations` conversations in turn, so that they stay near
    message `length` over the phase."""
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    aged = [f"profile-aged-{uuid.uuid4().hex[:8]}" for _ in range(conversations)]
    asyncio.run(_drive(url, aged, 1, length))
    report, per_message = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("late", "early"):
            out = Path(keep or tmp) / f"{label}.txt"
            spy = _record(pid, seconds, out)
            deadline = time.monotonic() + seconds
            n, timings, sent = length + 1, [], 0
            while time.monotonic() < deadline:
                if label == "late":
                    timings += asyncio.run(_drive(url, aged, n, n))
                    n, sent = n + 1, sent + len(aged)
                else:
                    fresh = [f"profile-fresh-{uuid.uuid4().hex[:8]}"]
                    timings += asyncio.run(_drive(url, fresh, 1, 7))[2:]  # messages 3-7 timed
                    sent += 7
            spy.wait()
            median = sorted(timings)[len(timings) // 2] if timings else float("nan")
            report += [f"## {label} messages ({sent} sent, median {median:.1f} ms of {len(timings)} timed)", "",
                       profile_summary(out) if out.exists() else "(no profile)", ""]
            per_message[label] = inclusive_ms(out, sent) if out.exists() else {}
    report += ["## what grows with the conversation (CPU ms per message, late - early)", "",
               growth_table(per_message["late"], per_message["early"])]
    return "\n".join(report)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="Rasa's base URL")
    parser.add_argument("--conversations", type=int, help="conversations driven to --length (default 3; profile: 8)")
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--profile", type=int, metavar="PID", help="py-spy this process instead")
    parser.add_argument("--seconds", type=int, default=20, help="profile: seconds per phase")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="profile: keep the raw profiles (late.txt, early.txt) here")
    args = parser.parse_args(argv)
    if args.profile:
        print(profile_by_length(args.url, args.profile, args.seconds, args.length, args.keep, args.conversations or 8))
        return 0
    result = asyncio.run(loadgen.length_probe(args.url, conversations=args.conversations or 3, length=args.length))
    print(json.dumps(result))
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
