"""What the widget path costs on top of Rasa: widget / REST throughput in one run, optionally profiled.

A micro-benchmark of a few minutes for the live-agent service's share of the whole path
(issue 12's widget capacity): our stack as `make run` starts it (fresh SQLite database, free
ports, `models/bolt.tar.gz`; or a running one with `--rasa-url`/`--handoff-url`), then rounds of
the same closed loop (the realistic mix of `scripts.loadgen`, fresh conversations, no think
time) alternately straight to Rasa over REST and through the widget socket (live-agent service
-> Rasa -> actions). Each round prints both and their ratio; the median ratio is the figure.
With `--think` the users think between messages (capacity-like load at a fixed user count).
With `--baseline REF`, each round also runs the widget load against the live-agent service of
another commit (`git archive REF`, started in place of this tree's on the same port and
database, so both meet the same Rasa): CPU per message and throughput, this / baseline.

With `--profile`, py-spy records the live-agent service during one more widget run and the
share of its samples in the frames that matter is printed (`--profile-out` keeps the raw file;
`--idle` also counts idle threads: where a relayed message waits, not only where it computes;
`--gil` only the thread that holds the GIL: where the service's Python CPU goes).

    python -m scripts.widget_probe                                    # 3 rounds, 20 users, 15 s
    python -m scripts.widget_probe --baseline a199c86 --rounds 2      # against an older live-agent service
    python -m scripts.widget_probe --rounds 1 --profile --profile-out /tmp/handoff.raw
    python -m scripts.widget_probe --rasa-url http://127.0.0.1:26005 --handoff-url http://127.0.0.1:26080 \\
        --handoff-pid $(cat /tmp/handoff.pid) --profile
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bot.settings import ROOT
from scripts import loadgen
from scripts.bench import profile_summary

PY_SPY = str(Path(sys.executable).with_name("py-spy"))

# Inclusive frames worth knowing in the live-agent service (function names as py-spy prints them).
KEY_FRAMES = (
    "_handle_frames", "ChatConnection.hello", "ChatConnection.message", "ChatConnection.store", "drain",
    "drain_held", "RasaClient.send", "Hub._send", "Database.write_sync", "Database.read_sync",
    "open_conversation", "store_user_message", "next_pending_relay", "complete_relay", "add_messages",
    "_on_begin", "do_commit", "do_execute", "_run_once", "select", "poll",
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(channel: str, url: str, args: argparse.Namespace, label: str, pids: Dict[str, int]) -> dict:
    load = os.getloadavg()[0]
    pids = {**pids, "loadgen": os.getpid()}  # the load generator shares the 2 cores
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    summary = asyncio.run(loadgen.run(channel, url, args.concurrency, args.duration, 10**9,
                                      prefix=f"probe-{label}", think=args.think)).summary()
    summary["load_1m_before"] = round(load, 2)
    messages = max(1, summary["messages"])
    summary["cpu_ms_per_message"] = {name: round((cpu_seconds(pid) - before[name]) * 1000 / messages, 1)
                                     for name, pid in pids.items()}
    cpu = "  ".join(f"{name} {ms} ms" for name, ms in summary["cpu_ms_per_message"].items())
    print(f"  {label:<6} {channel:<4} {summary['msg_per_s']:6.1f} msg/s  p50 {summary['p50_ms']} "
          f"p95 {summary['p95_ms']} ms  errors {summary['errors']} {summary['error_kinds'] or ''} "
          f"load {load:.2f}  CPU a message: {cpu or '-'}", flush=True)
    return summary


def _profiled_run(url: str, pids: Dict[str, int], args: argparse.Namespace, out: Path) -> None:
    command = [PY_SPY, "record", "--pid", str(pids["handoff"]), "--duration", str(int(args.duration)),
               "--rate", "100", "--format", "raw", "--output", str(out), "--nonblocking"]
    if args.idle:
        command.append("--idle")
    if args.gil:
        command.append("--gil")
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    _run("ws", url, args, "prof", pids)
    _, err = spy.communicate(timeout=60)
    if not out.exists():
        print(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}", flush=True)
        return
    print(profile_summary(out, top=25, key_frames=KEY_FRAMES), flush=True)


class Switch:
    """Runs the stack's live-agent service from this tree or from a baseline tree (another
    commit's `handoff/` and `bot/`), one at a time, on the same port and database."""

    def __init__(self, stack: Any, baseline: Optional[Path]) -> None:
        self.stack = stack
        self.baseline = baseline
        self.current: Optional[Path] = None  # None: this tree

    def pids(self) -> Dict[str, int]:
        return {name: self.stack._services[name].process.pid for name in ("handoff", "rasa", "actions")}

    def to(self, tree: Optional[Path]) -> Dict[str, int]:
        if tree != self.current:
            from scripts.runtime import start_process

            service = self.stack._services["handoff"]
            service.stop()
            env = self.stack.environment()
            if tree is not None:
                env["PYTHONPATH"] = str(tree)
            service.process = start_process(service.command, self.stack.log_dir / "handoff.log", env=env,
                                            cwd=tree or ROOT)
            service.wait_ready(time.monotonic() + 120)
            self.current = tree
            asyncio.run(loadgen.run("ws", self.stack.handoff_url, 2, 30, 6, prefix="probe-warm"))
        return self.pids()


