"""`make bench`: throughput, latency, startup, training time and memory, ours vs a stock Rasa bot.

One run, on loopback only, one thing at a time (the machine has 2 cores):

1. trains our model from `config.yml` into a temporary directory (cold Rasa cache, `models/` is
   not touched) and times it; `--skip-train` benchmarks `models/bolt.tar.gz` instead;
2. `rasa init --no-prompt` a stock bot into a temporary directory (that trains it, timed);
3. starts our stack (`scripts.stack.Stack`: action server, Rasa, live-agent service) on free
   ports with a fresh, migrated and seeded SQLite database; startup = process start → first
   REST answer; runs the REST load and the widget-websocket load (`scripts.loadgen`) at each
   concurrency level; reads the resident memory of each service (incl. children);
4. starts the stock bot (`rasa run`, no action server: `rasa init`'s actions are commented out)
   and runs the same REST load; prints ours/stock for throughput and p95 at 20 conversations.

Writes `reports/benchmarks.md` (and `reports/benchmarks.json`, ignored by git).

    python -m scripts.bench                                  # make bench
    python -m scripts.bench --skip-train --levels 20 --duration 10 --out /tmp/b   # quick look
    python -m scripts.bench --skip-stock --tracker-store memory --out /tmp/mem    # a variant
    python -m scripts.bench --skip-stock --profile --out /tmp/prof   # py-spy on Rasa during REST@20
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

import yaml

from bot.settings import ROOT
from scripts import loadgen
from scripts.evaluate import machine, rasa_version
from scripts.runtime import prepare_database, rasa_env
from scripts.stack import READY_TIMEOUT_SECONDS, Service, Stack, free_port

PYTHON = sys.executable
TARGETS = {"ratio_throughput": 1.5, "p95_ms": 500.0, "ready_s": 30.0, "train_s": 180.0, "rss_mb": 2048.0}


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

def _tuned_sql_tracker_store():
    """EXPERIMENT (`--tracker-store sql-tuned`): the project's RedactingSQLTrackerStore on a pooled
    SQLite engine in WAL mode with synchronous=NORMAL (no fsync per commit, no connect/close per
    session). Defined here only to measure the idea; the product's store is bot/tracker_store.py."""
    import sqlalchemy as sa

    from bot.tracker_store import RedactingSQLTrackerStore

    class TunedSQLTrackerStore(RedactingSQLTrackerStore):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.engine.dialect.name != "sqlite":
                return
            engine = sa.create_engine(self.engine.url, poolclass=sa.pool.QueuePool, pool_size=4,
                                      connect_args={"check_same_thread": False})

            @sa.event.listens_for(engine, "connect")
            def _pragmas(connection, _record):
                cursor = connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

            self.engine = engine
            self.sessionmaker = sa.orm.session.sessionmaker(bind=engine)

    return TunedSQLTrackerStore


TunedSQLTrackerStore = _tuned_sql_tracker_store() if os.environ.get("BOLT_BENCH_TRACKER") else None


class BenchStack(Stack):
    """Our stack, optionally with another tracker store (an endpoints.yml copy, not the file)."""

    tracker_store: Optional[str] = None

    def environment(self) -> Dict[str, str]:
        env = super().environment()
        if self.tracker_store == "sql-tuned":
            env["BOLT_BENCH_TRACKER"] = "1"
        return env

    def _endpoints_file(self) -> Path:
        path = super()._endpoints_file()
        if self.tracker_store in ("memory", "sql-tuned"):
            endpoints = yaml.safe_load(path.read_text(encoding="utf-8"))
            endpoints.pop("tracker_store", None)  # Rasa's default: InMemoryTrackerStore
            if self.tracker_store == "sql-tuned":
                endpoints["tracker_store"] = {"type": "scripts.bench.TunedSQLTrackerStore"}
            path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
        return path


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


# --------------------------------------------------------------------------- load

