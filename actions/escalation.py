"""Escalation to a live agent: asked for, after two failed turns, or automatic for Premier+.

The decision (SPEC §3): anonymous → `login_required`; not entitled to live chat →
`not_eligible` at once, with the reason and the alternatives; entitled but no problem described
yet → ask for one sentence (slot `handoff_status: need_problem`, the `problem_form` asks);
else → intake of the live-agent service → `queued` with queue, priority and position, or, when
the service cannot be reached, a persisted ticket → `unavailable`.
Every decision carries the CONTRACT handoff marker (`custom.handoff`) next to its text.

Problem reports are triaged to P1–P4 (`bot.triage`) into the slots `problem` and
`problem_priority` (not the FAQ slot `priority`); the user can correct the level.

Whatever the intent, a message that both describes a problem and asks for a person ("Mein Ton
geht seit heute nicht, ich will sofort einen Mitarbeiter") gets the escalation decision in the
same turn, with that message as the problem. Whether a message asks for a person or describes a
problem is the NLU's understanding (`bot.signals`, written into the parse data of every user
message and scored by `make evaluate`), not a second classifier here.
Each user message costs at most one action run:
`action_not_understood` (nlu_fallback: clarify, or escalate) and `action_after_secret` (after the
in-process secret warning: the redacted report or request still counts) decide in one call.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.api.handoff import queue_or_ticket
from actions.context import (
    ContextAction,
    UserContext,
    account_summary,
    events_since_handback,
    fresh_slot,
    latest_entities,
    latest_user_text,
    load_context,
    session_events,
    transcript,
    utterance_before_latest_user,
)
from bot import signals
from bot.messages import render
from bot.redaction import redact
from bot.entitlements import ANONYMOUS_OFFERS
from bot.knowledge import load_knowledge
from bot.triage import triage
from bot.answers.plans import is_question

logger = logging.getLogger(__name__)

PROBLEM = "problem"
PROBLEM_PRIORITY = "problem_priority"
HANDOFF_STATUS = "handoff_status"
NEEDS_PROBLEM = "needs_problem"  # featurized: the rules start the problem_form on true
NEED_PROBLEM = "need_problem"
from bot.levels import PRIORITY_LEVELS as LEVELS, URGENT_LEVELS
# Messages the bot had no answer for (out of scope, not understood).
UNANSWERED_INTENTS = ("out_of_scope", "nlu_fallback")
REPORT_PROBLEM = "report_problem"
REQUEST_HUMAN = "request_human"
INTENT_BEFORE_SECRET = "intent_before_secret"  # parse data key of bot.components.SecretGuard
CLARIFY = "utter_clarify"
ASK_PROBLEM = "utter_ask_problem"
# What the bot asked at the end of its reply (domain.yml `bot_question`), for the rules.
BOT_QUESTION = "bot_question"
ASKED_AGENT = "agent"
ASKED_TICKET = "ticket"
REQUESTED_SLOT = "requested_slot"
# Forms whose free-text answer a message holding a secret may still give, redacted.
FREE_TEXT_SLOTS = {"problem_form": ("problem",), "ticket_form": ("ticket_subject", "ticket_description")}
# Intents of questions the bot answers itself (FAQ topics): inside the problem_form such a
# message is a digression, answered before the form asks again, unless it describes a problem
# or the NLU was unsure (below WEAK_QUESTION): then it is the description asked for.
QUESTION_INTENTS = frozenset({
    "ask_phone", "ask_plan", "ask_priority", "ask_help_center", "ask_community", "ask_billing",
    "ask_social_media", "ask_account_rep", "ask_live_chat", "ask_channels", "ask_my_support", "ask_tam",
})
WEAK_QUESTION = 0.6
# A statement the NLU took for a ticket request or an FAQ question is the description asked for
# when it names a need by the seed's definitions ("feature request: we would like a dark mode").
STATEMENT_INTENTS = QUESTION_INTENTS | {"open_ticket"}
# The queued reply's buttons (docs/architecture.md): while the conversation waits, the live-agent
# service receives these payloads instead of Rasa and applies them to the queue entry.
LEAVE_QUEUE_PAYLOAD = "/leave_queue"

OFFER_PAYLOADS = {
    "ticket": '/open_ticket{"ticket_start":"here"}',
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


def priority_payload(level: str) -> str:
    return f'/set_priority{{"{PROBLEM_PRIORITY}":"{level}"}}'


def priority_buttons(lang: str) -> list[dict[str, str]]:
    return [{"title": level, "payload": priority_payload(level)} for level in LEVELS]


def queued_buttons(priority: str, lang: str) -> list[dict[str, str]]:
    """The other priorities to correct the queued one, and leaving the queue."""
    buttons = [{"title": render("button_priority", lang, priority=level), "payload": priority_payload(level)}
               for level in LEVELS if level != priority]
    return buttons + [{"title": render("button_leave_queue", lang), "payload": LEAVE_QUEUE_PAYLOAD}]


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
    queued_key: str | None = None,
    without_problem: bool = False,
) -> list[EventType]:
    """Say and mark the escalation outcome for this user; returns the slot events.

    `queued_key` names the message of a `queued` outcome (default: `escalation_queued`, or
    `escalation_queued_automatic` for Premier+'s P1/P2 escalation). `without_problem`: queue
    even though no problem was described (the user insisted instead of describing it)."""
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

    if not problem and not without_problem:
        # The problem_form asks for the sentence (rule on handoff_status: need_problem).
        return [SlotSet(HANDOFF_STATUS, NEED_PROBLEM)]

    events: list[EventType] = []
    problem = problem or ""
    if priority not in LEVELS:
        # rated without the request's own words ("can I talk to support staff?" is no how-to)
        priority = triage(signals.without_request(problem)).level
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
    key = queued_key or ("escalation_queued_automatic" if automatic else "escalation_queued")
    text = render(
        key, lang, queue_name=render(f"queue_{queue}", lang), priority=priority, position=position,
        prioritized_note=_prioritized_note(prioritized, priority, lang),
        queued_options=" " + render("escalation_queued_options", lang),
    )
    # The marker stays in this one reply (CONTRACT.md), the correction offered with it.
    _marker(dispatcher, text, {
        "status": "queued",
        "conversation_id": tracker.sender_id,
        "queue": queue,
        "priority": priority,
        "prioritized": prioritized,
        "position": position,
    }, queued_buttons(priority, lang))
    return events + [SlotSet(HANDOFF_STATUS, "queued")]


def _intent(event: Mapping[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def _intent_before_secret(event: Mapping[str, Any]) -> str | None:
    """The classifier's intent of a message `SecretGuard` turned into `share_secret`."""
    before = (event.get("parse_data") or {}).get(INTENT_BEFORE_SECRET)
    if isinstance(before, Mapping):
        return before.get("name")
    return before if isinstance(before, str) else None


def _user_events(tracker: Tracker) -> list[dict[str, Any]]:
    return [event for event in events_since_handback(tracker) if event.get("event") == "user"]


def latest_intent_before_secret(tracker: Tracker) -> str | None:
    """`intent_before_secret` of the latest message (the SDK's latest_message, else its event)."""
    latest = tracker.latest_message or {}
    found = _intent_before_secret({"parse_data": latest})
    if found:
        return found
    users = _user_events(tracker)
    return _intent_before_secret(users[-1]) if users else None


def latest_parse_data(tracker: Tracker) -> dict[str, Any]:
    """The parse data of the latest user message (with its text, for `bot.signals`)."""
    latest = dict(tracker.latest_message or {})
    if not latest.get("text"):
        latest["text"] = latest_user_text(tracker)
    return latest


def problem_from_history(tracker: Tracker) -> str | None:
    """A problem the user described without it being stored, redacted; None if there is none.

    The current message counts when it describes a problem besides asking for a person ("screen
    share is black, get me an agent"). An earlier message counts when it was a problem report
    (also one `SecretGuard` turned into `share_secret`) or reads like a problem (P1..P3 by
    triage), whatever the NLU took it for: "We're Premier+ customers ... our registration page
    shows an error" may have been answered as a plan question, it still describes the problem.
    So does a request the bot could not answer that names a need by the seed's definitions
    ("Infos, wie man das Wartezimmer konfiguriert": P4), but not small talk it turned down, and a
    statement the NLU took for a ticket request or an FAQ question that names a need
    (`names_a_need`: "feature request: a dark mode", then "can a human take this?"); the request
    for a person itself when another of its clauses names one (`need_besides_request`: "verbinde
    mich mit Tier 2, ich brauche Hilfe bei der Einrichtung von SSO").
    """
    users = _user_events(tracker)
    for index in range(len(users) - 1, -1, -1):
        event = users[index]
        text = str(event.get("text") or "")
        if not text or text.startswith("/"):
            continue
        safe = redact(text)
        parse_data = {"text": text, **(event.get("parse_data") or {})}
        if index == len(users) - 1:
            if signals.describes_problem(parse_data) or signals.need_besides_request(safe):
                return safe
            continue
        if REPORT_PROBLEM in (_intent(event), _intent_before_secret(event)) or signals.describes_problem(parse_data):
            return safe
        if _intent(event) in UNANSWERED_INTENTS and not triage(safe).is_default:
            return safe
        if _intent(event) in STATEMENT_INTENTS and names_a_need(safe):
            return safe
    return None


def names_a_need(text: str) -> bool:
    """A statement (not a question) that names a case the seed's definitions rate, a wish or a
    configuration need included: "feature request: we would like a dark mode", "ich brauche Hilfe
    bei der Einrichtung von SSO". "Ich will einen Mitarbeiter" names none."""
    return bool(text) and not is_question(text) and not triage(text).is_default


def bot_just_asked_for_problem(tracker: Tracker) -> bool:
    """True when the bot's last words before the latest user message asked for the problem."""
    return utterance_before_latest_user(tracker) == ASK_PROBLEM


async def escalate(dispatcher: CollectingDispatcher, tracker: Tracker, context: UserContext) -> list[EventType]:
    """`action_escalate`'s decision: the stored problem, else one the user described, else (an
    entitled user) ask for one; a user who asks for a person again instead of describing the
    problem is queued without it. Always sets `needs_problem` for the rules."""
    events: list[EventType] = []
    problem = fresh_slot(tracker, PROBLEM)
    if not problem and context.rights is not None and context.rights.live_chat:
        problem = problem_from_history(tracker)
        if problem:
            events.append(SlotSet(PROBLEM, problem))
    priority = fresh_slot(tracker, PROBLEM_PRIORITY)
    insisted = not problem and bot_just_asked_for_problem(tracker)
    if insisted and context.rights is not None and context.rights.live_chat:
        dispatcher.utter_message(text=render("escalation_queued_without_problem", context.lang))
    decided = await decide(dispatcher, tracker, context, problem, priority, without_problem=insisted)
    asking = SlotSet(HANDOFF_STATUS, NEED_PROBLEM) in decided
    return events + decided + [SlotSet(NEEDS_PROBLEM, asking)]


async def triage_report(dispatcher: CollectingDispatcher, tracker: Tracker, context: UserContext,
                        problem: str) -> list[EventType]:
    """`action_triage_problem`'s answer to a (redacted) problem report.

    A report that also asks for a person gets the escalation decision at once, with the report
    as the problem; Premier+ gets every problem escalated without asking (P1/P2 as urgent, the
    rest because the bot cannot answer it); everyone else the
    triaged level, buttons to correct it and the way on (an agent, or a ticket).
    """
    lang = context.lang
    level = triage(signals.without_request(problem)).level
    events: list[EventType] = [SlotSet(PROBLEM, problem), SlotSet(PROBLEM_PRIORITY, level)]

    rights = context.rights
    if signals.wants_person(latest_parse_data(tracker)):
        return events + await decide(dispatcher, tracker, context, problem, level)
    if rights is not None and rights.automatic_escalation:
        # The bot has no answer to a technical problem, so Premier+ never has to ask (SPEC §2):
        # an urgent one is announced as such, any other as one the bot cannot answer.
        queued_key = "escalation_queued_automatic" if level in URGENT_LEVELS else "escalation_queued_not_understood"
        return events + await decide(dispatcher, tracker, context, problem, level, automatic=True,
                                     queued_key=queued_key)

    text = render("problem_triaged", lang, priority=level, summary=priority_summary(level, lang))
    dispatcher.utter_message(text=text, buttons=priority_buttons(lang))
    # The reply ends with a question; the rules read `bot_question` to take a "ja" as its answer.
    if rights is not None and rights.live_chat:
        dispatcher.utter_message(
            text=render("problem_next_agent", lang),
            buttons=[{"title": render("offer_agent", lang), "payload": "/request_human"}],
        )
        return events + [SlotSet(BOT_QUESTION, ASKED_AGENT)]
    dispatcher.utter_message(
        text=render("problem_next_ticket", lang),
        buttons=offer_buttons(["ticket"], lang),
    )
    return events + [SlotSet(BOT_QUESTION, ASKED_TICKET)]


class ActionEscalate(ContextAction):
    """`request_human`, or the problem_form is done: decide and tell."""

    action_name = "action_escalate"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: UserContext) -> list[EventType]:
        return await escalate(dispatcher, tracker, context)


