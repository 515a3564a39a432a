"""Where the start to the first answer goes: Rasa's phases, and what its imports cost.

Starts our stack as `make run` does (`scripts.bench.start_ours`: action server, Rasa, live-agent
service at once on free ports, a fresh SQLite database), watches Rasa's log for the lines that
mark its phases, and posts one message until Rasa answers:

- imports: process start → "Starting Rasa server" (Python, Rasa, TensorFlow, the CLI);
- server: → "Loading model" (Sanic, the endpoints, the tracker store and its database);
- model and first answer: → the first REST reply (unpacking the model, the pipeline's
  components, the policies; the first message runs lazily built parts).

`--alone` starts Rasa without the other two services (what they cost Rasa while all three start
on the same 2 cores). Then `python -X importtime` of what `rasa run` imports lists the modules
whose import costs most (cumulative), measured in a process of its own.

    python -m scripts.startup_probe
    python -m scripts.startup_probe --alone --imports 15
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot.settings import ROOT
from scripts.bench import first_answer, prepare_database
from scripts.runtime import free_port, log_tail, rasa_env
from scripts.stack import READY_TIMEOUT_SECONDS, Stack

MARKS = (("imports", "Starting Rasa server"), ("server", "Loading model"))
# What `rasa run` imports before it starts the server (and bot.components, which the model loads).
IMPORTS = "import rasa.__main__, rasa.core.run, rasa.core.agent, bot.components"


def timeline(alone: bool, model: Path, tmp: Path) -> Dict[str, float]:
    database_url = f"sqlite:///{tmp / 'startup.db'}"
    prepare_database(database_url)
    stack = Stack(rasa_port=free_port(), action_port=free_port(), handoff_port=free_port(),
                  database_url=database_url, model=str(model), log_dir=tmp / "log")
    stack.log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(stack.environment(), PYTHONUNBUFFERED="1")  # the log lines as they are written
    services = {service.name: service for service in stack.services()}
    started = time.monotonic()
    for name, service in services.items():
        if name == "rasa" or not alone:
            service.start(env, stack.log_dir)
    log = stack.log_dir / "rasa.log"
    seen: Dict[str, float] = {}
    try:
        deadline = started + READY_TIMEOUT_SECONDS
        while len(seen) < len(MARKS) and time.monotonic() < deadline:  # (the log is polled)
            text = log.read_text(errors="replace") if log.exists() else ""
            for label, marker in MARKS:
                if label not in seen and marker in text:
                    seen[label] = time.monotonic() - started
            if services["rasa"].exited:
                raise TimeoutError
            time.sleep(0.05)
        seen["first answer"] = first_answer(stack.rasa_url, deadline) - started
    except TimeoutError:
        raise RuntimeError(f"Rasa did not answer; its log ends:\n{log_tail(log)}") from None
    finally:
        for service in services.values():
            service.stop()
    return seen


def import_costs(top: int) -> List[Tuple[float, str]]:
    """The `top` modules with the highest cumulative import time (s), `rasa run`'s imports."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", IMPORTS], cwd=ROOT, env=rasa_env(),
                         capture_output=True, text=True, check=True)
    costs = []
    for line in run.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if match:
            costs.append((int(match.group(1)) / 1e6, len(match.group(2)) // 2, match.group(3)))
    total = sum(seconds for seconds, depth, _ in costs if depth == 0)
    named = sorted(costs, reverse=True)[:top]
    return [(total, "(all top-level imports)")] + [(seconds, name) for seconds, _, name in named]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "bolt.tar.gz")
    parser.add_argument("--alone", action="store_true", help="start Rasa without the action server and the live-agent service")
    parser.add_argument("--imports", type=int, default=12, help="modules to list by import cost (0: none)")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bolt-startup-") as tmp:
        phases = timeline(args.alone, args.model.resolve(), Path(tmp))
    print(f"- command: `python -m scripts.startup_probe {' '.join(sys.argv[1:] if argv is None else argv)}`".rstrip())
    print(f"- date: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; load average before {load[0]:.2f} {load[1]:.2f}; "
          f"{'Rasa alone' if args.alone else 'all three services starting at once, as make run'}")
    print("\n| phase | ends at (s) | takes (s) |\n|---|---|---|")
    previous = 0.0
    for label in ("imports", "server", "first answer"):
        if label in phases:
            name = "model and first answer" if label == "first answer" else label
            print(f"| {name} | {phases[label]:.1f} | {phases[label] - previous:.1f} |")
            previous = phases[label]
    if args.imports:
        print("\n| module (import, cumulative, in a process of its own) | s |\n|---|---|")
        for seconds, name in import_costs(args.imports):
            print(f"| {name} | {seconds:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
