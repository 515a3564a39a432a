"""Web ticket (`ticket_form`): an email address for anonymous users, a subject, a description.

Signed-in users are not asked for an email address: the ticket goes to the one on their
account. The ticket gets its number here, so the user learns it even when the live-agent
service is down (the ticket then waits in the outbox, see `actions.api.handoff`).
"""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.api.handoff import new_ticket_id, submit_ticket
from actions.context import identify, language_of, load_context, transcript
from bot.messages import render
from bot.redaction import redact

TICKET_EMAIL = "ticket_email"
TICKET_SUBJECT = "ticket_subject"
TICKET_DESCRIPTION = "ticket_description"
TICKET_SLOTS = (TICKET_EMAIL, TICKET_SUBJECT, TICKET_DESCRIPTION)

_EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z]{2,}")


class ValidateTicketForm(FormValidationAction):
    def name(self) -> str:
        return "validate_ticket_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if await identify(tracker) is not None:
            return [slot for slot in domain_slots if slot != TICKET_EMAIL]
        return domain_slots

    async def validate_ticket_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        match = _EMAIL.search(str(value or ""))
        if match is None:
            dispatcher.utter_message(text=render("ticket_email_invalid", language_of(tracker.events or [])))
            return {TICKET_EMAIL: None}
        return {TICKET_EMAIL: match.group().rstrip(".")}

    async def validate_ticket_subject(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not text or text.startswith("/"):
            return {TICKET_SUBJECT: None}
        return {TICKET_SUBJECT: redact(text)[:200]}

    async def validate_ticket_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not text or text.startswith("/"):
            return {TICKET_DESCRIPTION: None}
        return {TICKET_DESCRIPTION: redact(text)}


class ActionSubmitTicket(Action):
    """Create the ticket with the transcript and tell its number."""

    def name(self) -> str:
        return "action_submit_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = await load_context(tracker)
        email = context.user.email if context.user else tracker.get_slot(TICKET_EMAIL)
        ticket_id = new_ticket_id()
        ticket = {
            "ticket_id": ticket_id,
            "conversation_id": tracker.sender_id,
            "user_id": context.user.id if context.user else None,
            "email": email,
            # Validation redacted these already; slots set any other way must not leak either.
            "subject": redact(tracker.get_slot(TICKET_SUBJECT) or ""),
            "description": redact(tracker.get_slot(TICKET_DESCRIPTION) or ""),
            "language": context.lang,
            "transcript": transcript(tracker),
        }
        await submit_ticket(ticket)
        if email:
            text = render("ticket_created", context.lang, ticket_id=ticket_id, email=email)
        else:
            text = render("ticket_created_no_email", context.lang, ticket_id=ticket_id)
        dispatcher.utter_message(text=text)
        return [SlotSet(slot, None) for slot in TICKET_SLOTS]
