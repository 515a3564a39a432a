"""Start every service of the product and stop them together.

`make run` runs `python -m scripts.stack`; the test suite uses `Stack` to bring up the real
services on free ports with a database of its own.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from bot.settings import ROOT, InsecureSettings, from_environment, get_settings

PYTHON = sys.executable
# Rasa's first answer after start includes loading the model (about 20 s on 2 cores).
READY_TIMEOUT_SECONDS = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Service:
    name: str
    command: List[str]
    health_url: str
    process: Optional[subprocess.Popen] = None

    def start(self, env: Dict[str, str], log_dir: Path) -> None:
        log = open(log_dir / f"{self.name}.log", "ab")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode} (see its log)")
            if _answers(self.health_url):
                return
            time.sleep(0.5)
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
        return env

    def _endpoints_file(self) -> Path:
        """`endpoints.yml` with the action server of this stack."""
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["action_endpoint"] = {"url": f"{self.action_url}/webhook"}
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

    def start(self) -> "Stack":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        self._services = {service.name: service for service in self.services()}
        for service in self._services.values():
            service.start(env, self.log_dir)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        try:
            for service in self._services.values():
                service.wait_ready(deadline)
        except Exception:
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
        for service in reversed(list(getattr(self, "_services", {}).values())):
            service.stop()


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
    print(f"Starting the action server (:{stack.action_port}), Rasa (:{stack.rasa_port}) and the "
          f"live-agent service (:{stack.handoff_port}); logs in {stack.log_dir} …", flush=True)
    started = time.monotonic()
    try:
        stack.start()
    except (RuntimeError, TimeoutError) as error:
        print(f"Could not start: {error}", file=sys.stderr)
        return 1
    print(
        f"Ready in {time.monotonic() - started:.0f} s.\n"
        f"  Help-center page with the chat widget: http://localhost:{stack.handoff_port}/\n"
        f"  Agent console:                         http://localhost:{stack.handoff_port}/agent\n"
        f"  Rasa REST channel:                     http://localhost:{stack.rasa_port}/webhooks/rest/webhook\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for service in stack._services.values():
                if service.process and service.process.poll() is not None:
                    print(f"{service.name} stopped unexpectedly (exit {service.process.returncode}); "
                          f"see {stack.log_dir / service.name}.log", file=sys.stderr)
                    stopping = True
            time.sleep(1)
    finally:
        print("Stopping …", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
