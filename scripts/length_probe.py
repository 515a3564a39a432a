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
from typing import List, Optional

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
    return subprocess.Popen([PY_SPY, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100",
                             "--format", "raw", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_by_length(base_url: str, pid: int, seconds: int, length: int) -> str:
    """py-spy of `pid` during late messages only, then during early messages only."""
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    aged = [f"profile-aged-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    asyncio.run(_drive(url, aged, 1, length))
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, senders_for in (("late", lambda: aged), ("early", None)):
            out = Path(tmp) / f"{label}.txt"
            spy = _record(pid, seconds, out)
            deadline = time.monotonic() + seconds
            n, timings = length + 1, []
            while time.monotonic() < deadline:
                if label == "late":
                    timings += asyncio.run(_drive(url, aged, n, n))
                    n += 1
                else:
                    fresh = [f"profile-fresh-{uuid.uuid4().hex[:8]}"]
                    timings += asyncio.run(_drive(url, fresh, 1, 7))[2:]
            spy.wait()
            median = sorted(timings)[len(timings) // 2] if timings else float("nan")
            report += [f"## {label} messages ({len(timings)}, median {median:.1f} ms)", "",
                       profile_summary(out) if out.exists() else "(no profile)", ""]
    return "\n".join(report)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="Rasa's base URL")
    parser.add_argument("--conversations", type=int, default=3)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--profile", type=int, metavar="PID", help="py-spy this process instead")
    parser.add_argument("--seconds", type=int, default=20, help="profile: seconds per phase")
    args = parser.parse_args(argv)
    if args.profile:
        print(profile_by_length(args.url, args.profile, args.seconds, args.length))
        return 0
    result = asyncio.run(loadgen.length_probe(args.url, conversations=args.conversations, length=args.length))
    print(json.dumps(result))
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
