"""`make run`'s supervision (`scripts/stack.py`): a service that crashes is started again while the
others keep serving, and a stop ends every service within 10 s.

Real processes: small HTTP servers stand in for the three services (the real ones are
started by the `stack` fixture of the end-to-end tests)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from scripts import runtime
from scripts.runtime import free_port
from scripts.stack import STOP_SECONDS, Service, Stack

SERVER = """
import http.server, signal, sys, time
if len(sys.argv) > 2 and sys.argv[2] == 'stubborn':
    signal.signal(signal.SIGTERM, lambda *_: None)   # ignores TERM: must be killed
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
"""


class FakeStack(Stack):
    def __init__(self, log_dir: Path, stubborn: bool = False) -> None:
        super().__init__(rasa_port=free_port(), action_port=free_port(), handoff_port=free_port(),
                         database_url="sqlite://", log_dir=log_dir)
        self.stubborn = stubborn

    def services(self) -> list[Service]:
        made = []
        for name, port in (("actions", self.action_port), ("rasa", self.rasa_port), ("handoff", self.handoff_port)):
            extra = ["stubborn"] if self.stubborn and name == "rasa" else []
            made.append(Service(name, [sys.executable, "-c", SERVER, str(port), *extra],
                                f"http://127.0.0.1:{port}/"))
        return made


def answers(port: int) -> bool:
    return runtime.answers(f"http://127.0.0.1:{port}/")


def test_a_crashed_service_is_restarted_and_the_others_keep_serving(tmp_path):
    stack = FakeStack(tmp_path).start()
    stopping = threading.Event()
    supervisor = threading.Thread(target=stack.supervise, args=(stopping.is_set,), kwargs={"out": sys.stdout})
    supervisor.start()
    try:
        rasa = stack._services["rasa"]
        old_pid = rasa.process.pid
        os.killpg(old_pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (rasa.process and rasa.process.pid != old_pid
                                                   and answers(stack.rasa_port)):
            assert answers(stack.handoff_port) and answers(stack.action_port)  # never interrupted
            time.sleep(0.2)
        assert rasa.process.pid != old_pid and answers(stack.rasa_port)
    finally:
        stopping.set()
        supervisor.join()
        stack.stop()


def test_stop_ends_every_service_within_10_seconds_even_one_that_ignores_term(tmp_path):
    stack = FakeStack(tmp_path, stubborn=True).start()
    processes = [s.process for s in stack._services.values()]
    began = time.monotonic()
    stack.stop()
    took = time.monotonic() - began
    assert took < 10 and took >= STOP_SECONDS - 0.5  # the stubborn one waited for its KILL
    assert all(p.poll() is not None for p in processes)
    assert not any(answers(port) for port in (stack.rasa_port, stack.action_port, stack.handoff_port))


def test_make_run_stops_on_sigterm_within_10_seconds(tmp_path):
    """The real `python -m scripts.stack` process: TERM before it is even ready stops it all."""
    env = dict(os.environ, RASA_PORT=str(free_port()), ACTION_SERVER_PORT=str(free_port()),
               HANDOFF_PORT=str(free_port()), DATABASE_URL=f"sqlite:///{tmp_path / 'bolt.db'}",
               PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    with subprocess.Popen([sys.executable, "-m", "scripts.stack"], cwd=env["PYTHONPATH"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        line = process.stdout.readline()
        assert "Starting" in line
        time.sleep(3)
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        assert time.monotonic() - began < 10
    for key in ("RASA_PORT", "ACTION_SERVER_PORT", "HANDOFF_PORT"):
        assert not answers(int(env[key]))
