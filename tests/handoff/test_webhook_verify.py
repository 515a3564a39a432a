"""The receiver's side (docs/webhooks.md): the documented verifier rejects forged and old
signatures, skips replays; the docs show it exactly as the importable one; the little receiver
of `python -m handoff.webhook_receiver` does the same over real HTTP."""
from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from handoff.webhook_receiver import RECEIVED, create_app
from handoff.webhook_verify import InvalidSignature, SeenEvents, verify_webhook
from handoff.webhooks import signature
from tests.handoff.integrations_fixtures import WEBHOOK_SECRET, free_port

ROOT = Path(__file__).resolve().parents[2]
BODY = json.dumps({"event": "conversation.escalated", "id": "evt_1", "at": "2026-12-01T10:00:00+00:00",
                   "conversation": {"id": "c-1", "transcript": []}}).encode()
NOW = 1_764_583_200


def test_a_genuine_fresh_webhook_passes():
    header = signature(WEBHOOK_SECRET, NOW, BODY)
    assert verify_webhook(BODY, header, WEBHOOK_SECRET, now=NOW + 10)["id"] == "evt_1"
    assert verify_webhook(BODY, header, WEBHOOK_SECRET, now=NOW + 300)["id"] == "evt_1"


@pytest.mark.parametrize("header, now, why", [
    (None, NOW, "no X-Bolt-Signature"),
    ("", NOW, "no X-Bolt-Signature"),
    ("v1=" + "0" * 64, NOW, "malformed"),
    (f"t={NOW}", NOW, "malformed"),
    (f"t=１２３,v1={'0' * 64}", NOW, "malformed"),  # full-width digits are not a timestamp
    (f"t={NOW},v1={'0' * 64}", NOW, "does not match"),
    (signature("the-wrong-secret", NOW, BODY), NOW, "does not match"),
    (signature(WEBHOOK_SECRET, NOW, BODY + b" "), NOW, "does not match"),
    (signature(WEBHOOK_SECRET, NOW, BODY), NOW + 301, "outside the tolerance"),  # an old request, replayed
    (signature(WEBHOOK_SECRET, NOW, BODY), NOW - 301, "outside the tolerance"),  # from the future
    # A genuine old signature with a fresh timestamp pasted in front of it:
    (f"t={NOW + 400}," + signature(WEBHOOK_SECRET, NOW, BODY).split(",")[1], NOW + 400, "does not match"),
])
def test_forged_old_and_malformed_signatures_are_rejected(header, now, why):
    with pytest.raises(InvalidSignature, match=why):
        verify_webhook(BODY, header, WEBHOOK_SECRET, now=now)


def test_a_tampered_body_is_rejected_even_with_the_right_length():
    header = signature(WEBHOOK_SECRET, NOW, BODY)
    with pytest.raises(InvalidSignature):
        verify_webhook(BODY.replace(b"c-1", b"c-2"), header, WEBHOOK_SECRET, now=NOW)


def test_during_a_secret_rotation_either_signature_passes():
    old = signature("the-old-secret", NOW, BODY).split(",")[1]
    header = signature(WEBHOOK_SECRET, NOW, BODY) + "," + old
    assert verify_webhook(BODY, header, WEBHOOK_SECRET, now=NOW)["id"] == "evt_1"
    assert verify_webhook(BODY, header, "the-old-secret", now=NOW)["id"] == "evt_1"


def test_seen_events_skip_repeats_and_forget_old_ids():
    seen = SeenEvents(keep_seconds=60)
    assert seen.first_time("evt_1", now=0) and not seen.first_time("evt_1", now=30)
    assert seen.first_time("evt_2", now=61) and seen.first_time("evt_1", now=62)


def test_the_docs_show_the_verifier_exactly_as_it_is_in_the_code():
    docs = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    assert inspect.getsource(verify_webhook) in docs
    assert "X-Bolt-Signature" in docs and "300" in docs


async def test_the_receiver_refuses_forgeries_and_old_requests_and_skips_replays(aiohttp_client):
    client = await aiohttp_client(create_app(WEBHOOK_SECRET))
    received = client.app[RECEIVED]
    now = int(time.time())
    genuine = {"X-Bolt-Signature": signature(WEBHOOK_SECRET, now, BODY), "Content-Type": "application/json"}
    assert (await client.post("/", data=BODY, headers=genuine)).status == 200
    # The same request again (a replay inside the window, or a retry): answered, not processed twice.
    again = await client.post("/", data=BODY, headers=genuine)
    assert again.status == 200 and (await again.json())["duplicate"] is True
    forged = {"X-Bolt-Signature": signature("guessed", now, BODY)}
    old = {"X-Bolt-Signature": signature(WEBHOOK_SECRET, now - 600, BODY)}
    assert (await client.post("/", data=BODY, headers=forged)).status == 400
    assert (await client.post("/", data=BODY, headers=old)).status == 400
    assert (await client.post("/", data=BODY)).status == 400
    assert len(received.events) == 1 and received.duplicates == ["evt_1"] and len(received.refused) == 3


async def test_python_m_handoff_webhook_receiver_verifies_and_prints_events():
    port = free_port()
    env = dict(os.environ, HANDOFF_WEBHOOK_SECRET=WEBHOOK_SECRET, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "handoff.webhook_receiver", "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    now = int(time.time())
                    async with http.post(f"http://127.0.0.1:{port}/", data=BODY,
                                         headers={"X-Bolt-Signature": signature(WEBHOOK_SECRET, now, BODY)}) as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("the receiver did not start")
            async with http.post(f"http://127.0.0.1:{port}/", data=BODY,
                                 headers={"X-Bolt-Signature": signature("forged", now, BODY)}) as response:
                assert response.status == 400
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "conversation.escalated  evt_1  c-1  (0 messages)" in output
    assert "refused a request: signature does not match" in output