class ActionTriageProblem(ContextAction):
    """`report_problem`: note the problem and its level; escalate when the report also asks for
    a person, and for Premier+ with P1/P2."""

    action_name = "action_triage_problem"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: UserContext) -> list[EventType]:
        return await triage_report(dispatcher, tracker, context, redact(latest_user_text(tracker)))


def _previous_turn_clarified(tracker: Tracker) -> bool:
    """True when the bot answered the user's previous message with the clarification (the
    first failed turn), so the current not-understood message is the second in a row."""
    events = session_events(tracker)
    users = [index for index, event in enumerate(events) if event.get("event") == "user"]
    if len(users) < 2:
        return False
    for event in events[users[-2] + 1:users[-1]]:
        if event.get("event") == "action" and event.get("name") == CLARIFY:
            return True  # the clarification as a rule's own action (core fallback, old rules)
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == CLARIFY:
            return True  # rendered by Rasa's NLG for action_not_understood
    return False


class ActionNotUnderstood(ContextAction):
    """`nlu_fallback`: the bot cannot answer the message.

    Premier+ (automatic escalation): queued at once, the unclear message as the problem (unless
    one is stored already) and its triaged level. Everyone else: the clarification with the
    likely topics (`utter_clarify`, rendered in the Rasa process), and on the second failure in
    a row the escalation decision as for `request_human`. A message the intent classifier could
    not place but that asks for a person (`bot.signals.wants_person`: a request for "a live
    chat with support" split between request_human and ask_live_chat) gets that decision at
    once, for everyone. Always sets `needs_problem`.
    """

    action_name = "action_not_understood"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: UserContext) -> list[EventType]:
        rights = context.rights
        queued = fresh_slot(tracker, HANDOFF_STATUS) == "queued"
        parse_data = latest_parse_data(tracker)
        if not queued and signals.wants_person(parse_data) and not signals.describes_problem(parse_data):
            return await escalate(dispatcher, tracker, context)
        if rights is not None and rights.automatic_escalation and not queued:
            stored = fresh_slot(tracker, PROBLEM)
            text = latest_user_text(tracker)
            problem = stored or (redact(text) if text and not text.startswith("/") else None)
            if problem:
                events: list[EventType] = []
                if stored:
                    priority = fresh_slot(tracker, PROBLEM_PRIORITY)
                else:
                    priority = triage(problem).level
                    events += [SlotSet(PROBLEM, problem), SlotSet(PROBLEM_PRIORITY, priority)]
                events += await decide(dispatcher, tracker, context, problem, priority,
                                       automatic=True, queued_key="escalation_queued_not_understood")
                return events + [SlotSet(NEEDS_PROBLEM, False)]
        if not queued and _previous_turn_clarified(tracker):
            return await escalate(dispatcher, tracker, context)
        dispatcher.utter_message(response=CLARIFY)
        return [SlotSet(NEEDS_PROBLEM, False)]


