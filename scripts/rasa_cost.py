"""Rasa's cost per message: this tree against a baseline commit, in one run, same model.

Both trees are started as `make run` starts them (`scripts.bench.start_ours`: action server,
Rasa, live-agent service, a fresh SQLite database, free ports), side by side, with the same
model (`models/bolt.tar.gz` unless `--model`); the baseline is `git archive` of `--baseline`
(default: the merge base with main) in a temporary directory. Then closed loops of the
realistic mix (REST straight to Rasa, `scripts.loadgen`) alternate between them, ours first in
odd rounds, the baseline first in even ones. Per run: throughput, p50/p95, and the CPU time the
Rasa process (and the action server) spent per message, from /proc. CPU per message is the
figure to compare: on a shared machine throughput and latency move with the others' load, the
CPU a message costs much less. Prints every run and the ratios of the medians (ours / baseline).

    python -m scripts.rasa_cost                          # baseline: git merge-base HEAD main
    python -m scripts.rasa_cost --baseline 95fdecd --rounds 3 --duration 15
    python -m scripts.rasa_cost --profile /tmp/prof      # also py-spy each Rasa in its first run
    python -m scripts.rasa_cost --ours HEAD              # a commit instead of the working tree

A measurement, no pass/fail.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import ROOT
from scripts import loadgen
from scripts.bench import _children, profile, profile_summary

PYTHON = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")
READY_SECONDS = 400  # both stacks start at once on two shared cores
_MARK = "BOLT-COST "
# Runs in the tree being measured (its own code): only what main has had for long.
# TERM (and a closed stdin) stop the stack: start_ours stops what it started when interrupted.
_SERVE = f"""
import json, signal, sys
from pathlib import Path
from scripts.bench import start_ours
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
stack, ready = start_ours(Path(sys.argv[1]), Path(sys.argv[2]))
pids = {{name: service.process.pid for name, service in stack._services.items()}}
print({_MARK!r} + json.dumps({{"rasa_url": stack.rasa_url, "pids": pids, "ready_s": ready}}), flush=True)
try:
    sys.stdin.read()
finally:
    stack.stop()
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants so far."""
    tree, total, todo = _children(), 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(tree.get(current, []))
    return total


def _short(ref: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref], check=True,
                          capture_output=True, text=True).stdout.strip()


def tree_of(ref: str, into: Path) -> Path:
    """`git archive` of `ref` under `into`, beside a link to ../shared, with our var/nlu models."""
    tree = into / ROOT.name
    tree.mkdir(parents=True)
    archive = into / "tree.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), ref], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tree)
    archive.unlink()
    if (ROOT.parent / "shared").exists():
        (into / "shared").symlink_to(ROOT.parent / "shared")
    if (ROOT / "var" / "nlu").exists():  # the signal models (named by a digest of their code and data)
        shutil.copytree(ROOT / "var" / "nlu", tree / "var" / "nlu")
    return tree


class Running:
    """One tree's stack, started by a process running that tree's code."""

    def __init__(self, label: str, tree: Path, model: Path, tmp: Path) -> None:
        self.label, self.tree = label, tree
        tmp.mkdir(parents=True, exist_ok=True)
        self.log = open(tmp / "serve.log", "w", encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(tree), RASA_TELEMETRY_ENABLED="false")
        self.process = subprocess.Popen([PYTHON, "-c", _SERVE, str(model), str(tmp)], cwd=tree, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.info: Dict = {}

    def wait(self) -> "Running":
        deadline = time.monotonic() + READY_SECONDS
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(_MARK):
                self.info = json.loads(line[len(_MARK):])
                return self
            if time.monotonic() > deadline:
                break
        raise RuntimeError(f"{self.label}: the stack did not start (see {self.log.name})")

    def stop(self) -> None:
        """Closed stdin, then TERM (still starting); KILL only after both had their time."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self.log.close()


