"""Latency of a form turn against an FAQ turn, over Rasa's REST channel (issue 12).

A form turn is the user's answer to one of the ticket form's questions (the subject); the
baseline in the same run is an FAQ question answered in-process (`Was bedeutet P1?`). Both are
timed one message at a time (no concurrency), so the ratio says what the form's machinery costs
per message, whatever the machine's load.

    python -m scripts.form_latency --rasa http://127.0.0.1:5005 [--conversations 20]

Needs the stack running (`make run`). The form is reached the way a user reaches it: the ticket
request, then the bot's button that starts the form when the bot offers one.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
import uuid

from bot.identity import mint_token
from bot.settings import get_settings

OPEN = "Ich möchte ein Webticket erstellen"
SUBJECT = "Cloud-Aufzeichnungen fehlen"
FAQ = "Was bedeutet P1?"


def _post(rasa: str, sender: str, text: str, token: str) -> tuple[float, list[dict]]:
    body = json.dumps({"sender": sender, "message": text, "metadata": {"identity_token": token}}).encode()
    request = urllib.request.Request(f"{rasa}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        replies = json.loads(response.read().decode() or "[]")
    return (time.perf_counter() - started) * 1000, replies


def _start_button(replies: list[dict]) -> str | None:
    """The payload of a button that starts the ticket form, if the bot offered one."""
    for reply in replies:
        for button in reply.get("buttons") or []:
            payload = button.get("payload") or ""
            if payload.startswith("/") and "ticket" in payload and payload != "/open_ticket":
                return payload
    return None


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"median {statistics.median(ordered):6.1f} ms, p95 {p95:6.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa", default=f"http://127.0.0.1:{get_settings().rasa_port}")
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--user", default="u-biz-admin")
    args = parser.parse_args()
    token = mint_token(args.user, get_settings().identity_secret)

    form_turns: list[float] = []
    faq_turns: list[float] = []
    for _ in range(args.conversations):
        sender = f"form-latency-{uuid.uuid4().hex[:8]}"
        _, replies = _post(args.rasa, sender, OPEN, token)
        payload = _start_button(replies)
        if payload:
            _post(args.rasa, sender, payload, token)
        elapsed, replies = _post(args.rasa, sender, SUBJECT, token)
        form_turns.append(elapsed)
        faq_sender = f"faq-latency-{uuid.uuid4().hex[:8]}"
        _post(args.rasa, faq_sender, "Hallo", token)
        elapsed, _ = _post(args.rasa, faq_sender, FAQ, token)
        faq_turns.append(elapsed)

    print(f"form turn (ticket subject): {_summary(form_turns)}")
    print(f"FAQ turn (baseline):        {_summary(faq_turns)}")
    ratio = statistics.median(form_turns) / statistics.median(faq_turns)
    print(f"form / FAQ (medians): {ratio:.2f}x over {args.conversations} conversations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
