"""Escalation paths beyond a plain request: not understood (automatic for Premier+), a problem
and a request in one message, a problem report holding a secret, plan names in the problem.

`action_not_understood`, `action_after_secret`, and what `action_triage_problem` and
`action_escalate` make of such messages, against tracker fixtures, the real domain, a real
SQLite database and a stand-in for the live-agent service (tests/actions/conftest.py)."""
from __future__ import annotations

import pytest

from actions.escalation import (
    ActionAfterSecret,
    ActionEscalate,
    ActionNotUnderstood,
    ActionTriageProblem,
)
from tests.actions.conftest import (
    DEMO_OUTCOMES,
    handoff_markers,
    load_tracker,
    run_action,
    slot_events,
    texts,
    token_for,
)

ALL_USERS = list(DEMO_OUTCOMES)
PREMIER_PLUS = ["u-plus-admin", "u-plus-member"]
NOT_PREMIER_PLUS = [user for user in ALL_USERS if user not in PREMIER_PLUS]


def _ids(user):
    return user or "anonymous"


def _assert_decision(messages, user_id, live_agent, conversation_id):
    """Exactly one CONTRACT marker, the one SPEC §2 gives this user; returns it."""
    status, queue, prioritized, reason = DEMO_OUTCOMES[user_id]
    markers = handoff_markers(messages)
    assert len(markers) == 1, messages
    marker = markers[0]
    assert marker["status"] == status
    if status == "queued":
        assert (marker["queue"], marker["prioritized"], marker["position"]) == (queue, prioritized, 1)
        assert marker["conversation_id"] == conversation_id
        assert [i["conversation_id"] for i in live_agent.intakes] == [conversation_id]
    else:
        assert live_agent.intakes == []
        if status == "not_eligible":
            assert marker["reason"] == reason
    return marker


def _clarified(messages) -> bool:
    return messages == [{**messages[0], "response": "utter_clarify"}] and not messages[0].get("text")


# --- 1. not understood --------------------------------------------------------------------------

@pytest.mark.parametrize("user_id", PREMIER_PLUS)
async def test_premier_plus_not_understood_is_queued_at_once(user_id, live_agent, domain_dict):
    tracker = load_tracker("not_understood_first_en", token_for(user_id))
    messages, events = await run_action(ActionNotUnderstood(), tracker, domain_dict)
    marker = _assert_decision(messages, user_id, live_agent, tracker.sender_id)
    assert marker["priority"] == "P4"  # "How do I set up ...": triaged from the unclear message
    assert "Premier+" in texts(messages) and "automatically" in texts(messages)
    assert not any(m.get("response") for m in messages)  # no clarification on top
    text = "How do I set up SAML single sign-on with Azure AD for our whole account?"
    assert live_agent.intakes[0]["summary"] == text
    assert slot_events(events) == {"problem": text, "problem_priority": "P4",
                                   "handoff_status": "queued", "needs_problem": False}


@pytest.mark.parametrize("user_id", NOT_PREMIER_PLUS, ids=_ids)
async def test_others_not_understood_once_get_the_clarification(user_id, live_agent, domain_dict):
    tracker = load_tracker("not_understood_first_en", token_for(user_id))
    messages, events = await run_action(ActionNotUnderstood(), tracker, domain_dict)
    # Rendered by Rasa's NLG in-process (bot.answers.smalltalk.clarify), with the buttons.
    assert _clarified(messages), messages
    assert slot_events(events) == {"needs_problem": False}
    assert live_agent.intakes == []


@pytest.mark.parametrize("user_id", NOT_PREMIER_PLUS, ids=_ids)
async def test_not_understood_twice_escalates(user_id, live_agent, domain_dict):
    tracker = load_tracker("not_understood_twice_de", token_for(user_id), status=None)
    messages, events = await run_action(ActionNotUnderstood(), tracker, domain_dict)
    if DEMO_OUTCOMES[user_id][0] == "queued":
        # Entitled, and neither message describes a problem: the problem_form asks for one.
        assert messages == [] and live_agent.intakes == []
        assert slot_events(events) == {"handoff_status": "need_problem", "needs_problem": True}
    else:
        _assert_decision(messages, user_id, live_agent, tracker.sender_id)
        assert slot_events(events)["needs_problem"] is False


async def test_the_clarification_as_a_rules_own_action_counts_as_the_first_failure(live_agent, domain_dict):
    tracker = load_tracker("not_understood_twice_de", token_for("u-basic-owner"), status=None)
    for event in tracker.events:
        if event.get("event") == "action" and event.get("name") == "action_not_understood":
            event["name"] = "utter_clarify"
        if event.get("event") == "bot":
            event["metadata"] = {}
    messages, _ = await run_action(ActionNotUnderstood(), tracker, domain_dict)
    assert [m["status"] for m in handoff_markers(messages)] == ["not_eligible"]


