"""Who is talking, in which language, and what they are entitled to: read from the tracker.

Identity comes only from the signed token in the message metadata (CONTRACT.md), never from
what the user typed; a missing, expired, forged or malformed token means anonymous.
"""
from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import users
from bot.accounts.repository import UserView
from bot.entitlements import Entitlements
from bot.language import conversation_language
from bot.redaction import redact

logger = logging.getLogger(__name__)

IDENTITY_TOKEN = users.IDENTITY_TOKEN
AGENT_HANDLED = "agent_handled"


@dataclass(frozen=True)
class UserContext:
    """The verified user (None: anonymous), their rights and the conversation's language."""

    lang: str
    user: UserView | None = None
    rights: Entitlements | None = None

    @property
    def anonymous(self) -> bool:
        return self.user is None

    @property
    def known(self) -> users.KnownUser | None:
        """The same user as `bot.answers` renderers get it (`context.user`)."""
        if self.user is None or self.rights is None:
            return None
        return users.KnownUser(self.user, self.rights)


def session_events(tracker: Tracker) -> list[dict[str, Any]]:
    """The events of the current conversation session (after the last `session_started`)."""
    events = list(tracker.events or [])
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return events[index + 1:]
    return events


def events_since_handback(tracker: Tracker) -> list[dict[str, Any]]:
    """The session's events after an agent last handed the conversation back (all of them when
    none did): what the user said to the agent is not this escalation's problem description."""
    events = session_events(tracker)
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "slot" and event.get("name") == AGENT_HANDLED and event.get("value"):
            return events[index + 1:]
    return events


def user_events(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [event for event in events if event.get("event") == "user"]


def latest_identity_token(events: Iterable[Mapping[str, Any]]) -> str | None:
    """The token of the most recent user message that carries one (any message may)."""
    return users.latest_identity_token(event.get("metadata") for event in user_events(events))


def fresh_slot(tracker: Tracker, name: str) -> Any:
    """The slot's value, unless it was set before an agent handed the conversation back: the
    escalation slots of a finished agent conversation (`queued`, its problem) are not this one's.
    """
    value = tracker.get_slot(name)
    if value is None:
        return None
    set_at = handed_back_at = -1
    for index, event in enumerate(tracker.events or []):
        if event.get("event") != "slot":
            continue
        if event.get("name") == name:
            set_at = index
        elif event.get("name") == AGENT_HANDLED and event.get("value"):
            handed_back_at = index
    return None if handed_back_at > set_at else value


def language_of(events: Iterable[Mapping[str, Any]]) -> str:
    turns = [(event.get("parse_data"), event.get("metadata")) for event in user_events(events)]
    return conversation_language(turns)


async def known_user(tracker: Tracker) -> users.KnownUser | None:
    """The verified user of this conversation with their rights, or None (anonymous)."""
    token = latest_identity_token(tracker.events or [])
    if not token:
        return None
    # The database call is short but blocking: keep it off the action server's event loop.
    return await asyncio.to_thread(users.lookup, token)


async def identify(tracker: Tracker) -> UserView | None:
    """The verified user of this conversation, or None (anonymous)."""
    known = await known_user(tracker)
    return known.user if known else None


async def load_context(tracker: Tracker) -> UserContext:
    """Identity, entitlements and language for one action run."""
    lang = language_of(tracker.events or [])
    known = await known_user(tracker)
    if known is None:
        return UserContext(lang=lang)
    return UserContext(lang=lang, user=known.user, rights=known.rights)


class ContextAction(Action, ABC):
    """An action that answers the user it knows: `act` runs with the user's context loaded.

    `action_name` is its name in domain.yml; abstract, so the action server registers only the
    subclasses."""

    action_name: str

    def name(self) -> str:
        return self.action_name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        return await self.act(dispatcher, tracker, await load_context(tracker))

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: UserContext) -> list[dict[str, Any]]:
        """The action's events, with `context` the user's."""


def _iso(timestamp: Any) -> str:
    try:
        return datetime.fromtimestamp(float(timestamp), tz=timezone.utc).isoformat()
    except (TypeError, ValueError, OverflowError):
        return datetime.now(timezone.utc).isoformat()


def transcript(tracker: Tracker) -> list[dict[str, str]]:
    """The session's user and bot messages for agents, secrets redacted."""
    lines = []
    for event in session_events(tracker):
        kind = event.get("event")
        text = event.get("text")
        if kind not in ("user", "bot") or not text:
            continue
        if kind == "user" and str(text).startswith("/"):
            continue  # a button payload, not something the user wrote
        lines.append({"from": kind, "text": redact(str(text)), "at": _iso(event.get("timestamp"))})
    return lines


def utterance_before_latest_user(tracker: Tracker) -> str | None:
    """The `utter_action` of the bot's last words before the latest user message (None: none, or
    an action's message)."""
    events = session_events(tracker)
    users = [index for index, event in enumerate(events) if event.get("event") == "user"]
    before = events[:users[-1]] if users else events
    for event in reversed(before):
        if event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


def latest_user_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_entities(tracker: Tracker, entity: str) -> list[str]:
    return [
        str(item.get("value"))
        for item in (tracker.latest_message or {}).get("entities") or []
        if item.get("entity") == entity and item.get("value") is not None
    ]


def account_summary(context: UserContext) -> dict[str, Any] | None:
    """The account block of the intake payload (docs/internal-api.md)."""
    if context.user is None or context.rights is None:
        return None
    user, account, rights = context.user, context.user.account, context.rights
    return {
        "id": account.id,
        "name": account.name,
        "type": account.type,
        "plan": account.plan,
        "user_name": user.name,
        "email": user.email,
        "role": user.role,
        "licensed": user.licensed,
        "entitlements": {
            "live_chat": rights.live_chat,
            "phone": rights.phone,
            "prioritized": rights.prioritized,
            "queue": rights.queue,
            "automatic_escalation": rights.automatic_escalation,
            "tam": account.tam_name if rights.tam else None,
        },
    }
