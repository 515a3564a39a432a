"""Issue 12's acceptance of the two load targets, against a stock `rasa init` bot in the same run.

Independent of `make bench` (its own order, its own verdicts; it shares only the load generator
and the way our stack is started):

1. `rasa init --no-prompt` a stock bot into a temporary directory (or use `--stock-dir`);
2. our stack as `make run` starts it (fresh SQLite database, free ports, `models/bolt.tar.gz`),
   then the stock bot; each is measured alone, one after the other, with the same load:
   - closed loop: 20 conversations of the realistic mix (`scripts/loadgen.py`, incl. "how do I
     submit a web ticket?"), no think time, over REST: throughput ratio and our p95;
   - capacity: users with ~4 s think time held at p95 <= 500 ms, ours over the widget
     (live-agent service -> Rasa -> actions), the stock bot over REST;
3. repeats the pair `--rounds` times (alternating which bot goes first) and judges the medians.

Prints a table and exits 0 when both targets hold (closed loop >= 3x stock with p95 <= 250 ms and
no errors; capacity >= 4x), 1 otherwise. A benchmark, not a test: it is not part of `make test`.

    python -m scripts.bench_acceptance                       # about 10 min
    python -m scripts.bench_acceptance --stock-dir /tmp/stock --rounds 1
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

from bot.settings import ROOT
from scripts import loadgen
from scripts.bench import init_stock, start_ours, start_stock

CLOSED_LOOP_RATIO, CLOSED_LOOP_P95_MS, CAPACITY_RATIO = 3.0, 250.0, 4.0


def _closed_loop(url: str, args: argparse.Namespace, label: str) -> dict:
    summary = asyncio.run(loadgen.run("rest", url, args.concurrency, args.duration, 10**9,
                                      prefix=f"accept-{label}")).summary()
    print(f"  {label}: closed loop {summary['msg_per_s']} msg/s, p95 {summary['p95_ms']} ms, "
          f"errors {summary['errors']}, empty {summary['empty_replies']}", flush=True)
    return summary


def _capacity(channel: str, url: str, args: argparse.Namespace, label: str, start: int) -> int:
    found = asyncio.run(loadgen.capacity(channel, url, think=args.think, duration=args.capacity_duration,
                                         p95_limit_ms=args.p95_limit, start=start, bisect_steps=2,
                                         prefix=f"accept-cap-{label}",
                                         report=lambda line: print(f"  {label}:{line}", flush=True)))
    return found["users"]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "bolt.tar.gz")
    parser.add_argument("--stock-dir", type=Path, help="a `rasa init` bot (trained) instead of a fresh one")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--think", type=float, default=4.0)
    parser.add_argument("--p95-limit", type=float, default=500.0)
    parser.add_argument("--capacity-duration", type=float, default=25.0)
    args = parser.parse_args(argv)
    if not args.model.exists():
        print(f"no model at {args.model}: make train", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="bolt-accept-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "log").mkdir()
        stock_dir = args.stock_dir
        if stock_dir is None:
            print("rasa init --no-prompt …", flush=True)
            init_stock(tmp / "stock", tmp / "cache-stock")
            stock_dir = tmp / "stock"
        for round_ in range(args.rounds):
            measured = {}
            order = ("ours", "stock") if round_ % 2 == 0 else ("stock", "ours")
            for bot in order:
                print(f"round {round_ + 1}: {bot} …", flush=True)
                if bot == "ours":
                    round_dir = tmp / f"ours-{round_}"
                    (round_dir / "log").mkdir(parents=True)
                    stack, _ = start_ours(args.model, round_dir)
                    try:
                        asyncio.run(loadgen.warm_up(stack.rasa_url))
                        closed = _closed_loop(stack.rasa_url, args, "ours")
                        users = _capacity("ws", stack.handoff_url, args, "ours", 120)
                    finally:
                        stack.stop()
                else:
                    service, url, _ = start_stock(stock_dir, tmp / "log")
                    try:
                        asyncio.run(loadgen.warm_up(url))
                        closed = _closed_loop(url, args, "stock")
                        users = _capacity("rest", url, args, "stock", 60)
                    finally:
                        service.stop()
                measured[bot] = (closed, users)
            (ours_closed, ours_users), (stock_closed, stock_users) = measured["ours"], measured["stock"]
            rows.append({
                "closed_ratio": ours_closed["msg_per_s"] / stock_closed["msg_per_s"] if stock_closed["msg_per_s"] else 0.0,
                "p95": ours_closed["p95_ms"] or 1e9,
                "bad": ours_closed["errors"] + ours_closed["empty_replies"],
                "capacity_ratio": ours_users / stock_users if stock_users else 0.0,
                "users": (ours_users, stock_users),
            })
    closed_ratio = statistics.median(r["closed_ratio"] for r in rows)
    p95 = statistics.median(r["p95"] for r in rows)
    bad = sum(r["bad"] for r in rows)
    capacity_ratio = statistics.median(r["capacity_ratio"] for r in rows)
    verdicts = [
        ("closed loop, realistic mix, ours / stock throughput", f"×{closed_ratio:.2f}", f"≥ ×{CLOSED_LOOP_RATIO:g}",
         closed_ratio >= CLOSED_LOOP_RATIO),
        ("closed loop p95, ours", f"{p95:.0f} ms", f"≤ {CLOSED_LOOP_P95_MS:.0f} ms", p95 <= CLOSED_LOOP_P95_MS),
        ("closed loop errors + empty replies, ours", str(bad), "0", bad == 0),
        ("widget users (ours) / REST users (stock) at p95 ≤ 500 ms, think 4 s",
         f"×{capacity_ratio:.2f} ({', '.join(f'{o}/{s}' for o, s in (r['users'] for r in rows))})",
         f"≥ ×{CAPACITY_RATIO:g}", capacity_ratio >= CAPACITY_RATIO),
    ]
    print("\n| what | value | target | |\n|---|---|---|---|")
    for name, value, target, ok in verdicts:
        print(f"| {name} | {value} | {target} | {'ok' if ok else 'MISSED'} |")
    return 0 if all(ok for *_, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