@pytest.mark.parametrize("user_id", ALL_USERS, ids=_ids)
async def test_not_understood_request_for_a_person_gets_the_decision_at_once(user_id, live_agent, domain_dict):
    """The classifier split between request_human and ask_live_chat (nlu_fallback), the signal
    says the user wants a person: the escalation decision, not the clarification."""
    tracker = load_tracker("not_understood_first_en", token_for(user_id))
    request = "Ich hätte gern einen Live-Chat mit dem Support-Team"
    tracker.events[-1] = {**tracker.events[-1], "text": request}  # the user's only message
    tracker.latest_message = {"text": request, "intent": {"name": "nlu_fallback"}, "entities": []}
    messages, events = await run_action(ActionNotUnderstood(), tracker, domain_dict)
    if DEMO_OUTCOMES[user_id][0] == "queued":
        # Entitled, no problem described yet: the problem_form asks for one (no clarification).
        assert messages == [] and slot_events(events)["needs_problem"] is True
    else:
        _assert_decision(messages, user_id, live_agent, tracker.sender_id)


@pytest.mark.parametrize("user_id", ["u-plus-member", "u-biz-admin"])
async def test_not_understood_while_queued_only_clarifies(user_id, live_agent, domain_dict):
    tracker = load_tracker("not_understood_twice_de", token_for(user_id), status="queued")
    messages, events = await run_action(ActionNotUnderstood(), tracker, domain_dict)
    assert _clarified(messages) and live_agent.intakes == []
    assert slot_events(events) == {"needs_problem": False}


