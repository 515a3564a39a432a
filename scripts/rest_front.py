"""One Rasa process against two behind a sender-sticky front on the REST port, in one run.

The single-machine setup of `make run` (SQLite, one action server, the live-agent service) with
a second Rasa process beside the first (same model, database, action server and endpoints) and
HAProxy in front of both, routing by each REST message's `sender` (`json_query('$.sender')` of the
buffered body; `--balance`: consistent hashing, or a stick table filled by least connections):
a conversation always reaches the same process, which the tracker cache and Rasa's in-memory
lock store need (no lock store is safe across processes).
Then closed loops of the realistic mix (REST, `scripts.loadgen`) alternate between the first
Rasa process straight and the front, one first in odd rounds, the other in even ones. Per run:
throughput, p50/p95, errors, each Rasa's CPU per message (/proc) and the resident memory of both
(the second process's cost). A measurement, no pass/fail: `make run` keeps one process unless
this pays (docs/benchmarks.md).

    python -m scripts.rest_front --rounds 2 --duration 15
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import ROOT
from scripts import loadgen
from scripts.bench import first_answer, start_ours, tree_memory_mb
from scripts.rasa_cost import cpu_seconds
from scripts.runtime import free_port, start_process, stop_process
from scripts.stack import READY_TIMEOUT_SECONDS, Stack

HAPROXY = "/usr/sbin/haproxy"


# How the front picks a process: `hash` (consistent hashing of the sender: stateless, but 20
# conversations split unevenly), or `sticky` (a new sender goes to the process with the fewest
# requests in flight and stays there: HAProxy's stick table, in that HAProxy's memory only).
BALANCE = {
    "hash": ("hash req.body,json_query('$.sender')", ""),
    "sticky": ("leastconn", "  stick-table type string len 128 size 200k expire 2h\n"
                            "  stick on req.body,json_query('$.sender')\n"),
}


def haproxy_config(port: int, rasa_ports: List[int], balance: str = "hash") -> str:
    balance, stick = BALANCE[balance]
    servers = "\n".join(f"  server rasa{n} 127.0.0.1:{p} maxconn 64" for n, p in enumerate(rasa_ports, 1))
    return f"""global
  maxconn 2000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend rest
  bind 127.0.0.1:{port}
  option http-buffer-request
  default_backend rasa
