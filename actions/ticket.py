"""Web ticket: `action_start_ticket` before the `ticket_form`, `action_submit_ticket` after it.

The form itself runs in the Rasa process (no validation action, see domain.yml): it asks an
anonymous user for an email address, everyone for a subject and a description, and then shows
the summary and waits for a yes (`ticket_confirmed`). Signed-in users are not asked for an
address: `action_start_ticket` fills in the one on their account. The ticket gets its number
here, so the user learns it even when the live-agent service is down (the ticket then waits in
the outbox, see `actions.api.handoff`).
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.handoff import new_ticket_id, submit_ticket
from actions.context import ContextAction, UserContext, latest_user_text, transcript, utterance_before_latest_user
from bot.answers.ticket import email_address
from bot.messages import render
from bot.redaction import redact

TICKET_EMAIL = "ticket_email"
TICKET_SUBJECT = "ticket_subject"
TICKET_DESCRIPTION = "ticket_description"
TICKET_CONFIRMED = "ticket_confirmed"
TICKET_SLOTS = (TICKET_EMAIL, TICKET_SUBJECT, TICKET_DESCRIPTION, TICKET_CONFIRMED)
TICKET_FORM = "ticket_form"
BOT_QUESTION = "bot_question"
REPORT_PROBLEM = "report_problem"
TICKET_OFFER = "utter_ticket"
SUBJECT_LENGTH = 80


def _reset() -> list[EventType]:
    return [SlotSet(slot, None) for slot in TICKET_SLOTS] + [SlotSet(BOT_QUESTION, None)]


class ActionStartTicket(ContextAction):
    """A fresh ticket: nothing left over from an earlier or cancelled one; a signed-in user's
    address is the one on their account."""

    action_name = "action_start_ticket"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: UserContext) -> list[EventType]:
        events = _reset()
        if context.user is not None:
            events.append(SlotSet(TICKET_EMAIL, context.user.email))
        if _problem_in_answer_to_the_offer(tracker):
            # the offer of a ticket answered by describing the problem (data/rules/ticket.yml):
            # that is the ticket's description, its first clause the subject; the summary follows
            described = redact(latest_user_text(tracker))
            events += [SlotSet(TICKET_DESCRIPTION, described), SlotSet(TICKET_SUBJECT, subject_of(described))]
        return events


def _problem_in_answer_to_the_offer(tracker: Tracker) -> bool:
    """The latest message is a problem report, and the bot's words before it were the ticket offer."""
    return (((tracker.latest_message or {}).get("intent") or {}).get("name") == REPORT_PROBLEM
            and utterance_before_latest_user(tracker) == TICKET_OFFER)


def subject_of(description: str) -> str:
    """A subject line from a description: its first clause, cut at a word within SUBJECT_LENGTH."""
    from bot.nlu_models import clauses

    first = (clauses(description) or [description.strip()])[0]
    if len(first) <= SUBJECT_LENGTH:
        return first
    return first[:SUBJECT_LENGTH].rsplit(" ", 1)[0] + " …"


class ActionSubmitTicket(ContextAction):
    """File the confirmed ticket with the transcript and tell its number."""

    action_name = "action_submit_ticket"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: UserContext) -> list[EventType]:
        email = context.user.email if context.user else email_address(tracker.get_slot(TICKET_EMAIL))
        if context.user is None and email is None:
            # The NLU took something for an address that is none: ask for it again, keep the rest.
            dispatcher.utter_message(text=render("ticket_email_invalid", context.lang))
            return [SlotSet(TICKET_EMAIL, None), SlotSet(TICKET_CONFIRMED, None), FollowupAction(TICKET_FORM)]
        ticket_id = new_ticket_id()
        ticket: dict[str, Any] = {
            "ticket_id": ticket_id,
            "conversation_id": tracker.sender_id,
            "user_id": context.user.id if context.user else None,
            "email": email,
            # The form's slots hold what the user typed: secrets never leave unmasked.
            "subject": redact(tracker.get_slot(TICKET_SUBJECT) or "")[:200],
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
        return _reset()