async def test_premier_plus_not_understood_keeps_a_stored_problem(live_agent, domain_dict):
    tracker = load_tracker("not_understood_first_en", token_for("u-plus-admin"))
    tracker.slots.update({"problem": "Calendar sync is broken.", "problem_priority": "P3"})
    messages, events = await run_action(ActionNotUnderstood(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["priority"]) == ("queued", "P3")
    assert live_agent.intakes[0]["summary"] == "Calendar sync is broken."
    assert "problem" not in slot_events(events)


@pytest.mark.parametrize("bad", ["expired-or-forged", ""])
async def test_not_understood_without_a_valid_token_never_queues(bad, live_agent, domain_dict):
    tracker = load_tracker("not_understood_first_en", bad)
    messages, _ = await run_action(ActionNotUnderstood(), tracker, domain_dict)
    assert _clarified(messages) and live_agent.intakes == []


# --- 2. problem and request in one message ---------------------------------------------------

COMBINED = {
    "de": "Mein Ton geht seit heute nicht, ich will sofort einen Mitarbeiter",
    "en": "screen share is black, get me an agent",
}


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("intent,action", [("report_problem", ActionTriageProblem),
                                           ("request_human", ActionEscalate)])
@pytest.mark.parametrize("user_id", ALL_USERS, ids=_ids)
async def test_problem_and_request_in_one_message(user_id, intent, action, lang, live_agent, domain_dict):
    """Whichever intent the NLU picks, the outcome is the escalation decision, with the
    message as the problem: never the triage menu, never "describe your problem first"."""
    text = COMBINED[lang]
    tracker = load_tracker("problem_and_request", token_for(user_id), text=text, intent=intent, lang=lang)
    messages, events = await run_action(action(), tracker, domain_dict)
    marker = _assert_decision(messages, user_id, live_agent, tracker.sender_id)
    slots = slot_events(events)
    assert slots["handoff_status"] == marker["status"]
    assert slots.get("needs_problem", False) is False
    if marker["status"] == "queued":
        assert marker["priority"] == "P3"
        assert live_agent.intakes[0]["summary"] == text
        assert slots["problem"] == text
        assert "automati" not in texts(messages)  # asked for, not automatic
    # No triage menu: the priority buttons come only with the queued marker, to correct it.
    payloads = [b["payload"] for m in messages if not (m.get("custom") or {}).get("handoff")
                for b in m.get("buttons") or []]
    assert not any(p.startswith("/set_priority") for p in payloads)


async def test_premier_member_p1_with_a_request_is_queued(live_agent, domain_dict):
    """Premier has no automatic escalation, but the user asked in the same message."""
    text = "Unser Dienst ist komplett ausgefallen, verbinden Sie mich sofort mit einem Mitarbeiter"
    tracker = load_tracker("problem_and_request", token_for("u-premier-member"), text=text,
                           intent="report_problem", lang="de")
    messages, _ = await run_action(ActionTriageProblem(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["queue"], marker["priority"], marker["prioritized"]) == (
        "queued", "tier1", "P1", True)


async def test_no_employee_can_start_meetings_is_a_p1_report_not_a_request(live_agent, domain_dict):
    tracker = load_tracker("problem_and_request", token_for("u-biz-admin"),
                           text="kein Mitarbeiter kann Meetings starten", intent="report_problem", lang="de")
    messages, events = await run_action(ActionTriageProblem(), tracker, domain_dict)
    assert handoff_markers(messages) == [] and live_agent.intakes == []
    assert slot_events(events)["problem_priority"] == "P1"
    assert "/request_human" in [b["payload"] for m in messages for b in m.get("buttons") or []]


async def test_a_bare_request_still_asks_for_the_problem(live_agent, domain_dict):
    tracker = load_tracker("problem_and_request", token_for("u-biz-admin"),
                           text="Can't you connect me to an agent?", intent="request_human", lang="en")
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    assert messages == [] and live_agent.intakes == []
    assert slot_events(events) == {"handoff_status": "need_problem", "needs_problem": True}


# --- 3. a problem report holding a secret ------------------------------------------------------

SECRET_REPORT = "Mein Hostschlüssel 123456 geht nicht und ich möchte einen Mitarbeiter"
REDACTED_REPORT = "Mein Hostschlüssel [REDACTED host key] geht nicht und ich möchte einen Mitarbeiter"


@pytest.mark.parametrize("before", [{"name": "report_problem", "confidence": 0.8},
                                    {"name": "request_human", "confidence": 0.7}],
                         ids=lambda b: b["name"])
@pytest.mark.parametrize("user_id", ALL_USERS, ids=_ids)
async def test_secret_in_a_problem_and_request_still_escalates(user_id, before, live_agent, domain_dict):
    tracker = load_tracker("secret_message", token_for(user_id), text=SECRET_REPORT, before=before)
    messages, events = await run_action(ActionAfterSecret(), tracker, domain_dict)
    marker = _assert_decision(messages, user_id, live_agent, tracker.sender_id)
    slots = slot_events(events)
    assert slots["needs_problem"] is False
    everything = str(messages) + str(events) + str(live_agent.intakes)
    assert "123456" not in everything
    if marker["status"] == "queued":
        assert slots["problem"] == REDACTED_REPORT
        assert live_agent.intakes[0]["summary"] == REDACTED_REPORT
        # "I've kept your description, without that data" comes before the decision.
        assert messages[0]["text"].startswith("Ihre Beschreibung habe ich ohne diese Angabe")
        assert "custom" in messages[-1]


async def test_secret_in_a_problem_report_is_triaged_redacted(live_agent, domain_dict):
    text = "Mein Hostschlüssel 664210 wird abgelehnt, ich komme nicht ins Meeting."
    tracker = load_tracker("secret_message", token_for("u-biz-member"), text=text,
                           before={"name": "report_problem", "confidence": 0.77})
    messages, events = await run_action(ActionAfterSecret(), tracker, domain_dict)
    assert handoff_markers(messages) == [] and live_agent.intakes == []
    slots = slot_events(events)
    assert slots["problem"] == "Mein Hostschlüssel [REDACTED host key] wird abgelehnt, ich komme nicht ins Meeting."
    assert slots["needs_problem"] is False
    assert "Priorität" in texts(messages) and "664210" not in str(messages)


async def test_the_redacted_report_counts_when_the_agent_is_asked_for_next(live_agent, domain_dict):
    """The exam's sec-esc-bizmember: the report was share_secret, the request comes after."""
    tracker = load_tracker("secret_report_then_request_de", token_for("u-biz-member"))
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["queue"]) == ("queued", "tier1")
    assert "664210" not in str(live_agent.intakes)
    assert slot_events(events)["problem"].startswith("Mein Hostschlüssel [REDACTED host key] wird abgelehnt")


async def test_secret_in_a_bare_request_asks_for_the_problem(live_agent, domain_dict):
    tracker = load_tracker("secret_message", token_for("u-biz-member"),
                           text="Mein Passwort ist Geheim!99, ich will einen Mitarbeiter",
                           before={"name": "request_human", "confidence": 0.9})
    messages, events = await run_action(ActionAfterSecret(), tracker, domain_dict)
    assert messages == [] and live_agent.intakes == []
    assert slot_events(events) == {"handoff_status": "need_problem", "needs_problem": True}


@pytest.mark.parametrize("user_id", ["u-basic-owner", "u-biz-member"])
async def test_secret_in_a_request_the_intent_missed_still_gets_the_decision(user_id, live_agent, domain_dict):
    """The classifier took it for an account question; the wants_person signal decides."""
    text = "hallo, mein passwort ist Geheim#2026 und die anmeldung klappt nicht – kann das bitte ein mitarbeiter prüfen?"
    tracker = load_tracker("secret_message", token_for(user_id), text=text,
                           before={"name": "ask_my_support", "confidence": 0.5})
    messages, _ = await run_action(ActionAfterSecret(), tracker, domain_dict)
    marker = _assert_decision(messages, user_id, live_agent, tracker.sender_id)
    assert marker["status"] == DEMO_OUTCOMES[user_id][0]
    assert "Geheim#2026" not in str(messages) + str(live_agent.intakes)


@pytest.mark.parametrize("before", [{"name": "ask_plan", "confidence": 0.6}, None])
async def test_secret_in_anything_else_needs_nothing_more(before, live_agent, domain_dict):
    tracker = load_tracker("secret_message", token_for("u-plus-admin"),
                           text="Mein Hostschlüssel ist 123456, was kostet Premier+?", before=before)
    messages, events = await run_action(ActionAfterSecret(), tracker, domain_dict)
    assert messages == [] and live_agent.intakes == []
    assert slot_events(events) == {"needs_problem": False}


async def test_intent_before_secret_is_read_from_the_latest_message_too(live_agent, domain_dict):
    tracker = load_tracker("secret_message", token_for("u-biz-member"), text=SECRET_REPORT, before=None)
    tracker.latest_message["intent_before_secret"] = {"name": "report_problem", "confidence": 0.8}
    messages, _ = await run_action(ActionAfterSecret(), tracker, domain_dict)
    assert [m["status"] for m in handoff_markers(messages)] == ["queued"]


# --- 4. plan names in the problem --------------------------------------------------------------

async def test_a_problem_answered_as_a_plan_question_still_counts(live_agent, domain_dict):
    """esc-en-pro-claim: the first message went to ask_plan (it names Premier+); asked for an
    agent next, it is the problem, and the typed claim changes nothing (pro owner: tier1)."""
    tracker = load_tracker("plan_question_then_request_en", token_for("u-pro-owner"))
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["queue"], marker["prioritized"]) == ("queued", "tier1", False)
    assert live_agent.intakes[0]["summary"].endswith("Our webinar registration page shows an error.")
    assert slot_events(events)["needs_problem"] is False