def measure(stack: Running, concurrency: int, duration: float, spy: Optional[Path]) -> dict:
    pids = stack.info["pids"]
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    load = os.getloadavg()[0]
    if spy is not None:
        profile(pids["rasa"], int(duration), spy)
    result = asyncio.run(loadgen.run("rest", stack.info["rasa_url"], concurrency, duration, 100_000,
                                     prefix=f"cost-{stack.label}"))
    summary = result.summary()
    messages = max(summary["messages"], 1)
    cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    summary.update(bot=stack.label, load_1m=round(load, 2),
                   rasa_cpu_ms=round(cpu["rasa"] * 1000 / messages, 2),
                   actions_cpu_ms=round(cpu["actions"] * 1000 / messages, 2))
    print(f"  {stack.label:<9} {summary['msg_per_s']:>6.1f} msg/s  p50 {summary['p50_ms']} p95 {summary['p95_ms']} ms  "
          f"Rasa CPU {summary['rasa_cpu_ms']:.2f} ms/msg  actions {summary['actions_cpu_ms']:.2f} ms/msg  "
          f"errors {summary['errors']} empty {summary['empty_replies']}  load {load:.2f}", flush=True)
    return summary


def render(runs: List[dict], args: argparse.Namespace, ref: str) -> str:
    lines = [f"- command: `python -m scripts.rasa_cost {' '.join(sys.argv[1:])}`".rstrip(),
             f"- baseline: {ref}; ours: {_short(args.ours) if args.ours else f'the working tree of {ROOT}'}",
             f"- date: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; {args.concurrency} conversations, "
             f"{args.duration:g} s a run, REST", "",
             "| run | tree | msg/s | p50 ms | p95 ms | Rasa CPU ms/msg | actions CPU ms/msg | errors | empty | load 1m |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for n, r in enumerate(runs, 1):
        lines.append(f"| {n} | {r['bot']} | {r['msg_per_s']:.1f} | {r['p50_ms']} | {r['p95_ms']} | {r['rasa_cpu_ms']:.2f} "
                     f"| {r['actions_cpu_ms']:.2f} | {r['errors']} | {r['empty_replies']} | {r['load_1m']} |")
    lines += ["", "| median | ours | baseline | ours / baseline |", "|---|---|---|---|"]
    for key, name in (("rasa_cpu_ms", "Rasa CPU ms/msg"), ("msg_per_s", "msg/s"), ("p95_ms", "p95 ms")):
        ours = statistics.median(r[key] for r in runs if r["bot"] == "ours")
        base = statistics.median(r[key] for r in runs if r["bot"] == "baseline")
        lines.append(f"| {name} | {ours:.2f} | {base:.2f} | ×{ours / base:.3f} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="git ref of the baseline (default: git merge-base HEAD main)")
    parser.add_argument("--ours", help="git ref to measure instead of the working tree")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "bolt.tar.gz")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--profile", type=Path, metavar="DIR", help="py-spy each Rasa during its first run")
    args = parser.parse_args(argv)
    ref = args.baseline or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], check=True,
                                          capture_output=True, text=True).stdout.strip()
    ref = _short(ref)
    runs: List[dict] = []
    with tempfile.TemporaryDirectory(prefix="bolt-cost-") as tmp:
        base_dir = tree_of(ref, Path(tmp) / "baseline")
        ours_dir = tree_of(_short(args.ours), Path(tmp) / "ours") if args.ours else ROOT
        print(f"starting ours ({args.ours and _short(args.ours) or ROOT}) and the baseline ({ref}) …", flush=True)
        stacks = {"ours": Running("ours", ours_dir, args.model.resolve(), Path(tmp) / "ours-run"),
                  "baseline": Running("baseline", base_dir, args.model.resolve(), Path(tmp) / "baseline-run")}
        try:
            for stack in stacks.values():
                stack.wait()
            for stack in stacks.values():  # warm up: the first messages load lazily
                asyncio.run(loadgen.run("rest", stack.info["rasa_url"], 4, 3, 100_000, prefix="warm"))
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
            for n in range(args.rounds):
                order = ["ours", "baseline"] if n % 2 == 0 else ["baseline", "ours"]
                for label in order:
                    spy = args.profile / f"{label}.txt" if args.profile and n < 2 and label == order[0] else None
                    runs.append(measure(stacks[label], args.concurrency, args.duration, spy))
                    time.sleep(2)
        finally:
            for stack in stacks.values():
                stack.stop()
    print()
    print(render(runs, args, ref))
    if args.profile:
        for label in ("ours", "baseline"):
            raw = args.profile / f"{label}.txt"
            if raw.exists():
                print(f"## py-spy, {label}\n\n{profile_summary(raw)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
