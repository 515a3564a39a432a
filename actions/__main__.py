"""`python -m actions`: the action server, refusing production with development secrets.

Checks the settings first (`bot.settings`), then runs rasa-sdk's server on
ACTION_SERVER_HOST:ACTION_SERVER_PORT (loopback by default) with the actions of this package,
plus three things of its own:
- `/webhook` answers only a caller who sends `X-Bolt-Action-Secret` (ACTION_SERVER_SECRET, which
  Rasa sends from `endpoints.yml`): anyone else who reaches the port gets 401, not an action run;
- when the accounts database can't be reached, an action answers the user with a clear
  message (`accounts_unavailable`) instead of failing with HTTP 500 and leaving them in silence;
- the outbox job: tickets that wait for the live-agent service are forwarded every
  `OUTBOX_FLUSH_SECONDS` (`actions.api.handoff.outbox_job`).
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import sys
from typing import Any

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app, create_argument_parser
from rasa_sdk.plugin import plugin_manager
from sanic import response
from sanic.request import Request
from sqlalchemy.exc import SQLAlchemyError

from actions.api import handoff
from actions.context import language_of
from bot.language import OTHER
from bot.messages import render, with_other_language_note
from bot.settings import InsecureSettings, Settings, get_settings

logger = logging.getLogger(__name__)

# The header Rasa sends on every action call (endpoints.yml: action_endpoint.headers).
SECRET_HEADER = "X-Bolt-Action-Secret"


def caller_has_secret(request: Request, secret: str) -> bool:
    given = request.headers.get(SECRET_HEADER, "")
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), secret.encode())


def refuse_without_secret(secret: str) -> Any:
    """A request middleware: every path but `/health` needs the shared secret."""

    async def check(request: Request) -> response.HTTPResponse | None:
        if request.path == "/health" or caller_has_secret(request, secret):
            return None
        logger.warning("action server: refused %s %s from %s without the shared secret",
                       request.method, request.path, request.ip)
        return response.json({"error": "the action server needs the shared secret"}, status=401)

    return check


def database_down_answer(request: Request, error: SQLAlchemyError) -> response.HTTPResponse:
    """The action's answer when the accounts database failed: a message, no events."""
    logger.error("action failed on the accounts database: %s", error.__class__.__name__, exc_info=error)
    try:
        events = ((request.json or {}).get("tracker") or {}).get("events") or []
        lang = language_of(events)
    except Exception:  # a body we can't read still gets an answer, in German
        lang = "de"
    return response.json({"events": [], "responses": [{"text": render("accounts_unavailable", lang)}]})


def _latest_language(tracker: dict[str, Any]) -> str | None:
    language = ((tracker.get("latest_message") or {}).get("language") or {})
    return language.get("code") if isinstance(language, dict) else None


def _replied_since_user(events: list[dict[str, Any]]) -> bool:
    for event in reversed(events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot":
            return True
    return False


async def note_other_language(request: Request, reply: response.HTTPResponse) -> response.HTTPResponse | None:
    """A response middleware: the first text an action says to a message in neither German nor
    English (the NLU's language code "other") starts with the bilingual note, as the replies
    Rasa renders itself do (`bot.nlg`). A response key (`utter_*`) is left to Rasa's NLG."""
    if request.path != "/webhook" or reply.status != 200:
        return None
    try:
        tracker = (request.json or {}).get("tracker") or {}
        if _latest_language(tracker) != OTHER or _replied_since_user(tracker.get("events") or []):
            return None
        body = json.loads(reply.body)
    except (ValueError, AttributeError):
        return None
    responses = body.get("responses") or []
    if not responses or not responses[0].get("text") or responses[0].get("response"):
        return None
    responses[0]["text"] = with_other_language_note(responses[0]["text"])
    return response.json(body, status=reply.status)


def build_app(settings: Settings) -> Any:
    app = create_app("actions", cors_origins="")
    app.register_middleware(refuse_without_secret(settings.action_server_secret), "request")
    app.register_middleware(note_other_language, "response")
    app.error_handler.add(SQLAlchemyError, database_down_answer)

    async def start_outbox_job(app: Any, loop: asyncio.AbstractEventLoop) -> None:
        app.ctx.outbox = loop.create_task(handoff.outbox_job(settings.outbox_flush_seconds))

    async def stop_outbox_job(app: Any, loop: asyncio.AbstractEventLoop) -> None:
        app.ctx.outbox.cancel()
        await asyncio.gather(app.ctx.outbox, return_exceptions=True)
        await handoff.get_client().close()

    app.register_listener(start_outbox_job, "after_server_start")
    app.register_listener(stop_outbox_job, "before_server_stop")
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def main(argv: list[str] | None = None) -> int:
    try:
        settings = get_settings()
    except InsecureSettings as error:
        print(f"action server: {error}", file=sys.stderr)
        return 2
    args = create_argument_parser().parse_args(argv or [])
    utils.configure_colored_logging(args.loglevel)
    utils.update_sanic_log_level()
    app = build_app(settings)
    logger.info("action server on %s:%d", settings.action_server_host, settings.action_server_port)
    # One worker per process: the action server scales by processes (docs/scaling.md).
    app.run(settings.action_server_host, settings.action_server_port, workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
