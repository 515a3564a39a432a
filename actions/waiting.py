"""Waiting in the queue over Rasa's REST channel: `action_relay_to_agent` (bot/policies.py).

The message goes to the live-agent service, which stores it in the transcript and pushes it to
the agents' consoles (docs/internal-api.md); the user learns that it arrived and their place.
A request to leave the queue takes the conversation out of it, with the ticket as the way on.
Widget users never get here: the live-agent service keeps their messages while they wait.
"""
from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api.handoff import HandoffUnavailable, get_client
from actions.context import language_of, latest_entities, latest_user_text, session_events
from actions.escalation import HANDOFF_STATUS, LEAVE_QUEUE_PAYLOAD, offer_buttons
from bot.answers.context import CORRECTION
from bot.levels import PRIORITY_LEVELS
from bot.messages import render
from bot.redaction import redact

logger = logging.getLogger(__name__)

LEAVE_QUEUE = "leave_queue"
CANCEL = "cancel"
CLAIMED = "claimed"


class ActionRelayToAgent(Action):
    """The user's message for the agents; what the user is told depends on the service's answer."""

    def name(self) -> str:
        return "action_relay_to_agent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(session_events(tracker))
        text = redact(latest_user_text(tracker)) or "…"
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        # a change of mind while waiting ("never mind, you can drop my request") leaves the queue
        leave = intent in (LEAVE_QUEUE, CANCEL) or text == LEAVE_QUEUE_PAYLOAD
        # "correction, it's P2": the level of the queue entry (a set_priority has its own action)
        named = latest_entities(tracker, "priority") if intent == CORRECTION else []
        priority = next((level for level in named if level in PRIORITY_LEVELS), None)
        try:
            answer = await get_client().user_message(tracker.sender_id, text, leave=leave, priority=priority)
        except HandoffUnavailable as error:
            logger.warning("a queued user's message could not reach the live-agent service: %s", error)
            dispatcher.utter_message(text=render("waiting_unreachable", lang))
            return []
        if answer is None:  # an agent handed the conversation back: the bot is in charge again
            dispatcher.utter_message(text=render("waiting_back_with_bot", lang))
            return [SlotSet(HANDOFF_STATUS, None)]
        if answer.get("left"):
            dispatcher.utter_message(text=render("waiting_left", lang), buttons=offer_buttons(["ticket"], lang))
            return [SlotSet(HANDOFF_STATUS, None)]
        if priority:
            dispatcher.utter_message(text=render("waiting_priority_changed", lang, priority=priority))
        elif answer.get("status") == CLAIMED:
            dispatcher.utter_message(text=render("waiting_message_added_claimed", lang))
        else:
            dispatcher.utter_message(text=render("waiting_message_added", lang, position=answer.get("position") or 1))
        return []
