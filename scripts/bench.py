"""`make bench`: issue 12's load figures, startup, training and memory, ours vs a stock Rasa bot.

One run, on loopback only, one thing at a time (the machine has 2 cores):

1. trains our model from `config.yml` into a temporary directory (cold Rasa cache, `models/` is
   not touched) and times it; `--skip-train` benchmarks `models/bolt.tar.gz` instead;
2. `rasa init --no-prompt` a stock bot into a temporary directory (that trains it, timed);
3. starts our stack as `make run` does (`scripts.stack.Stack`: action server, Rasa, live-agent
   service; a fresh migrated and seeded SQLite database, free ports); startup = process start →
   first REST answer; then
   - the closed loop: 20 conversations of the realistic mix (`scripts.loadgen`, incl. "how do
     I submit a web ticket?") over REST, and over the widget (for the cluster ratio);
   - message 100 vs message 5 of a conversation (`loadgen.length_probe`);
   - the widget capacity: users with ~4 s think time held at p95 <= 500 ms (`loadgen.capacity`);
   - the resident memory of each service (incl. children);
4. starts the stock bot (`rasa run`, no action server: `rasa init`'s actions are commented out):
   the same closed loop and the capacity over REST;
5. starts `make cluster` (two Rasa processes, PostgreSQL, Redis, HAProxy) on its own port block
   (`--cluster-port-base`, default 23100) and runs the same widget closed loop through HAProxy.

Writes `reports/benchmarks.md` (and `reports/benchmarks.json`, ignored by git). Every figure that
is compared is a ratio against the other side measured in the same run; nothing here is a timed
pass/fail test (`scripts/bench_acceptance.py` checks the two load targets on its own).

    python -m scripts.bench                                  # make bench (about 15 min)
    python -m scripts.bench --skip-train --skip-stock --skip-capacity --skip-cluster --out /tmp/b   # quick look
    python -m scripts.bench --skip-train --skip-stock --tracker-cache 0 --out /tmp/nocache           # a lever off
    python -m scripts.bench --skip-train --skip-stock --skip-capacity --skip-cluster --profile --out /tmp/prof
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import ROOT
from scripts import loadgen
from scripts.evaluate import machine, rasa_version
from scripts.runtime import free_port, prepare_database, rasa_env, start_process
from scripts.stack import READY_TIMEOUT_SECONDS, Service, Stack

PYTHON = sys.executable


# --------------------------------------------------------------------------- memory

def _children() -> Dict[int, List[int]]:
    tree: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory_mb(pid: int) -> Dict[str, float]:
    """RSS now and peak RSS (VmHWM) of a process and all its descendants, in MB."""
    tree, pids, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(tree.get(current, []))
    return {"rss_mb": round(sum(_status_kb(p, "VmRSS") for p in pids) / 1024, 1),
            "peak_rss_mb": round(sum(_status_kb(p, "VmHWM") for p in pids) / 1024, 1),
            "processes": len(pids)}


# --------------------------------------------------------------------------- services

def first_answer(rasa_url: str, deadline: float) -> float:
    """Posts one message until the bot answers; returns when it did (time.monotonic())."""
    body = json.dumps({"sender": f"startup-{os.getpid()}", "message": "Hallo"}).encode()
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(f"{rasa_url}/webhooks/rest/webhook", data=body,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status == 200:
                    return time.monotonic()
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError("no answer from Rasa")


def train_ours(out_dir: Path, cache_dir: Path) -> float:
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "-m", "rasa", "train", "--data", "data", "--domain", "domain.yml", "--config", "config.yml",
         "--out", str(out_dir), "--fixed-model-name", "bolt"],
        cwd=ROOT, env=rasa_env(RASA_CACHE_DIRECTORY=str(cache_dir)), check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def init_stock(directory: Path, cache_dir: Path) -> float:
    """`rasa init --no-prompt` (creates and trains the stock bot); returns the seconds it took."""
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run([PYTHON, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(directory)],
                   cwd=directory.parent, env=rasa_env(RASA_CACHE_DIRECTORY=str(cache_dir)), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not list((directory / "models").glob("*.tar.gz")):
        subprocess.run([PYTHON, "-m", "rasa", "train"], cwd=directory, env=rasa_env(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


# The stock bot loads TensorFlow models (DIET, TED, UnexpecTED): on a loaded machine minutes.
STOCK_READY_TIMEOUT_SECONDS = 600


def start_stock(directory: Path, log_dir: Path) -> "tuple[Service, str, float]":
    """`rasa run` of the stock bot from its own directory; returns (service, URL, seconds to first answer)."""
    port = free_port()
    stock = Service("rasa", [PYTHON, "-m", "rasa", "run", "--model", "models", "--port", str(port),
                             "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"],
                    f"http://127.0.0.1:{port}/")
    started = time.monotonic()
    stock.process = start_process(stock.command, log_dir / "stock-rasa.log", env=rasa_env(), cwd=directory)
    url = f"http://127.0.0.1:{port}"
    try:
        ready = first_answer(url, started + STOCK_READY_TIMEOUT_SECONDS) - started
    except BaseException:
        stock.stop()
        raise
    return stock, url, ready


def start_ours(model: Path, tmp: Path, extra_env: Optional[Dict[str, str]] = None) -> "tuple[Stack, float]":
    """Our stack as `make run` starts it (fresh migrated and seeded SQLite database, free ports);
    returns it and the seconds from process start to the first REST answer."""
    database_url = f"sqlite:///{tmp / 'bench.db'}"
    prepare_database(database_url)
    stack = Stack(rasa_port=free_port(), action_port=free_port(), handoff_port=free_port(),
                  database_url=database_url, model=str(model), log_dir=tmp / "log", extra_env=extra_env or {})
    started = time.monotonic()
    stack.start()
    try:
        ready = first_answer(stack.rasa_url, started + READY_TIMEOUT_SECONDS) - started
    except BaseException:
        stack.stop()
        raise
    return stack, ready


# --------------------------------------------------------------------------- load

def closed_loop(channel: str, url: str, concurrency: int, duration: float, label: str,
                max_messages: int = 100_000) -> dict:
    load_before = os.getloadavg()[0]
    summary = asyncio.run(loadgen.run(channel, url, concurrency, duration, max_messages,
                                      prefix=f"bench-{label}")).summary()
    summary.update(bot=label, load_1m_before=round(load_before, 2), load_1m_after=round(os.getloadavg()[0], 2))
    print(f"  {label:<8} {channel:<4} c={concurrency:<3} {summary['msg_per_s']:>7.1f} msg/s  "
          f"p50 {summary['p50_ms']} p95 {summary['p95_ms']} p99 {summary['p99_ms']} ms  "
          f"errors {summary['errors']} empty {summary['empty_replies']}  load {load_before:.2f}", flush=True)
    return summary


def capacity(channel: str, url: str, label: str, args: argparse.Namespace, start: int) -> dict:
    print(f"  {label}: users held at p95 <= {args.p95_limit:.0f} ms, think {args.think:g} s …", flush=True)
    found = asyncio.run(loadgen.capacity(channel, url, think=args.think, duration=args.capacity_duration,
                                         p95_limit_ms=args.p95_limit, start=start, bisect_steps=args.bisect_steps,
                                         prefix=f"cap-{label}", report=lambda line: print(line, flush=True)))
    found["bot"] = label
    return found


def profile(pid: int, seconds: int, out: Path) -> Optional[Path]:
    """py-spy (if installed) on a process while load runs; collapsed stacks to `out`."""
    spy = shutil.which("py-spy") or str(Path(PYTHON).with_name("py-spy"))
    if not Path(spy).exists():
        print("  py-spy not installed (uv add --dev py-spy); no profile", flush=True)
        return None
    subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "50",
                      "--format", "raw", "--output", str(out), "--nonblocking"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


KEY_FRAMES = (
    "MessageProcessor.handle_message", "MessageProcessor._parse_message_with_graph", "DIETClassifier.process",
    "LogisticRegressionClassifier.process", "CountVectorsFeaturizer.process", "RegexFeaturizer.process",
    "LexicalSyntacticFeaturizer.process", "LanguageDetector.process", "KnowledgeEntityExtractor.process",
    "SecretGuard.process", "TrackerStore.get_or_create_tracker", "RedactingSQLTrackerStore.retrieve",
    "RedactingSQLTrackerStore.save", "SQLTrackerStore.save", "MessageProcessor._run_prediction_loop",
    "RulePolicy.predict_action_probabilities", "MemoizationPolicy.predict_action_probabilities",
    "KnowledgeNLG.generate", "MessageProcessor._run_action", "RemoteAction.run",
)


def profile_summary(raw: Path, top: int = 12, key_frames: tuple = KEY_FRAMES) -> str:
    """Markdown: share of samples in key frames (inclusive) and the top self-time frames."""
    from collections import Counter

    inclusive, own, total = Counter(), Counter(), 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n, frames = int(count), stack.split(";")
        total += n
        for name in {f.split(" (")[0] for f in frames}:
            inclusive[name] += n
        name, _, where = frames[-1].partition(" (")
        own[f"{name} ({where.rsplit('/', 1)[-1]}" if where else name] += n
    if not total:
        return "(empty profile)\n"
    lines = [f"{total} samples.", "", "| frame (inclusive) | share |", "|---|---|"]
    lines += [f"| {k} | {inclusive[k] / total:.1%} |" for k in key_frames if inclusive[k]]
    lines += ["", "| frame (self time) | share |", "|---|---|"]
    lines += [f"| {k} | {v / total:.1%} |" for k, v in own.most_common(top)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- make cluster

def run_cluster(port_base: int, tmp: Path, concurrency: int, duration: float) -> dict:
    """`make cluster` on a port block of its own: its widget load (closed loop) through HAProxy."""
    from scripts.cluster import Ports

    ports = Ports.from_base(port_base)
    log = tmp / "cluster.log"
    # Under var/ like the cluster tests' (PostgreSQL runs as its own user: no private temp dir).
    data_dir = ROOT / "var" / f"bench-cluster-{port_base}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    began = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen([PYTHON, "-m", "scripts.cluster", "--port-base", str(port_base),
                                    "--data-dir", str(data_dir)], cwd=ROOT, env=rasa_env(),
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while "Ready in" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() - began > 600:
                raise RuntimeError(f"make cluster did not start (see {log}):\n{log.read_text()[-2000:]}")
            time.sleep(1)
        ready = time.monotonic() - began
        url = f"http://127.0.0.1:{ports.balancer}"
        for rasa_port in ports.rasa:  # both processes have loaded their model and answered once
            asyncio.run(loadgen.warm_up(f"http://127.0.0.1:{rasa_port}"))
        row = closed_loop("ws", url, concurrency, duration, "cluster")
        return {"ready_s": round(ready, 1), "load": row}
    finally:
        process.send_signal(2)  # Ctrl-C: the launcher stops everything it started
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


# --------------------------------------------------------------------------- report

def _row(r: dict) -> str:
    kinds = ", ".join(f"{k}: {v}" for k, v in r["error_kinds"].items())
    return (f"| {r['bot']} | {r['channel']} | {r['concurrency']} | {r['msg_per_s']:.1f} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r['p99_ms']} | {r['messages']} | {r['errors']}{f' ({kinds})' if kinds else ''} | {r['empty_replies']} | "
            f"{r['load_1m_before']} |")


def _mem(mem: Optional[dict]) -> str:
    return f"{mem['rss_mb']} ({mem['peak_rss_mb']})" if mem else "–"


def verdicts(result: dict) -> List[tuple]:
    """(what, value, target, ok or None for a figure only reported) for issue 12's targets."""
    checks: List[tuple] = []
    ratios = result.get("ratios", {})
    ours_c = next((r for r in result["load"] if r["bot"] == "ours" and r["channel"] == "rest"), None)
    if "closed_loop" in ratios:
        checks.append(("closed loop, 20 conversations, realistic mix: throughput ours / stock",
                       f"×{ratios['closed_loop']:.2f}", "≥ ×3", ratios["closed_loop"] >= 3))
    if ours_c:
        checks.append(("… p95 ours", f"{ours_c['p95_ms']} ms", "≤ 250 ms", (ours_c["p95_ms"] or 1e9) <= 250))
        bad = ours_c["errors"] + ours_c["empty_replies"]
        checks.append(("… errors + empty replies ours", str(bad), "0", bad == 0))
    if "capacity" in ratios:
        ours, stock = result["capacity"]["ours"], result["capacity"]["stock"]
        checks.append((f"widget users at p95 ≤ {ours['p95_limit_ms']:.0f} ms, think {ours['think_s']:g} s: "
                       "ours (widget, whole path) / stock (REST)",
                       f"{ours['users']} / {stock['users']} = ×{ratios['capacity']:.2f}", "≥ ×4", ratios["capacity"] >= 4))
    length = result.get("length")
    if length and length.get("ratio"):
        checks.append((f"message {length['length']} vs message {length['early']} (median latency)",
                       f"{length['late_ms']} / {length['early_ms']} ms = ×{length['ratio']:.2f}", "≤ ×1.2",
                       length["ratio"] <= 1.2))
    if "cluster" in ratios:
        checks.append(("`make cluster` / `make run`, widget closed loop, 20 users: throughput",
                       f"×{ratios['cluster']:.2f}", "report", None))
    # Start and training as ratios to the stock bot's in the same run (their absolute times move
    # with the machine's load); the "today": 19.6 s / 43.2 s and 42 s / 79 s
    # (make bench of 2026-11-25 at load 1), memory absolute (it does not move with the load).
    ours, stock = result.get("ours", {}), result.get("stock", {})
    for key, name, today in (("ready_s", "start → first answer, ours / stock", 19.6 / 43.2),
                             ("train_s", "training (cold cache), ours / stock `rasa init`", 42 / 79)):
        if ours.get(key) and stock.get(key):
            ratio = ours[key] / stock[key]
            checks.append((name, f"{ours[key]:.0f} s / {stock[key]:.0f} s = ×{ratio:.2f}",
                           f"≤ ×{today * 1.2:.2f} (today ×{today:.2f} + 20 %)", ratio <= today * 1.2))
    if ours.get("peak_rss_total_mb") is not None:
        checks.append(("memory, all services (sum of peaks)", f"{ours['peak_rss_total_mb']:.0f} MB",
                       "≤ 840 MB (today 0.7 GB + 20 %)", ours["peak_rss_total_mb"] <= 840))
    return checks


