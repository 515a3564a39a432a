"""What the scripts and the tests need to run the project's own processes the way `make` does."""
from __future__ import annotations

import glob
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent


def rasa_env(**extra: str) -> Dict[str, str]:
    """The environment for a `rasa` subprocess: no telemetry (there is no internet), the
    project's modules importable."""
    return dict(os.environ, RASA_TELEMETRY_ENABLED="false", PYTHONPATH=str(ROOT), **extra)


def prepare_database(database_url: str, python: str = sys.executable) -> None:
    """Migrate and seed a database exactly as `make db` does."""
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    for command in (["bot.accounts.cli", "migrate"], ["bot.accounts.cli", "seed"],
                    ["handoff", "migrate"], ["handoff", "seed"]):
        subprocess.run([python, "-m", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin_dir() -> Optional[Path]:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl ($POSTGRES_BIN first);
    None when there is none."""
    candidates = [os.environ["POSTGRES_BIN"]] if os.environ.get("POSTGRES_BIN") else sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", Path(path).parent.name)], reverse=True,
    )
    for directory in map(Path, candidates):
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    return None


# --- processes: each in a session of its own, so that its children stop with it ---------------

def start_process(command: Sequence[str], log: Path, env: Optional[Mapping[str, str]] = None,
                  cwd: Path = ROOT) -> subprocess.Popen:
    """`command` in a new session (process group), its output appended to the file `log`."""
    with open(log, "ab") as out:  # the child writes to its own copy of the descriptor
        return subprocess.Popen(list(command), cwd=cwd, env=None if env is None else dict(env),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def signal_group(process: subprocess.Popen, sig: int) -> None:
    """Send `sig` to the process's group, or to the process alone when it leads none (started
    without `start_process`); either may be gone already."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        if process.poll() is None:
            process.send_signal(sig)
    except PermissionError:
        pass


def reap(process: subprocess.Popen, deadline: float) -> None:
    """Wait for the process until `deadline` (time.monotonic), then KILL its group; children it
    left behind in the group (a crashed server's workers) go too."""
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        signal_group(process, signal.SIGKILL)
        process.wait()
    signal_group(process, signal.SIGKILL)


def stop_process(process: subprocess.Popen, grace: float = 10.0) -> None:
    """TERM to the process's group, KILL after `grace` seconds."""
    if process.poll() is None:
        signal_group(process, signal.SIGTERM)
    reap(process, time.monotonic() + grace)


def answers(url: str) -> bool:
    """`url` answers with a success (2xx or 3xx)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 400
    except urllib.error.HTTPError as error:
        error.close()
        return False
    except (urllib.error.URLError, OSError):
        return False


def log_tail(log: Path, size: int = 2000) -> str:
    try:
        return log.read_text(errors="replace")[-size:]
    except OSError:
        return ""


def wait_until_answers(url: str, process: subprocess.Popen, deadline: float, log: Path) -> None:
    """Until `url` answers; RuntimeError when the process exits first, TimeoutError at `deadline`
    (both with the end of its log)."""
    while not answers(url):
        if process.poll() is not None:
            raise RuntimeError(f"{' '.join(map(str, process.args))} exited with {process.returncode}:\n{log_tail(log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing answers at {url}:\n{log_tail(log)}")
        time.sleep(0.3)
