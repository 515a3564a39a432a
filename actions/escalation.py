"""Escalation to a live agent: asked for, after two failed turns, or automatic for Premier+.

The decision (SPEC §3): anonymous → `login_required`; not entitled to live chat →
`not_eligible` at once, with the reason and the alternatives; entitled but no problem described
yet → ask for one sentence (slot `handoff_status: need_problem`, the `problem_form` asks);
else → intake of the live-agent service → `queued` with queue, priority and position, or, when
the service cannot be reached, a persisted ticket → `unavailable`.
Every decision carries the CONTRACT handoff marker (`custom.handoff`) next to its text.

Problem reports are triaged to P1–P4 (`bot.triage`) into the slots `problem` and
`problem_priority` (not the FAQ slot `priority`); the user can correct the level.
"""
from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.api.handoff import queue_or_ticket
from actions.context import (
    UserContext,
    account_summary,
    latest_entities,
    latest_user_text,
    load_context,
    session_events,
    transcript,
)
from bot.messages import render
from bot.redaction import redact
from bot.entitlements import ANONYMOUS_OFFERS
from bot.knowledge import load_knowledge
from bot.triage import triage

logger = logging.getLogger(__name__)

PROBLEM = "problem"
PROBLEM_PRIORITY = "problem_priority"
HANDOFF_STATUS = "handoff_status"
NEEDS_PROBLEM = "needs_problem"  # featurized: the rules start the problem_form on true
NEED_PROBLEM = "need_problem"
LEVELS = ("P1", "P2", "P3", "P4")
URGENT_LEVELS = ("P1", "P2")  # Premier+ escalates these without being asked

OFFER_PAYLOADS = {
    "ticket": "/open_ticket",
    "community": "/ask_community",
    "help_center": "/ask_help_center",
    "billing": "/ask_billing",
}


# --- facts from knowledge/priorities.yml -----------------------------------------------------

def priority_summary(level: str, lang: str) -> str:
    priority = load_knowledge().priorities.get(level)
    return priority.summary.get(lang).strip() if priority else ""


# --- the escalation decision -----------------------------------------------------------------

def _marker(dispatcher: CollectingDispatcher, text: str, handoff: dict[str, Any],
            buttons: list[dict[str, str]] | None = None) -> None:
    dispatcher.utter_message(text=text, buttons=buttons or [], json_message={"handoff": handoff})


def offer_buttons(offers: tuple[str, ...] | list[str], lang: str) -> list[dict[str, str]]:
    return [{"title": render(f"offer_{offer}", lang), "payload": OFFER_PAYLOADS[offer]} for offer in offers]


def priority_buttons(lang: str) -> list[dict[str, str]]:
    return [
        {"title": level, "payload": f'/set_priority{{"{PROBLEM_PRIORITY}":"{level}"}}'}
        for level in LEVELS
    ]


def _prioritized_note(prioritized: bool, priority: str, lang: str) -> str:
    if not prioritized:
        return ""
    level = load_knowledge().priorities.get(priority)
    if level is None:
        return ""
    # The catalog trims its texts, so the separating space is added here.
    return " " + render("escalation_prioritized_note", lang, first_response=level.first_response.text(lang))


def intake_payload(tracker: Tracker, context: UserContext, problem: str, priority: str) -> dict[str, Any]:
    """The body of `POST /internal/intake` (docs/internal-api.md), transcript redacted."""
    assert context.user is not None and context.rights is not None
    return {
        "conversation_id": tracker.sender_id,
        "user_id": context.user.id,
        "language": context.lang,
        "queue": context.rights.queue,
        "priority": priority,
        "prioritized": context.rights.prioritized,
        "summary": redact(problem),
        "account": account_summary(context),
        "transcript": transcript(tracker),
    }


async def decide(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    context: UserContext,
    problem: str | None,
    priority: str | None,
    automatic: bool = False,
) -> list[EventType]:
    """Say and mark the escalation outcome for this user; returns the slot events."""
    lang = context.lang
    if context.anonymous:
        offers = list(ANONYMOUS_OFFERS)
        _marker(dispatcher, render("escalation_login_required", lang),
                {"status": "login_required", "offers": offers}, offer_buttons(offers, lang))
        return [SlotSet(HANDOFF_STATUS, "login_required")]

    rights = context.rights
    assert rights is not None and context.user is not None
    if not rights.live_chat:
        reason = rights.reason or "not_entitled"
        key = f"escalation_not_eligible_{reason}"
        _marker(dispatcher, render(key, lang, account=context.user.account.name),
                {"status": "not_eligible", "reason": reason, "offers": list(rights.offers)},
                offer_buttons(rights.offers, lang))
        return [SlotSet(HANDOFF_STATUS, "not_eligible")]

    if not problem:
        # The problem_form asks for the sentence (rule on handoff_status: need_problem).
        return [SlotSet(HANDOFF_STATUS, NEED_PROBLEM)]

    events: list[EventType] = []
    if priority not in LEVELS:
        priority = triage(problem).level
        events.append(SlotSet(PROBLEM_PRIORITY, priority))

    result = await queue_or_ticket(intake_payload(tracker, context, problem, priority))
    if result.status == "unavailable":
        _marker(dispatcher, render("escalation_unavailable", lang, ticket_id=result.ticket_id),
                {"status": "unavailable", "ticket_id": result.ticket_id})
        return events + [SlotSet(HANDOFF_STATUS, "unavailable")]

    answer = result.answer or {}
    queue = answer.get("queue") or rights.queue
    priority = answer.get("priority") or priority
    prioritized = bool(answer.get("prioritized", rights.prioritized))
    position = int(answer.get("position") or 1)
    key = "escalation_queued_automatic" if automatic else "escalation_queued"
    text = render(
        key, lang, queue_name=render(f"queue_{queue}", lang), priority=priority, position=position,
        prioritized_note=_prioritized_note(prioritized, priority, lang),
    )
    _marker(dispatcher, text, {
        "status": "queued",
        "conversation_id": tracker.sender_id,
        "queue": queue,
        "priority": priority,
        "prioritized": prioritized,
        "position": position,
    })
    return events + [SlotSet(HANDOFF_STATUS, "queued")]