@pytest.mark.parametrize("intent,action", [("report_problem", ActionTriageProblem),
                                           ("request_human", ActionEscalate)])
async def test_plan_names_in_the_problem_do_not_stop_escalation(intent, action, live_agent, domain_dict):
    text = "even on Premier+ screen sharing crashes, I need an agent"
    tracker = load_tracker("problem_and_request", token_for("u-plus-admin"), text=text, intent=intent, lang="en")
    tracker.latest_message["entities"] = [{"entity": "plan", "value": "premier_plus", "start": 8, "end": 16}]
    messages, _ = await run_action(action(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["queue"], marker["prioritized"]) == ("queued", "tier2", True)
    assert live_agent.intakes[0]["summary"] == text


async def test_the_clarification_is_rendered_in_process_with_buttons(live_agent, domain, domain_dict):
    """What Rasa does with action_not_understood's `response: utter_clarify`: KnowledgeNLG
    renders it (text and topic buttons), and the bot event names utter_clarify, which is how
    the next not-understood message is recognised as the second failure."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels import CollectingOutputChannel
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.nlg import KnowledgeNLG

    tracker = load_tracker("not_understood_first_en", token_for("u-pro-owner"))
    messages, _ = await run_action(ActionNotUnderstood(), tracker, domain_dict)
    user = tracker.events[-1]
    rasa_tracker = DialogueStateTracker.from_events(tracker.sender_id, [
        UserUttered(user["text"], user["parse_data"]["intent"], [], user["parse_data"]),
    ])
    uttered = await RemoteAction._utter_responses(
        [dict(m) for m in messages], CollectingOutputChannel(), KnowledgeNLG(domain=domain), rasa_tracker)
    assert len(uttered) == 1
    assert uttered[0].text.startswith("I'm not sure I understood that.")
    assert "/ask_plan" in [b["payload"] for b in uttered[0].data["buttons"]]  # the likely topic
    assert uttered[0].metadata["utter_action"] == "utter_clarify"