class ActionAfterSecret(Action):
    """After the (in-process) secret warning: a problem report or a request for a person that
    held a secret still counts, redacted.

    `SecretGuard` keeps the classifier's intent in `intent_before_secret`: `report_problem`, or
    any message that describes a problem (`bot.signals`), is triaged (and escalated when it also
    asks for a person) as by `action_triage_problem`; `request_human`, or any message that asks
    for a person, escalated as by `action_escalate`; anything else needs nothing more.
    Always sets `needs_problem` (true: the problem_form asks for one sentence).
    """

    def name(self) -> str:
        return "action_after_secret"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        form = (tracker.active_loop or {}).get("name")
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested in FREE_TEXT_SLOTS.get(form, ()):
            # The answer to the form's question, with the secret masked: the form goes on.
            return [SlotSet(requested, redact(latest_user_text(tracker))), SlotSet(NEEDS_PROBLEM, False)]
        before = latest_intent_before_secret(tracker)
        parse_data = latest_parse_data(tracker)
        reports = before == REPORT_PROBLEM or signals.describes_problem(parse_data)
        if not reports and before != REQUEST_HUMAN and not signals.wants_person(parse_data):
            return [SlotSet(NEEDS_PROBLEM, False)]
        context = await load_context(tracker)
        problem = redact(latest_user_text(tracker))
        kept = render("secret_problem_kept", context.lang)
        if reports:
            dispatcher.utter_message(text=kept)
            return await triage_report(dispatcher, tracker, context, problem) + [SlotSet(NEEDS_PROBLEM, False)]
        decision = CollectingDispatcher()
        events = await escalate(decision, tracker, context)
        if any(event.get("name") == PROBLEM for event in events):
            dispatcher.utter_message(text=kept)  # the request described the problem too
        dispatcher.messages.extend(decision.messages)
        return events


