"""`python -m handoff.webhook_receiver`: a small webhook receiver for trying the webhooks locally.

It verifies every POST with `handoff.webhook_verify` (the secret is HANDOFF_WEBHOOK_SECRET, read
through bot.settings, so the development default matches the service's), answers 400 to anything
forged or stale, skips event ids it has seen, and prints one line per event (`--json`: the whole
event). The tests run the same application as their receiver.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

from handoff.webhook_verify import TOLERANCE_SECONDS, InvalidSignature, SeenEvents, verify_webhook

logger = logging.getLogger(__name__)


@dataclass
class Received:
    """What a receiver got: events in arrival order, duplicates skipped, requests refused."""

    events: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


RECEIVED = web.AppKey("received", Received)


def create_app(
    secret: str, on_event: Callable[[dict[str, Any]], None] | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> web.Application:
    seen = SeenEvents()
    received = Received()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = verify_webhook(body, request.headers.get("X-Bolt-Signature"), secret, tolerance)
        except InvalidSignature as error:
            received.refused.append(str(error))
            logger.warning("refused a request: %s", error)
            return web.json_response({"error": str(error)}, status=400)
        event_id = str(event.get("id", ""))
        if not seen.first_time(event_id):
            # Answer 2xx: the sender only repeats a delivery whose answer it did not get.
            received.duplicates.append(event_id)
            return web.json_response({"id": event_id, "duplicate": True})
        received.events.append(event)
        received.headers.append(dict(request.headers))
        if on_event is not None:
            on_event(event)
        return web.json_response({"id": event_id, "duplicate": False})

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[RECEIVED] = received
    app.router.add_post("/{tail:.*}", receive)
    return app


def summary(event: dict[str, Any]) -> str:
    subject = event.get("conversation") or event.get("ticket") or {}
    about = subject.get("id") or subject.get("ticket_id") or "?"
    transcript = subject.get("transcript") or []
    return f"{event.get('at')}  {event.get('event')}  {event.get('id')}  {about}  ({len(transcript)} messages)"


def main(argv: list[str] | None = None) -> int:
    from bot.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m handoff.webhook_receiver", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--json", action="store_true", help="print each whole event")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    def show(event: dict[str, Any]) -> None:
        print(json.dumps(event, ensure_ascii=False, indent=2) if args.json else summary(event), flush=True)

    print(f"webhook receiver on http://{args.host}:{args.port}/ (secret from HANDOFF_WEBHOOK_SECRET)", flush=True)
    web.run_app(create_app(get_settings().webhook_secret, show), host=args.host, port=args.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