def run_levels(channel: str, url: str, levels: List[int], duration: float, max_messages: int,
               label: str) -> List[dict]:
    rows = []
    for concurrency in levels:
        load_before = os.getloadavg()[0]
        summary = asyncio.run(loadgen.run(channel, url, concurrency, duration, max_messages,
                                          prefix=f"bench-{label}")).summary()
        summary.update(bot=label, load_1m_before=round(load_before, 2), load_1m_after=round(os.getloadavg()[0], 2))
        rows.append(summary)
        print(f"  {label:<6} {channel:<4} c={concurrency:<3} {summary['msg_per_s']:>7.1f} msg/s  "
              f"p50 {summary['p50_ms']} p95 {summary['p95_ms']} p99 {summary['p99_ms']} ms  "
              f"errors {summary['errors']} empty {summary['empty_replies']}  load {load_before:.2f}", flush=True)
    return rows


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
    "SecretGuard.process", "TrackerStore.get_or_create_tracker", "SQLTrackerStore.save",
    "InMemoryTrackerStore.save", "MessageProcessor._run_prediction_loop", "RulePolicy.predict_action_probabilities",
    "MemoizationPolicy.predict_action_probabilities", "KnowledgeNLG.generate", "MessageProcessor._run_action",
)


def profile_summary(raw: Path, top: int = 12) -> str:
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
    lines += [f"| {k} | {inclusive[k] / total:.1%} |" for k in KEY_FRAMES if inclusive[k]]
    lines += ["", "| frame (self time) | share |", "|---|---|"]
    lines += [f"| {k} | {v / total:.1%} |" for k, v in own.most_common(top)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- report

def _row(r: dict) -> str:
    kinds = ", ".join(f"{k}: {v}" for k, v in r["error_kinds"].items())
    return (f"| {r['bot']} | {r['channel']} | {r['concurrency']} | {r['msg_per_s']:.1f} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r['p99_ms']} | {r['messages']} | {r['errors']}{f' ({kinds})' if kinds else ''} | {r['empty_replies']} | "
            f"{r['load_1m_before']} |")


def _mem(mem: Optional[dict]) -> str:
    return f"{mem['rss_mb']} ({mem['peak_rss_mb']})" if mem else "–"


def render(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"- date: {result['date']}",
        f"- machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}, Rasa {result['rasa']}",
        f"- load average (1/5/15 min) at start: {result['load_start']}; at end: {m['load']}",
        f"- command: `{result['command']}`",
        f"- our model: {result['model']}; tracker store: {result['tracker_store']}",
        f"- load: closed loop, no think time, {result['duration']:.0f} s (≤ {result['max_messages']} messages) "
        "per level; each conversation = a fixed FAQ mix in German or English (scripts/loadgen.py); "
        "the load generator runs on the same 2 cores.",
        "",
    ]
    checks = result.get("checks") or []
    if checks:
        lines += ["## Targets (issue 6)", "", "| what | value | target | |", "|---|---|---|---|"]
        for name, value, target, ok in checks:
            lines.append(f"| {name} | {value} | {target} | {'ok' if ok else '**missed**'} |")
        lines.append("")
    lines += ["## Load", "",
              "| bot | channel | conversations | msg/s | p50 ms | p95 ms | p99 ms | messages | errors | empty replies | load 1m |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [_row(r) for r in result["load"]]
    lines += ["", "## Startup, training, memory", "", "| what | ours | stock `rasa init` |", "|---|---|---|"]
    ours, stock = result.get("ours", {}), result.get("stock", {})

    def get(d, key, fmt="{:.1f}"):
        return fmt.format(d[key]) if d.get(key) is not None else "–"

    lines.append(f"| start → first answer (s) | {get(ours, 'ready_s')} | {get(stock, 'ready_s')} |")
    lines.append(f"| training (s, cold cache) | {get(ours, 'train_s')} | {get(stock, 'train_s')} (`rasa init --no-prompt`, incl. training) |")
    for name in ("actions", "rasa", "handoff"):
        mem = ours.get("memory", {}).get(name)
        smem = stock.get("memory", {}).get(name)
        lines.append(f"| RSS {name} after load, MB (peak) | {_mem(mem)} | {_mem(smem)} |")
    lines.append(f"| RSS all services, MB (sum of peaks) | {get(ours, 'rss_total_mb')} ({get(ours, 'peak_rss_total_mb')}) | "
                 f"{get(stock, 'rss_total_mb')} ({get(stock, 'peak_rss_total_mb')}) |")
    if result.get("ratio"):
        r = result["ratio"]
        lines += ["", f"**Ours / stock at {r['concurrency']} conversations (REST): throughput ×{r['throughput']:.2f}, "
                  f"p95 ×{r['p95']:.2f}** (p95 ours {r['p95_ours']} ms, stock {r['p95_stock']} ms)."]
    if result.get("profile_summary"):
        lines += ["", "## Where Rasa's time goes (py-spy, REST load)", "", result["profile_summary"]]
    return "\n".join(lines) + "\n"


class _Skip(Exception):
    pass


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,20,50", help="concurrent conversations, comma-separated")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per level")
    parser.add_argument("--max-messages", type=int, default=4000, help="per level")
    parser.add_argument("--skip-train", action="store_true", help="benchmark models/bolt.tar.gz, don't time training")
    parser.add_argument("--model", type=Path, help="benchmark this model (implies --skip-train)")
    parser.add_argument("--skip-stock", action="store_true")
    parser.add_argument("--skip-ws", action="store_true")
    parser.add_argument("--skip-ours", action="store_true", help="only the stock bot")
    parser.add_argument("--tracker-store", choices=["sql", "memory", "sql-tuned"], default="sql",
                        help="sql: endpoints.yml as is; memory: Rasa's InMemoryTrackerStore; "
                             "sql-tuned: experiment, pooled WAL SQLite (see TunedSQLTrackerStore)")
    parser.add_argument("--profile", action="store_true", help="py-spy Rasa during REST at the middle level")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    compare_at = 20 if 20 in levels else levels[len(levels) // 2]
    argv_text = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    result: dict = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"), "rasa": rasa_version(),
        "command": f"python -m scripts.bench {argv_text}".strip(),
        "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "duration": args.duration, "max_messages": args.max_messages,
        "tracker_store": {"sql": "RedactingSQLTrackerStore (SQLite)", "memory": "InMemoryTrackerStore",
                          "sql-tuned": "TunedSQLTrackerStore (experiment: pooled WAL SQLite)"}[args.tracker_store],
        "load": [], "ours": {}, "stock": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bolt-bench-") as tmp_name:
        tmp = Path(tmp_name)
        model = args.model or ROOT / "models" / "bolt.tar.gz"
        if not (args.skip_train or args.model or args.skip_ours):
            print("training our model (config.yml, cold cache) …", flush=True)
            result["ours"]["train_s"] = train_ours(tmp / "model", tmp / "cache-ours")
            model = tmp / "model" / "bolt.tar.gz"
            print(f"  {result['ours']['train_s']:.0f} s", flush=True)
        result["model"] = ("config.yml, trained by this run" if model.is_relative_to(tmp)
                           else str(model.relative_to(ROOT)) if model.is_relative_to(ROOT) else str(model))
        if not args.skip_stock:
            print("rasa init --no-prompt (stock bot, trains it) …", flush=True)
            result["stock"]["train_s"] = init_stock(tmp / "stock", tmp / "cache-stock")
            print(f"  {result['stock']['train_s']:.0f} s", flush=True)

        # ---- ours
        stack = None
        if not args.skip_ours:
            database_url = f"sqlite:///{tmp / 'bench.db'}"
            prepare_database(database_url)
            stack = BenchStack(rasa_port=free_port(), action_port=free_port(), handoff_port=free_port(),
                               database_url=database_url, model=str(model), log_dir=tmp / "log")
        try:
            if stack is None:
                raise _Skip
            stack.tracker_store = args.tracker_store
            print("starting our stack …", flush=True)
            started = time.monotonic()
            stack.start()
            result["ours"]["ready_s"] = first_answer(stack.rasa_url, started + READY_TIMEOUT_SECONDS) - started
            print(f"  ready after {result['ours']['ready_s']:.1f} s", flush=True)
            asyncio.run(loadgen.warm_up(stack.rasa_url))
            for concurrency in levels:
                if args.profile and concurrency == compare_at:
                    out = profile(stack._services["rasa"].process.pid, int(args.duration), args.out / "profile-rasa.txt")
                    result["profile"] = str(out.relative_to(ROOT)) if out and out.is_relative_to(ROOT) else str(out)
                result["load"] += run_levels("rest", stack.rasa_url, [concurrency], args.duration,
                                             args.max_messages, "ours")
            if not args.skip_ws:
                result["load"] += run_levels("ws", stack.handoff_url, levels, args.duration, args.max_messages, "ours")
            memory = {name: tree_memory_mb(service.process.pid) for name, service in stack._services.items()}
            result["ours"]["memory"] = memory
            result["ours"]["rss_total_mb"] = round(sum(m["rss_mb"] for m in memory.values()), 1)
            result["ours"]["peak_rss_total_mb"] = round(sum(m["peak_rss_mb"] for m in memory.values()), 1)
        except _Skip:
            pass
        finally:
            if stack is not None:
                stack.stop()

        # ---- stock
        if not args.skip_stock:
            port = free_port()
            stock = Service("rasa", [PYTHON, "-m", "rasa", "run", "--model", "models", "--port", str(port),
                                     "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"],
                            f"http://127.0.0.1:{port}/")
            print("starting the stock bot …", flush=True)
            started = time.monotonic()
            # the stock bot runs from its own directory, not ours
            log = open(tmp / "stock-rasa.log", "ab")
            stock.process = subprocess.Popen(stock.command, cwd=tmp / "stock", env=rasa_env(), stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
            try:
                url = f"http://127.0.0.1:{port}"
                result["stock"]["ready_s"] = first_answer(url, started + READY_TIMEOUT_SECONDS) - started
                print(f"  ready after {result['stock']['ready_s']:.1f} s", flush=True)
                asyncio.run(loadgen.warm_up(url))
                result["load"] += run_levels("rest", url, levels, args.duration, args.max_messages, "stock")
                memory = {"rasa": tree_memory_mb(stock.process.pid)}
                result["stock"]["memory"] = memory
                result["stock"]["rss_total_mb"] = memory["rasa"]["rss_mb"]
                result["stock"]["peak_rss_total_mb"] = memory["rasa"]["peak_rss_mb"]
            finally:
                stock.stop()

    # ---- verdicts
    def level(bot, channel, c):
        return next((r for r in result["load"] if r["bot"] == bot and r["channel"] == channel and r["concurrency"] == c), None)

    ours_c, stock_c = level("ours", "rest", compare_at), level("stock", "rest", compare_at)
    checks = []
    if ours_c and stock_c and stock_c["msg_per_s"]:
        ratio = {"concurrency": compare_at, "throughput": ours_c["msg_per_s"] / stock_c["msg_per_s"],
                 "p95": (ours_c["p95_ms"] or 0) / (stock_c["p95_ms"] or 1),
                 "p95_ours": ours_c["p95_ms"], "p95_stock": stock_c["p95_ms"]}
        result["ratio"] = ratio
        checks.append((f"throughput ours/stock, REST, {compare_at} conversations", f"×{ratio['throughput']:.2f}",
                       "≥ ×1.5", ratio["throughput"] >= TARGETS["ratio_throughput"]))
    for channel in ("rest", "ws"):
        row = level("ours", channel, compare_at)
        if row:
            checks.append((f"p95, {channel}, {compare_at} conversations", f"{row['p95_ms']} ms", "≤ 500 ms",
                           (row["p95_ms"] or 1e9) <= TARGETS["p95_ms"]))
    ours_rows = [r for r in result["load"] if r["bot"] == "ours"]
    bad = sum(r["errors"] + r["empty_replies"] for r in ours_rows)
    checks.append(("errors + empty replies, ours, all levels", str(bad), "0", bad == 0))
    if result["ours"].get("ready_s") is not None:
        checks.append(("start → first answer, ours", f"{result['ours']['ready_s']:.1f} s", "≤ 30 s",
                       result["ours"]["ready_s"] <= TARGETS["ready_s"]))
    if result["ours"].get("train_s") is not None:
        checks.append(("training, ours", f"{result['ours']['train_s']:.0f} s", "≤ 180 s",
                       result["ours"]["train_s"] <= TARGETS["train_s"]))
    if result["ours"].get("peak_rss_total_mb") is not None:
        checks.append(("RSS of all services (sum of peaks)", f"{result['ours']['peak_rss_total_mb']:.0f} MB", "≤ 2048 MB",
                       result["ours"]["peak_rss_total_mb"] <= TARGETS["rss_mb"]))
    result["checks"] = checks
    if result.get("profile"):
        raw = ROOT / result["profile"]  # absolute paths stay absolute
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
