"""The scaled topology of `make cluster`, really started, for the cluster tests.

`cluster` (session): `python -m scripts.cluster` exactly as `make cluster` runs it, on a free
block of ports in 63100-63999 (`--port-base`) with a data directory of its own under `var/`;
PostgreSQL, Redis, HAProxy and the two Rasa processes, action servers and live-agent instances,
every one supervised. The last test stops it as Ctrl-C would. Timings are printed at the end.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator

import pytest

from bot.settings import ROOT
from scripts.cluster import Cluster, Ports, port_in_use

MODEL = ROOT / "models" / "bolt.tar.gz"
START_TIMEOUT_SECONDS = 600
TIMINGS: Dict[str, float] = {}


@dataclass
class RunningCluster:
    process: subprocess.Popen
    cluster: Cluster
    log: Path
    timings: Dict[str, float] = field(default_factory=lambda: TIMINGS)

    @property
    def ports(self) -> Ports:
        return self.cluster.ports

    @property
    def public_url(self) -> str:
        return self.cluster.public_url

    def instance_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports.handoff[index]}"

    def pid(self, program: str) -> int:
        return self.cluster.pid(program)

    def kill(self, program: str) -> int:
        """kill -9 the program's whole process group; returns the pid it had."""
        pid = self.pid(program)
        assert pid, f"{program} is not running"
        os.killpg(pid, signal.SIGKILL)
        return pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> float:
        """Ctrl-C as a terminal sends it: SIGINT to the launcher; returns how long it took."""
        began = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return time.monotonic() - began


def free_block() -> int:
    for base in range(63100, 64000, 100):
        if not any(port_in_use(port) for port in Ports.from_base(base).all()):
            return base
    raise RuntimeError("no free block of ports in 63100-63999")


@pytest.fixture(scope="session")
def cluster() -> Iterator[RunningCluster]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test does it first)")
    base = free_block()
    data_dir = ROOT / "var" / f"cluster-test-{base}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    log = ROOT / "var" / f"cluster-test-{base}.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false")
    began = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.cluster", "--port-base", str(base), "--data-dir", str(data_dir)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    running = RunningCluster(process, Cluster(data_dir=data_dir, ports=Ports.from_base(base)), log)
    try:
        while "Ready in" not in running.output():
            if process.poll() is not None:
                pytest.fail(f"make cluster exited with {process.returncode}:\n{running.output()[-3000:]}")
            if time.monotonic() - began > START_TIMEOUT_SECONDS:
                pytest.fail(f"make cluster not ready after {START_TIMEOUT_SECONDS} s:\n{running.output()[-3000:]}")
            time.sleep(1)
        TIMINGS["start to ready"] = time.monotonic() - began
        yield running
    finally:
        running.stop()
        if not os.environ.get("KEEP_CLUSTER_DATA"):
            shutil.rmtree(data_dir, ignore_errors=True)


def pytest_terminal_summary(terminalreporter) -> None:
    if TIMINGS:
        terminalreporter.section("cluster timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name:<50} {seconds:7.1f} s")
