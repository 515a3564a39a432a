"""Start every service of the product, restart one that crashes, and stop them together.

`make run` runs `python -m scripts.stack`: a service that dies is started again (the others
keep serving), Ctrl-C or TERM stops all of them within `STOP_SECONDS`. The test suite uses
`Stack` to bring up the real services on free ports with a database of its own.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, TextIO

import yaml

from bot.settings import ROOT, InsecureSettings, from_environment, get_settings
from scripts.runtime import answers, reap, signal_group, start_process

PYTHON = sys.executable
# Rasa's first answer after start includes loading the model (about 20 s on 2 cores).
READY_TIMEOUT_SECONDS = 180
# Ctrl-C: every service gets TERM at once, and KILL if it is still there after this.
STOP_SECONDS = 7
# A service that keeps crashing is restarted after 1, 2, 4 … seconds, at most this long.
RESTART_BACKOFF_MAX_SECONDS = 30


@dataclass
class Service:
    name: str
    command: List[str]
    health_url: str
    process: Optional[subprocess.Popen] = None

    def start(self, env: Dict[str, str], log_dir: Path) -> None:
        self.process = start_process(self.command, log_dir / f"{self.name}.log", env=env)

    def terminate(self) -> None:
        """Send TERM to the service's process group (it may be gone already)."""
        if self.process and self.process.poll() is None:
            signal_group(self.process, signal.SIGTERM)

    def reap(self, deadline: float) -> None:
        """Wait for the process until `deadline`, then KILL its group (and what it left in it)."""
        if self.process is None:
            return
        reap(self.process, deadline)
        self.process = None

    def stop(self) -> None:
        self.terminate()
        self.reap(time.monotonic() + STOP_SECONDS)

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def wait_ready(self, deadline: float, cancelled: "Callable[[], bool]" = lambda: False) -> None:
        while time.monotonic() < deadline and not cancelled():
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode} (see its log)")
            if answers(self.health_url):
                return
            time.sleep(0.5)
        if not cancelled():
            raise TimeoutError(f"{self.name} not ready at {self.health_url}")