def _intent(event: dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def problem_from_history(tracker: Tracker) -> str | None:
    """A problem the user described without it being stored, e.g. in the request itself.

    "Meine Aufzeichnungen fehlen, bitte einen Mitarbeiter" describes the problem as it asks for
    a human; so does an earlier report the NLU took for something else but triage recognises.
    """
    users = [event for event in session_events(tracker) if event.get("event") == "user"]
    for event in reversed(users):
        text = str(event.get("text") or "")
        if not text or text.startswith("/"):
            continue
        if _intent(event) == "report_problem" or not triage(text).is_default:
            return redact(text)
    return None


class ActionEscalate(Action):
    """`request_human`, or the second failed turn: decide and tell."""

    def name(self) -> str:
        return "action_escalate"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = await load_context(tracker)
        problem = tracker.get_slot(PROBLEM)
        events: list[EventType] = []
        if not problem and context.rights is not None and context.rights.live_chat:
            problem = problem_from_history(tracker)
            if problem:
                events.append(SlotSet(PROBLEM, problem))
        priority = tracker.get_slot(PROBLEM_PRIORITY)
        events += await decide(dispatcher, tracker, context, problem, priority)
        asking = SlotSet(HANDOFF_STATUS, NEED_PROBLEM) in events
        return events + [SlotSet(NEEDS_PROBLEM, asking)]


class ActionTriageProblem(Action):
    """`report_problem`: note the problem and its level; Premier+ with P1/P2 goes to an agent."""

    def name(self) -> str:
        return "action_triage_problem"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = await load_context(tracker)
        lang = context.lang
        problem = redact(latest_user_text(tracker))
        level = triage(problem).level
        events: list[EventType] = [SlotSet(PROBLEM, problem), SlotSet(PROBLEM_PRIORITY, level)]

        rights = context.rights
        if rights is not None and rights.automatic_escalation and level in URGENT_LEVELS:
            return events + await decide(dispatcher, tracker, context, problem, level, automatic=True)

        text = render("problem_triaged", lang, priority=level, summary=priority_summary(level, lang))
        dispatcher.utter_message(text=text, buttons=priority_buttons(lang))
        if rights is not None and rights.live_chat:
            dispatcher.utter_message(
                text=render("problem_next_agent", lang),
                buttons=[{"title": render("offer_agent", lang), "payload": "/request_human"}],
            )
        else:
            dispatcher.utter_message(
                text=render("problem_next_ticket", lang),
                buttons=offer_buttons(["ticket"], lang),
            )
        return events


class ActionSetPriority(Action):
    """The user corrects the level: a button (`problem_priority` entity) or "das ist eher P1"."""

    def name(self) -> str:
        return "action_set_priority"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = await load_context(tracker)
        lang = context.lang
        named = latest_entities(tracker, PROBLEM_PRIORITY) + latest_entities(tracker, "priority")
        level = next((value for value in named if value in LEVELS), None)
        if level is None:
            dispatcher.utter_message(text=render("problem_priority_unknown", lang), buttons=priority_buttons(lang))
            return []
        events: list[EventType] = [SlotSet(PROBLEM_PRIORITY, level)]
        problem = tracker.get_slot(PROBLEM)
        rights = context.rights
        already_queued = tracker.get_slot(HANDOFF_STATUS) == "queued"
        urgent_plus = rights is not None and rights.automatic_escalation and level in URGENT_LEVELS
        if problem and rights is not None and rights.live_chat and (already_queued or urgent_plus):
            # The intake is idempotent by conversation: this updates the waiting entry's level.
            return events + await decide(dispatcher, tracker, context, problem, level,
                                         automatic=urgent_plus and not already_queued)
        dispatcher.utter_message(
            text=render("problem_priority_changed", lang, priority=level, summary=priority_summary(level, lang))
        )
        return events


class ValidateProblemForm(FormValidationAction):
    """The one sentence asked for before queueing: stored redacted, triaged right away."""

    def name(self) -> str:
        return "validate_problem_form"

    async def validate_problem(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not text or text.startswith("/"):
            return {PROBLEM: None}
        problem = redact(text)
        slots: dict[str, Any] = {PROBLEM: problem}
        if tracker.get_slot(PROBLEM_PRIORITY) not in LEVELS:
            slots[PROBLEM_PRIORITY] = triage(problem).level
        return slots