def render(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"- date: {result['date']}",
        f"- machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}, Rasa {result['rasa']}",
        f"- load average (1/5/15 min) at start: {result['load_start']}; at end: {m['load']}",
        f"- command: `{result['command']}`",
        f"- our model: {result['model']}; our stack: `make run`'s (one Rasa process, SQLite), "
        f"tracker cache {result['tracker_cache']}",
        "- the load generator runs on the same 2 cores; the machine is shared, so only the ratios "
        "of one run mean something (docs/benchmarks.md).",
        "",
        "## Targets (issue 12)", "", "| what | value | target | |", "|---|---|---|---|",
    ]
    for name, value, target, ok in result.get("checks") or []:
        lines.append(f"| {name} | {value} | {target} | {'–' if ok is None else 'ok' if ok else '**missed**'} |")
    lines += ["", f"## Closed loop (no think time, {result['duration']:.0f} s; conversations = scripts/loadgen.py's mix)", "",
              "| bot | channel | conversations | msg/s | p50 ms | p95 ms | p99 ms | messages | errors | empty replies | load 1m |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [_row(r) for r in result["load"]]
    if result.get("capacity"):
        lines += ["", "## Capacity: users with think time at the p95 limit", "",
                  "| bot | channel | users | msg/s | p50 ms | p95 ms | errors | held |", "|---|---|---|---|---|---|---|---|"]
        for found in result["capacity"].values():
            for r in found["levels"]:
                lines.append(f"| {found['bot']} | {r['channel']} | {r['concurrency']} | {r['msg_per_s']:.1f} | "
                             f"{r['p50_ms']} | {r['p95_ms']} | {r['errors']} | {'yes' if r['held'] else 'no'} |")
    if result.get("length"):
        length = result["length"]
        lines += ["", "## Conversation length (REST, one message at a time)", "",
                  f"Median latency of messages {length['length'] - 4}–{length['length']} of {length['samples'] // 5} "
                  f"conversations: {length['late_ms']} ms; of messages {max(1, length['early'] - 2)}–{length['early'] + 2} "
                  f"of as many fresh ones, sent alternately: {length['early_ms']} ms (×{length['ratio']}); "
                  f"errors {length['errors']}."]
    lines += ["", "## Startup, training, memory", "", "| what | ours | stock `rasa init` |", "|---|---|---|"]
    ours, stock = result.get("ours", {}), result.get("stock", {})

    def get(d, key, fmt="{:.1f}"):
        return fmt.format(d[key]) if d.get(key) is not None else "–"

    lines.append(f"| start → first answer (s) | {get(ours, 'ready_s')} | {get(stock, 'ready_s')} |")
    lines.append(f"| training (s, cold cache) | {get(ours, 'train_s')} | {get(stock, 'train_s')} (`rasa init --no-prompt`, incl. training) |")
    for name in ("actions", "rasa", "handoff"):
        lines.append(f"| RSS {name} after load, MB (peak) | {_mem(ours.get('memory', {}).get(name))} | "
                     f"{_mem(stock.get('memory', {}).get(name))} |")
    lines.append(f"| RSS all services, MB (sum of peaks) | {get(ours, 'rss_total_mb')} ({get(ours, 'peak_rss_total_mb')}) | "
                 f"{get(stock, 'rss_total_mb')} ({get(stock, 'peak_rss_total_mb')}) |")
    if result.get("cluster"):
        lines.append(f"| `make cluster` start → ready (s) | {result['cluster']['ready_s']} | |")
    if result.get("profile_summary"):
        lines += ["", "## Where Rasa's time goes (py-spy, REST closed loop)", "", result["profile_summary"]]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main

def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=20, help="closed loop: conversations at once")
    parser.add_argument("--duration", type=float, default=20.0, help="closed loop: seconds")
    parser.add_argument("--think", type=float, default=4.0, help="capacity: mean seconds between a user's messages")
    parser.add_argument("--p95-limit", type=float, default=500.0, help="capacity: p95 a level must hold, ms")
    parser.add_argument("--capacity-duration", type=float, default=25.0, help="capacity: seconds per level")
    parser.add_argument("--capacity-start", type=int, default=0,
                        help="capacity: users of the first level (default: ours 60, stock 2/3 of what ours held)")
    parser.add_argument("--bisect-steps", type=int, default=2)
    parser.add_argument("--skip-train", action="store_true", help="benchmark models/bolt.tar.gz, don't time training")
    parser.add_argument("--model", type=Path, help="benchmark this model (implies --skip-train)")
    parser.add_argument("--skip-stock", action="store_true")
    parser.add_argument("--stock-dir", type=Path, help="a trained `rasa init` bot to use (its training is not timed)")
    parser.add_argument("--skip-ours", action="store_true", help="only the stock bot")
    parser.add_argument("--skip-capacity", action="store_true")
    parser.add_argument("--skip-length", action="store_true")
    parser.add_argument("--skip-cluster", action="store_true", help="no `make cluster` vs `make run` ratio")
    parser.add_argument("--cluster-port-base", type=int, default=int(os.environ.get("CLUSTER_PORT_BASE", "23100")))
    parser.add_argument("--tracker-cache", type=int, help="TRACKER_CACHE_SIZE for our Rasa (0: no cache)")
    parser.add_argument("--profile", action="store_true", help="py-spy Rasa during the REST closed loop")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="only write the report again from a run's benchmarks.json (verdicts recomputed)")
    args = parser.parse_args(argv)
    if args.render:
        result = json.loads(args.render.read_text(encoding="utf-8"))
        result["checks"] = verdicts(result)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "benchmarks.md").write_text(render(result), encoding="utf-8")
        print(render(result))
        return 0
    argv_text = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    extra_env = {} if args.tracker_cache is None else {"TRACKER_CACHE_SIZE": str(args.tracker_cache)}
    result: dict = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "rasa": rasa_version(),
        "command": f"python -m scripts.bench {argv_text}".strip(),
        "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "duration": args.duration,
        "tracker_cache": "off" if args.tracker_cache == 0 else f"{args.tracker_cache or 'default'} conversations",
        "load": [], "ours": {}, "stock": {}, "capacity": {}, "ratios": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    ws_run = None
    with tempfile.TemporaryDirectory(prefix="bolt-bench-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "log").mkdir()
        model = args.model or ROOT / "models" / "bolt.tar.gz"
        if not (args.skip_train or args.model or args.skip_ours):
            print("training our model (config.yml, cold cache) …", flush=True)
            result["ours"]["train_s"] = train_ours(tmp / "model", tmp / "cache-ours")
            model = tmp / "model" / "bolt.tar.gz"
            print(f"  {result['ours']['train_s']:.0f} s", flush=True)
        result["model"] = ("config.yml, trained by this run" if model.is_relative_to(tmp)
                           else str(model.relative_to(ROOT)) if model.is_relative_to(ROOT) else str(model))
        stock_dir = args.stock_dir or tmp / "stock"
        if not args.skip_stock and not args.stock_dir:
            print("rasa init --no-prompt (stock bot, trains it) …", flush=True)
            result["stock"]["train_s"] = init_stock(stock_dir, tmp / "cache-stock")
            print(f"  {result['stock']['train_s']:.0f} s", flush=True)

        # ---- ours, as `make run` starts it
        if not args.skip_ours:
            print("starting our stack …", flush=True)
            stack, result["ours"]["ready_s"] = start_ours(model, tmp, extra_env)
            try:
                print(f"  ready after {result['ours']['ready_s']:.1f} s", flush=True)
                asyncio.run(loadgen.warm_up(stack.rasa_url))
                if args.profile:
                    out = profile(stack._services["rasa"].process.pid, int(args.duration), args.out / "profile-rasa.txt")
                    result["profile"] = str(out) if out else None
                result["load"].append(closed_loop("rest", stack.rasa_url, args.concurrency, args.duration, "ours"))
                if not args.skip_cluster:
                    ws_run = closed_loop("ws", stack.handoff_url, args.concurrency, args.duration, "ours")
                    result["load"].append(ws_run)
                if not args.skip_length:
                    print("  message 100 vs message 5 …", flush=True)
                    result["length"] = asyncio.run(loadgen.length_probe(stack.rasa_url))
                    print(f"  {result['length']}", flush=True)
                if not args.skip_capacity:
                    result["capacity"]["ours"] = capacity("ws", stack.handoff_url, "ours", args,
                                                          args.capacity_start or 60)
                memory = {name: tree_memory_mb(service.process.pid) for name, service in stack._services.items()}
                result["ours"]["memory"] = memory
                result["ours"]["rss_total_mb"] = round(sum(m["rss_mb"] for m in memory.values()), 1)
                result["ours"]["peak_rss_total_mb"] = round(sum(m["peak_rss_mb"] for m in memory.values()), 1)
            finally:
                stack.stop()

        # ---- stock (a failure here or in the cluster still leaves the report of what was measured)
        if not args.skip_stock:
            print("starting the stock bot …", flush=True)
            try:
                stock, url, result["stock"]["ready_s"] = start_stock(stock_dir, tmp / "log")
            except (TimeoutError, OSError) as error:
                shutil.copy(tmp / "log" / "stock-rasa.log", args.out / "stock-rasa.log")
                print(f"  the stock bot did not start: {error} (log: {args.out / 'stock-rasa.log'})", flush=True)
                result["stock"]["error"] = str(error)
                stock = None
            if stock is not None:
                try:
                    print(f"  ready after {result['stock']['ready_s']:.1f} s", flush=True)
                    asyncio.run(loadgen.warm_up(url))
                    result["load"].append(closed_loop("rest", url, args.concurrency, args.duration, "stock"))
                    if not args.skip_capacity:
                        held = result["capacity"].get("ours", {}).get("users") or 60
                        result["capacity"]["stock"] = capacity("rest", url, "stock", args,
                                                               args.capacity_start or max(5, held * 2 // 3))
                    memory = {"rasa": tree_memory_mb(stock.process.pid)}
                    result["stock"]["memory"] = memory
                    result["stock"]["rss_total_mb"] = memory["rasa"]["rss_mb"]
                    result["stock"]["peak_rss_total_mb"] = memory["rasa"]["peak_rss_mb"]
                finally:
                    stock.stop()

        # ---- make cluster (two Rasa processes) against make run, the same widget load
        if ws_run is not None:
            print(f"starting make cluster (port base {args.cluster_port_base}) …", flush=True)
            try:
                result["cluster"] = run_cluster(args.cluster_port_base, tmp, args.concurrency, args.duration)
                result["load"].append(result["cluster"]["load"])
            except (RuntimeError, OSError) as error:
                print(f"  make cluster: {error}", flush=True)

    # ---- ratios and verdicts
    def row(bot: str, channel: str) -> Optional[dict]:
        return next((r for r in result["load"] if r["bot"] == bot and r["channel"] == channel), None)

    ours_rest, stock_rest = row("ours", "rest"), row("stock", "rest")
    if ours_rest and stock_rest and stock_rest["msg_per_s"]:
        result["ratios"]["closed_loop"] = ours_rest["msg_per_s"] / stock_rest["msg_per_s"]
    caps = result["capacity"]
    if "ours" in caps and "stock" in caps and caps["stock"]["users"]:
        result["ratios"]["capacity"] = caps["ours"]["users"] / caps["stock"]["users"]
    cluster_ws = row("cluster", "ws")
    if ws_run and cluster_ws and ws_run["msg_per_s"]:
        result["ratios"]["cluster"] = cluster_ws["msg_per_s"] / ws_run["msg_per_s"]
    result["checks"] = verdicts(result)
    if result.get("profile"):
        raw = Path(result["profile"])
        time.sleep(2)  # py-spy writes its file when it ends
        if raw.exists():
            result["profile_summary"] = profile_summary(raw)
    result["machine"] = machine()
    (args.out / "benchmarks.md").write_text(render(result), encoding="utf-8")
    (args.out / "benchmarks.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
