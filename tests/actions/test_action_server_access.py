"""Who reaches the real action server (`python -m actions`): loopback only by default, and
`/webhook` only with the shared secret Rasa sends (endpoints.yml), also where it listens wider."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Iterator

import pytest

from bot.settings import DEV_ACTION_SERVER_SECRET, ROOT

SECRET = "test-action-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outside_address() -> str:
    """An address of this machine that is not loopback (what another machine would connect to)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.fail("this machine has no address besides loopback to test from")
    return address


def start_action_server(**env: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    inherited = {k: v for k, v in os.environ.items() if k not in ("ACTION_SERVER_HOST", "ACTION_SERVER_SECRET")}
    process = subprocess.Popen(
        [sys.executable, "-m", "actions"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=dict(inherited, PYTHONPATH=str(ROOT), ACTION_SERVER_PORT=str(port), **env),
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            return process, port
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                pytest.fail(f"action server did not start:\n{process.stdout.read().decode()[-2000:]}")
            time.sleep(0.3)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=20)
    process.stdout.close()


def post_webhook(host: str, port: int, secret: str | None) -> int:
    body = {"next_action": "action_that_does_not_exist", "sender_id": "s", "version": "3.6.2",
            "tracker": {"sender_id": "s", "events": [], "slots": {}, "latest_message": {}}, "domain": {}}
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Bolt-Action-Secret"] = secret
    request = urllib.request.Request(f"http://{host}:{port}/webhook", data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def default_server() -> Iterator[int]:
    """As `make run` starts it: no host or secret configured."""
    process, port = start_action_server()
    yield port
    stop(process)


@pytest.fixture(scope="module")
def wide_server() -> Iterator[int]:
    """As in a cluster's private network: listening on every interface, with a real secret."""
    process, port = start_action_server(ACTION_SERVER_HOST="0.0.0.0", ACTION_SERVER_SECRET=SECRET)
    yield port
    stop(process)


def test_by_default_only_loopback_reaches_the_action_server(default_server):
    with socket.socket() as probe:
        probe.settimeout(3)
        assert probe.connect_ex((outside_address(), default_server)) != 0
    with urllib.request.urlopen(f"http://127.0.0.1:{default_server}/health", timeout=5) as response:
        assert response.status == 200


def test_webhook_needs_the_secret_even_from_loopback(default_server):
    assert post_webhook("127.0.0.1", default_server, None) == 401
    assert post_webhook("127.0.0.1", default_server, "wrong") == 401
    # With it, the action server gets to the action (this one does not exist: 404).
    assert post_webhook("127.0.0.1", default_server, DEV_ACTION_SERVER_SECRET) == 404


def test_listening_wider_the_secret_is_what_lets_a_caller_in(wide_server):
    outside = outside_address()
    assert post_webhook(outside, wide_server, None) == 401
    assert post_webhook(outside, wide_server, DEV_ACTION_SERVER_SECRET) == 401
    assert post_webhook(outside, wide_server, SECRET) == 404
    with urllib.request.urlopen(f"http://{outside}:{wide_server}/health", timeout=5) as response:
        assert response.status == 200  # health stays open: the load balancer's check


def call_action(port: int, action: str, text: str, language: str) -> dict:
    user = {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": "report_problem"},
                                                         "entities": [], "language": {"code": language}}}
    tracker = {"sender_id": "s-other-language", "slots": {}, "events": [user], "latest_message": user["parse_data"],
               "latest_action_name": "action_listen", "active_loop": {}}
    body = {"next_action": action, "sender_id": "s-other-language", "version": "3.6.21", "tracker": tracker,
            "domain": {}}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "X-Bolt-Action-Secret": DEV_ACTION_SERVER_SECRET})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_an_action_answering_another_language_starts_with_the_bilingual_note(default_server):
    french = call_action(default_server, "action_triage_problem", "Bonjour, mon micro ne marche pas", "other")
    first = french["responses"][0]["text"]
    assert first.startswith("Ich spreche Deutsch und Englisch") and "German and English" in first
    assert "P" in first.split("\n\n", 1)[1]  # the answer itself follows the note
    german = call_action(default_server, "action_triage_problem", "Mein Mikrofon geht nicht", "de")
    assert "Englisch" not in german["responses"][0]["text"]