def _median(values: List[float]) -> float:
    return statistics.median(values) if values else 0.0


def measure(rasa_url: str, handoff_url: str, pids: Dict[str, int], args: argparse.Namespace,
            switch: Optional[Switch] = None) -> float:
    """Rounds of REST and widget (and the baseline's widget with `switch.baseline`), the order
    reversed every other round; prints the ratios and returns the median widget / REST
    throughput. `pids`: the processes whose CPU time per message is shown."""
    asyncio.run(loadgen.warm_up(rasa_url))
    baseline = switch.baseline if switch else None
    ratios: Dict[str, List[float]] = {}
    cpu: Dict[str, List[float]] = {}
    for round_ in range(args.rounds):
        variants: List[Tuple[str, str, Optional[Path]]] = [("rest", "rest", None), ("ws", "ws", None)]
        if baseline is not None:
            variants.append(("base", "ws", baseline))
        if round_ % 2:
            variants.reverse()
        rows = {}
        for label, channel, tree in variants:
            if switch is not None and channel == "ws":
                pids = switch.to(tree)
            rows[label] = _run(channel, rasa_url if channel == "rest" else handoff_url, args, label, pids)
        found = {"widget / REST throughput": rows["ws"]["msg_per_s"] / max(rows["rest"]["msg_per_s"], 1e-9)}
        if "base" in rows:
            found["widget throughput, this / baseline"] = rows["ws"]["msg_per_s"] / max(rows["base"]["msg_per_s"], 1e-9)
            ours, theirs = rows["ws"]["cpu_ms_per_message"], rows["base"]["cpu_ms_per_message"]
            if theirs.get("handoff"):
                found["live-agent CPU a message, this / baseline"] = ours["handoff"] / theirs["handoff"]
            found["widget p95, this / baseline"] = (rows["ws"]["p95_ms"] or 0) / max(rows["base"]["p95_ms"] or 0, 1e-9)
        for name, value in found.items():
            ratios.setdefault(name, []).append(value)
        for label in ("ws", "base"):
            for name, ms in rows.get(label, {}).get("cpu_ms_per_message", {}).items():
                cpu.setdefault(f"{name} ({'this' if label == 'ws' else 'baseline'})", []).append(ms)
        print(f"round {round_ + 1}: " + ", ".join(f"{name} x{value:.2f}" for name, value in found.items()), flush=True)
    print(f"medians over {args.rounds} rounds ({args.concurrency} users, think {args.think:g} s, "
          f"{args.duration:g} s each):", flush=True)
    for name, values in ratios.items():
        print(f"  {name}: x{_median(values):.2f}", flush=True)
    if cpu:
        print("  CPU per widget message: " + ", ".join(
            f"{name} {_median(values):.1f} ms" for name, values in cpu.items()), flush=True)
    if switch is not None:
        pids = switch.to(None)
    if args.profile and "handoff" in pids:
        out = args.profile_out or Path(tempfile.mkdtemp(prefix="widget-probe-")) / "handoff.raw"
        _profiled_run(handoff_url, pids, args, out)
    return _median(ratios.get("widget / REST throughput", []))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "bolt.tar.gz")
    parser.add_argument("--rasa-url", help="a running stack's Rasa (with --handoff-url) instead of a fresh one")
    parser.add_argument("--handoff-url")
    parser.add_argument("--handoff-pid", type=int, help="the running live-agent service (CPU time, --profile)")
    parser.add_argument("--rasa-pid", type=int, help="the running Rasa process (CPU time)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--think", type=float, default=0.0)
    parser.add_argument("--baseline", metavar="REF",
                        help="also the live-agent service of this git commit (git archive), alternately")
    parser.add_argument("--profile", action="store_true", help="py-spy the live-agent service in one more widget run")
    parser.add_argument("--profile-out", type=Path)
    parser.add_argument("--idle", action="store_true", help="py-spy --idle: count waiting threads too")
    parser.add_argument("--gil", action="store_true", help="py-spy --gil: only the thread holding the GIL (CPU)")
    args = parser.parse_args(argv)
    if args.rasa_url:
        if not args.handoff_url:
            parser.error("--rasa-url needs --handoff-url")
        pids = {name: pid for name, pid in (("handoff", args.handoff_pid), ("rasa", args.rasa_pid)) if pid}
        measure(args.rasa_url, args.handoff_url, pids, args)
        return 0
    if not args.model.exists():
        print(f"no model at {args.model}: make train", file=sys.stderr)
        return 2
    from scripts.bench import start_ours

    with tempfile.TemporaryDirectory(prefix="widget-probe-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "log").mkdir()
        baseline = None
        if args.baseline:
            baseline = tmp / "baseline"
            baseline.mkdir()
            archive = subprocess.run(["git", "archive", args.baseline], cwd=ROOT, check=True, capture_output=True)
            subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive.stdout, check=True)
        stack, _ = start_ours(args.model, tmp)
        try:
            switch = Switch(stack, baseline)
            measure(stack.rasa_url, stack.handoff_url, switch.pids(), args, switch)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