@dataclass
class Stack:
    """The action server, Rasa and the live-agent service, wired to each other."""

    rasa_port: int
    action_port: int
    handoff_port: int
    database_url: str
    model: str = str(ROOT / "models")
    log_dir: Path = field(default_factory=lambda: ROOT / "var" / "log")
    extra_env: Dict[str, str] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    @property
    def handoff_url(self) -> str:
        return f"http://127.0.0.1:{self.handoff_port}"

    def environment(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(
            RASA_TELEMETRY_ENABLED="false",
            DATABASE_URL=self.database_url,
            RASA_URL=self.rasa_url,
            HANDOFF_URL=self.handoff_url,
            RASA_PORT=str(self.rasa_port),
            ACTION_SERVER_PORT=str(self.action_port),
            HANDOFF_PORT=str(self.handoff_port),
            PYTHONPATH=str(ROOT),
        )
        env.update(self.extra_env)
        # endpoints.yml hands it to Rasa as ${ACTION_SERVER_SECRET}: set even when left at its default.
        env["ACTION_SERVER_SECRET"] = from_environment(env).action_server_secret
        return env

    def _endpoints_file(self) -> Path:
        """`endpoints.yml` with the action server of this stack."""
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["action_endpoint"]["url"] = f"{self.action_url}/webhook"  # the secret header stays
        path = self.log_dir / f"endpoints-{self.rasa_port}.yml"
        path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
        return path

    def services(self) -> List[Service]:
        settings = from_environment(self.environment())
        return [
            Service(
                "actions",
                [PYTHON, "-m", "actions"],
                f"{self.action_url}/health",
            ),
            Service(
                "rasa",
                [PYTHON, "-m", "rasa", "run", "--model", self.model, "--port", str(self.rasa_port),
                 "--endpoints", str(self._endpoints_file()), "--credentials", "credentials.yml",
                 "--enable-api", "--auth-token", settings.rasa_api_token],
                f"{self.rasa_url}/status?token={settings.rasa_api_token}",
            ),
            Service("handoff", [PYTHON, "-m", "handoff"], f"{self.handoff_url}/health"),
        ]

    def start(self, cancelled: "Callable[[], bool]" = lambda: False) -> "Stack":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        self._services = {service.name: service for service in self.services()}
        for service in self._services.values():
            service.start(env, self.log_dir)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        try:
            for service in self._services.values():
                service.wait_ready(deadline, cancelled)
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, name: str) -> None:
        service = self._services[name]
        service.stop()
        service.start(self.environment(), self.log_dir)
        service.wait_ready(time.monotonic() + READY_TIMEOUT_SECONDS)

    def restart_handoff(self) -> None:
        self.restart("handoff")

    def stop(self) -> None:
        """TERM to every service at once; KILL to what is left after `STOP_SECONDS`."""
        services = list(getattr(self, "_services", {}).values())
        for service in services:
            service.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for service in services:
            service.reap(deadline)

    def supervise(self, stopping: "Callable[[], bool]", out: "TextIO" = sys.stderr) -> None:
        """Until `stopping()`: start again every service that exited, the others keep serving."""
        failures: Dict[str, int] = {}
        retry_at: Dict[str, float] = {}
        while not stopping():
            now = time.monotonic()
            for service in self._services.values():
                if service.exited:
                    code = service.process.returncode
                    service.reap(now)
                    failures[service.name] = failures.get(service.name, 0) + 1
                    delay = min(RESTART_BACKOFF_MAX_SECONDS, 2 ** (failures[service.name] - 1))
                    retry_at[service.name] = now + delay
                    print(f"{service.name} stopped unexpectedly (exit {code}); restarting in {delay} s "
                          f"(log: {self.log_dir / service.name}.log)", file=out, flush=True)
                elif service.process is None and retry_at.get(service.name, 0) <= now:
                    service.start(self.environment(), self.log_dir)
                    print(f"{service.name} restarted", file=out, flush=True)
                elif service.process is not None and failures.get(service.name) and \
                        now - retry_at.get(service.name, now) > 60:
                    failures[service.name] = 0  # up for a minute: the next crash restarts at once
            time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the action server, Rasa and the live-agent service.")
    parser.parse_args()
    try:
        settings = get_settings()
    except InsecureSettings as error:
        print(f"Refusing to start: {error}", file=sys.stderr)
        return 2
    stack = Stack(
        rasa_port=settings.rasa_port,
        action_port=settings.action_server_port,
        handoff_port=settings.handoff_port,
        database_url=settings.database_url,
    )
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"Starting the action server (:{stack.action_port}), Rasa (:{stack.rasa_port}) and the "
          f"live-agent service (:{stack.handoff_port}); logs in {stack.log_dir} …", flush=True)
    started = time.monotonic()
    try:
        stack.start(cancelled=lambda: stopping)
    except (RuntimeError, TimeoutError) as error:
        print(f"Could not start: {error}", file=sys.stderr)
        return 1
    if stopping:
        stack.stop()
        print("Stopped.", flush=True)
        return 0
    print(
        f"Ready in {time.monotonic() - started:.0f} s.\n"
        f"  Help-center page with the chat widget: http://localhost:{stack.handoff_port}/\n"
        f"  Agent console:                         http://localhost:{stack.handoff_port}/agent\n"
        f"  Rasa REST channel:                     http://localhost:{stack.rasa_port}/webhooks/rest/webhook\n"
        "A service that crashes is started again. Press Ctrl-C to stop.",
        flush=True,
    )
    try:
        stack.supervise(lambda: stopping)
    finally:
        print("Stopping …", flush=True)
        began = time.monotonic()
        stack.stop()
        print(f"Stopped in {time.monotonic() - began:.1f} s.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