class ActionSetPriority(ContextAction):
    """The user corrects the level: a button (`problem_priority` entity) or "das ist eher P1"."""

    action_name = "action_set_priority"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: UserContext) -> list[EventType]:
        lang = context.lang
        named = latest_entities(tracker, PROBLEM_PRIORITY) + latest_entities(tracker, "priority")
        level = next((value for value in named if value in LEVELS), None)
        if level is None:
            dispatcher.utter_message(text=render("problem_priority_unknown", lang), buttons=priority_buttons(lang))
            return []
        events: list[EventType] = [SlotSet(PROBLEM_PRIORITY, level)]
        problem = fresh_slot(tracker, PROBLEM)
        rights = context.rights
        already_queued = fresh_slot(tracker, HANDOFF_STATUS) == "queued"
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
    """The problem_form's one sentence: what the in-process slot mapping took (redacted), or a
    message the NLU took for an FAQ question that describes a problem after all.

    The form's `ignored_intents` keep cancels, small talk and requests for a person out of the
    slot; FAQ questions are ignored too, so that "welche Nummer hat der Support in Wien?" is
    answered before the form asks again. The NLU's classification of a problem description can
    land on an FAQ intent, though ("feature request: attendance reports exported automatically"
    as ask_billing, 0.47): such a message is the description the user was asked for.
    """

    def name(self) -> str:
        return "validate_problem_form"

    async def extract_problem(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot(REQUESTED_SLOT) != PROBLEM:
            return {}
        intent = (tracker.latest_message or {}).get("intent") or {}
        text = latest_user_text(tracker)
        name = intent.get("name")
        if name not in STATEMENT_INTENTS or not text or text.startswith("/"):
            return {}
        weak = name in QUESTION_INTENTS and float(intent.get("confidence") or 0.0) < WEAK_QUESTION
        if weak or signals.describes_problem(latest_parse_data(tracker)):
            return {PROBLEM: redact(text)}
        if names_a_need(redact(text)):
            return {PROBLEM: redact(text)}
        return {}

    async def validate_problem(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not text or text.startswith("/"):
            return {PROBLEM: None}
        return {PROBLEM: redact(text)}