backend rasa
  balance {balance}
  hash-type consistent
{stick}{servers}
"""


def second_rasa(stack: Stack, tmp: Path) -> "tuple[subprocess.Popen, str]":
    """Another Rasa process of `stack` (same database, action server, model) on a free port."""
    twin = Stack(rasa_port=free_port(), action_port=stack.action_port, handoff_port=stack.handoff_port,
                 database_url=stack.database_url, model=stack.model, log_dir=tmp / "log2")
    twin.log_dir.mkdir(parents=True, exist_ok=True)
    service = next(s for s in twin.services() if s.name == "rasa")
    service.start(twin.environment(), twin.log_dir)
    first_answer(twin.rasa_url, time.monotonic() + READY_TIMEOUT_SECONDS)
    assert service.process is not None
    return service.process, twin.rasa_url


def measure(label: str, url: str, pids: Dict[str, int], concurrency: int, duration: float) -> dict:
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    load = os.getloadavg()[0]
    summary = asyncio.run(loadgen.run("rest", url, concurrency, duration, 100_000, prefix=f"front-{label}")).summary()
    messages = max(summary["messages"], 1)
    cpu = {name: (cpu_seconds(pid) - before[name]) * 1000 / messages for name, pid in pids.items()}
    summary.update(setup=label, load_1m=round(load, 2), cpu_ms={k: round(v, 2) for k, v in cpu.items()})
    print(f"  {label:<5} {summary['msg_per_s']:>6.1f} msg/s  p50 {summary['p50_ms']} p95 {summary['p95_ms']} ms  "
          f"CPU ms/msg {summary['cpu_ms']}  errors {summary['errors']} empty {summary['empty_replies']}  "
          f"load {load:.2f}", flush=True)
    return summary


def render(runs: List[dict], memory: Dict[str, dict], args: argparse.Namespace) -> str:
    lines = [f"- command: `python -m scripts.rest_front {' '.join(sys.argv[1:])}`".rstrip(),
             f"- date: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; {args.concurrency} conversations, "
             f"{args.duration:g} s a run, REST, realistic mix; load average at the end "
             f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", "",
             "| run | setup | msg/s | p50 ms | p95 ms | p99 ms | CPU ms/msg (rasa1, rasa2, haproxy, actions) | errors | empty | load 1m |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for n, r in enumerate(runs, 1):
        cpu = r["cpu_ms"]
        lines.append(f"| {n} | {r['setup']} | {r['msg_per_s']:.1f} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
                     f"{cpu['rasa1']}, {cpu['rasa2']}, {cpu['haproxy']}, {cpu['actions']} | {r['errors']} | "
                     f"{r['empty_replies']} | {r['load_1m']} |")
    lines += ["", "| median | one process | two behind the front | two / one |", "|---|---|---|---|"]
    for key, name in (("msg_per_s", "msg/s"), ("p95_ms", "p95 ms"), ("p50_ms", "p50 ms")):
        one = statistics.median(r[key] for r in runs if r["setup"] == "one")
        two = statistics.median(r[key] for r in runs if r["setup"] == "two")
        lines.append(f"| {name} | {one:.1f} | {two:.1f} | ×{two / one:.2f} |")
    lines += ["", "| memory after the runs (MB) | RSS | peak |", "|---|---|---|"]
    lines += [f"| {name} | {m['rss_mb']} | {m['peak_rss_mb']} |" for name, m in memory.items()]
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "bolt.tar.gz")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--balance", choices=sorted(BALANCE), default="sticky")
    args = parser.parse_args(argv)
    if not Path(HAPROXY).exists():
        print(f"{HAPROXY} is missing (apt-get install haproxy, or make cluster's scripts/system_deps.sh)", file=sys.stderr)
        return 2
    runs: List[dict] = []
    with tempfile.TemporaryDirectory(prefix="bolt-front-") as tmp_name:
        tmp = Path(tmp_name)
        stack, _ = start_ours(args.model.resolve(), tmp)
        twin = front = None
        try:
            twin, twin_url = second_rasa(stack, tmp)
            port = free_port()
            config = tmp / "haproxy.cfg"
            config.write_text(haproxy_config(port, [stack.rasa_port, int(twin_url.rsplit(":", 1)[1])], args.balance))
            front = start_process([HAPROXY, "-db", "-f", str(config)], tmp / "haproxy.log")
            front_url = f"http://127.0.0.1:{port}"
            first_answer(front_url, time.monotonic() + 30)
            pids = {"rasa1": stack._services["rasa"].process.pid, "rasa2": twin.pid, "haproxy": front.pid,
                    "actions": stack._services["actions"].process.pid}
            for url in (stack.rasa_url, twin_url):  # the first messages load lazily
                asyncio.run(loadgen.run("rest", url, 4, 3, 100_000, prefix="warm"))
            urls = {"one": stack.rasa_url, "two": front_url}
            for n in range(args.rounds):
                for label in (("one", "two") if n % 2 == 0 else ("two", "one")):
                    runs.append(measure(label, urls[label], pids, args.concurrency, args.duration))
                    time.sleep(2)
            memory = {"rasa 1": tree_memory_mb(pids["rasa1"]), "rasa 2": tree_memory_mb(twin.pid),
                      "haproxy": tree_memory_mb(front.pid), "actions": tree_memory_mb(pids["actions"]),
                      "live-agent service": tree_memory_mb(stack._services["handoff"].process.pid)}
        finally:
            for process in (front, twin):
                if process is not None:
                    stop_process(process)
            stack.stop()
    print()
    print(render(runs, memory, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
