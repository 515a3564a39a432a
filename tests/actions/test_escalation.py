"""`action_escalate`, `action_triage_problem`, `action_set_priority`, `action_after_secret`.

The problem_form itself runs in the Rasa process (no validation action): its unhappy paths are
test stories (tests/stories/dialogue.yml); what the actions make of them is tested here."""
from __future__ import annotations

import time

import jwt
import pytest
from sqlalchemy import select

from actions.api import handoff
from actions.escalation import (
    LEAVE_QUEUE_PAYLOAD,
    ActionAfterSecret,
    ActionEscalate,
    ActionNotUnderstood,
    ActionSetPriority,
    ActionTriageProblem,
    ValidateProblemForm,
    priority_payload,
)
from bot.accounts.db import session_scope
from bot.accounts.models import OutboxEntry
from bot.identity import mint_token
from bot.settings import get_settings
from tests.actions.conftest import (
    DEMO_OUTCOMES,
    handoff_markers,
    load_tracker,
    run_action,
    slot_events,
    texts,
    token_for,
)

DEMO_USERS = [user for user in DEMO_OUTCOMES if user]


def _assert_outcome(messages, user_id, live_agent, conversation_id):
    status, queue, prioritized, reason = DEMO_OUTCOMES[user_id]
    markers = handoff_markers(messages)
    assert len(markers) == 1, messages
    marker = markers[0]
    assert marker["status"] == status
    if status == "queued":
        assert marker == {"status": "queued", "conversation_id": conversation_id, "queue": queue,
                          "priority": marker["priority"], "prioritized": prioritized, "position": 1}
        assert marker["priority"] in ("P1", "P2", "P3", "P4")
        assert [i["conversation_id"] for i in live_agent.intakes] == [conversation_id]
    else:
        assert live_agent.intakes == []
        assert "ticket" in marker["offers"]
        if status == "not_eligible":
            assert marker["reason"] == reason
    # The text of the same reply says it in words.
    assert any(m.get("text") for m in messages)
    return marker


@pytest.mark.parametrize("user_id", list(DEMO_OUTCOMES), ids=lambda u: u or "anonymous")
async def test_each_demo_user_after_describing_a_problem(user_id, live_agent, domain_dict):
    tracker = load_tracker("problem_then_request_de", token_for(user_id))
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    marker = _assert_outcome(messages, user_id, live_agent, tracker.sender_id)
    assert slot_events(events)["handoff_status"] == marker["status"]
    assert slot_events(events)["needs_problem"] is False
    if marker["status"] == "queued":
        assert marker["priority"] == "P3"
        intake = live_agent.intakes[0]
        assert intake["user_id"] == user_id and intake["language"] == "de"
        assert intake["summary"].startswith("Unsere Cloud-Aufzeichnungen")
        assert intake["account"]["entitlements"]["queue"] == marker["queue"]
        said = [line["text"] for line in intake["transcript"] if line["from"] == "user"]
        assert said == ["Unsere Cloud-Aufzeichnungen werden seit Montag nicht mehr gespeichert.",
                        "Würden Sie mich dazu bitte mit einem Mitarbeiter verbinden?"]
        assert "Position 1" in texts(messages)


@pytest.mark.parametrize("user_id", list(DEMO_OUTCOMES), ids=lambda u: u or "anonymous")
async def test_each_demo_user_asking_without_a_problem(user_id, live_agent, domain_dict):
    tracker = load_tracker("request_human_de", token_for(user_id))
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    status = DEMO_OUTCOMES[user_id][0]
    if status == "queued":
        # Entitled but nothing described yet: the problem_form asks for one sentence first.
        assert slot_events(events) == {"handoff_status": "need_problem", "needs_problem": True}
        assert messages == [] and live_agent.intakes == []
    else:
        _assert_outcome(messages, user_id, live_agent, tracker.sender_id)


@pytest.mark.parametrize("user_id", DEMO_USERS)
async def test_each_demo_user_after_the_problem_form(user_id, live_agent, domain_dict):
    tracker = load_tracker("problem_described_de", token_for(user_id))
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    marker = _assert_outcome(messages, user_id, live_agent, tracker.sender_id)
    if marker["status"] == "queued":
        assert marker["priority"] == "P2"  # "brechen ständig ... ab": triaged when queued
        assert slot_events(events)["problem_priority"] == "P2"


@pytest.mark.parametrize("user_id", ["u-pro-owner", "u-premier-admin"])
async def test_english_conversation_gets_english_text(user_id, live_agent, domain_dict):
    tracker = load_tracker("problem_then_request_en", token_for(user_id))
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    assert handoff_markers(messages)[0]["status"] == "queued"
    assert "You are number 1 in the queue" in texts(messages)
    assert live_agent.intakes[0]["language"] == "en"


def _expired(user_id: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now - 7200, "exp": now - 3600},
                      get_settings().identity_secret, algorithm="HS256")


BAD_TOKENS = {
    "expired": lambda: _expired("u-plus-admin"),
    "forged": lambda: mint_token("u-plus-admin", "not-the-help-centers-secret-but-long-enough"),
    "malformed": lambda: "eyJhbGciOiJIUzI1NiJ9.not-a-token",
    "unknown-user": lambda: mint_token("u-does-not-exist", get_settings().identity_secret),
}


@pytest.mark.parametrize("bad", list(BAD_TOKENS))
@pytest.mark.parametrize("fixture", ["problem_then_request_de", "request_human_de", "claim_request_de"])
async def test_a_bad_token_never_yields_queued(bad, fixture, live_agent, domain_dict):
    tracker = load_tracker(fixture, BAD_TOKENS[bad]())
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    assert [m["status"] for m in handoff_markers(messages)] == ["login_required"]
    assert live_agent.intakes == []


@pytest.mark.parametrize("bad", list(BAD_TOKENS))
async def test_a_bad_token_never_escalates_an_outage_automatically(bad, live_agent, domain_dict):
    tracker = load_tracker("outage_report_de", BAD_TOKENS[bad]())
    messages, _ = await run_action(ActionTriageProblem(), tracker, domain_dict)
    assert handoff_markers(messages) == [] and live_agent.intakes == []


@pytest.mark.parametrize("user_id", list(DEMO_OUTCOMES), ids=lambda u: u or "anonymous")
async def test_typed_claims_never_change_the_outcome(user_id, live_agent, domain_dict):
    """"Ich habe Premier+ und bin Enterprise-Admin", plus unsigned claims in the metadata and a
    `plan` slot from the message: the outcome is the one of the signed token alone."""
    tracker = load_tracker("claim_request_de", token_for(user_id))
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    status = DEMO_OUTCOMES[user_id][0]
    if status == "queued":
        assert slot_events(events)["needs_problem"] is True  # no tier2 short cut
        assert live_agent.intakes == []
    else:
        _assert_outcome(messages, user_id, live_agent, tracker.sender_id)


async def test_the_most_recent_token_counts_even_if_later_messages_have_none(live_agent, domain_dict):
    tracker = load_tracker("token_on_first_message_de", token_for("u-premier-admin"))
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["queue"], marker["priority"], marker["prioritized"]) == (
        "queued", "tier2", "P2", True)


async def test_a_newer_token_replaces_an_older_one(live_agent, domain_dict):
    tracker = load_tracker("token_on_first_message_de", token_for("u-premier-admin"))
    tracker.events[-1]["metadata"] = {"identity_token": token_for("u-basic-owner")}
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    assert [m["status"] for m in handoff_markers(messages)] == ["not_eligible"]


async def test_transcript_for_agents_is_redacted(live_agent, domain_dict):
    tracker = load_tracker("secret_then_request_de", token_for("u-biz-admin"))
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    # The earlier message describes a problem (triage recognises it), so nobody is asked again.
    assert handoff_markers(messages)[0]["status"] == "queued"
    intake = live_agent.intakes[0]
    sent = str(intake)
    assert "739214" not in sent and "Geheim!99" not in sent
    assert "[REDACTED host key]" in intake["transcript"][0]["text"]
    assert "[REDACTED host key]" in intake["summary"]
    assert "739214" not in str(slot_events(events))


async def test_premier_plus_outage_is_escalated_automatically(live_agent, domain_dict):
    tracker = load_tracker("outage_report_de", token_for("u-plus-member"))
    messages, events = await run_action(ActionTriageProblem(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["queue"], marker["priority"], marker["prioritized"]) == (
        "queued", "tier1", "P1", True)
    assert "automatisch" in texts(messages) and "1 Stunde" in texts(messages)
    slots = slot_events(events)
    assert slots["problem_priority"] == "P1" and slots["handoff_status"] == "queued"
    assert slots["problem"].startswith("Seit dreißig Minuten")


@pytest.mark.parametrize("user_id", [u for u in DEMO_USERS if not u.startswith("u-plus")] + [None])
async def test_others_reporting_an_outage_get_triage_and_choices(user_id, live_agent, domain_dict):
    tracker = load_tracker("outage_report_de", token_for(user_id))
    messages, events = await run_action(ActionTriageProblem(), tracker, domain_dict)
    assert handoff_markers(messages) == [] and live_agent.intakes == []
    assert slot_events(events)["problem_priority"] == "P1"
    assert "Priorität P1" in texts(messages)
    payloads = [b["payload"] for m in messages for b in m.get("buttons") or []]
    assert '/set_priority{"problem_priority":"P2"}' in payloads
    entitled = DEMO_OUTCOMES[user_id][0] == "queued"
    assert ("/request_human" in payloads) is entitled
    assert ('/open_ticket{"ticket_start":"here"}' in payloads) is not entitled


async def test_the_user_corrects_the_priority_before_escalating(live_agent, domain_dict):
    tracker = load_tracker("set_priority_button", token_for("u-biz-admin"), status=None)
    messages, events = await run_action(ActionSetPriority(), tracker, domain_dict)
    assert slot_events(events) == {"problem_priority": "P2"}
    assert "P2" in texts(messages) and handoff_markers(messages) == []


async def test_correcting_the_priority_while_queued_updates_the_queue(live_agent, domain_dict):
    tracker = load_tracker("set_priority_button", token_for("u-biz-admin"), status="queued")
    messages, _ = await run_action(ActionSetPriority(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["priority"]) == ("queued", "P2")
    assert live_agent.intakes[0]["priority"] == "P2"


async def test_premier_plus_raising_to_p2_escalates(live_agent, domain_dict):
    tracker = load_tracker("set_priority_button", token_for("u-plus-admin"), status=None)
    messages, _ = await run_action(ActionSetPriority(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["queue"], marker["priority"]) == ("queued", "tier2", "P2")


async def test_said_priority_das_ist_eher_p1(live_agent, domain_dict):
    tracker = load_tracker("set_priority_button", token_for("u-biz-admin"), status=None)
    tracker.latest_message = {"text": "das ist eher P1", "intent": {"name": "set_priority"},
                              "entities": [{"entity": "priority", "value": "P1"}]}
    _, events = await run_action(ActionSetPriority(), tracker, domain_dict)
    assert slot_events(events) == {"problem_priority": "P1"}


async def test_the_queued_reply_offers_the_priority_correction_and_leaving(live_agent, domain_dict):
    tracker = load_tracker("problem_then_request_de", token_for("u-pro-owner"))
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    queued = [m for m in messages if (m.get("custom") or {}).get("handoff", {}).get("status") == "queued"]
    assert len(queued) == 1  # the marker and its buttons in one reply, nothing asked before it
    payloads = [button["payload"] for button in queued[0]["buttons"]]
    priority = queued[0]["custom"]["handoff"]["priority"]
    assert payloads == [priority_payload(level) for level in ("P1", "P2", "P3", "P4") if level != priority] + [
        LEAVE_QUEUE_PAYLOAD]
    assert "Warteschlange" in queued[0]["text"] and "Priorität" in queued[0]["text"]


async def test_asking_for_a_person_again_instead_of_the_problem_queues_without_it(live_agent, domain_dict):
    tracker = load_tracker("problem_form_insisted_de", token_for("u-biz-admin"))
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    assert handoff_markers(messages)[0]["status"] == "queued"
    assert live_agent.intakes[0]["summary"] == ""
    assert slot_events(events)["needs_problem"] is False


async def test_asking_again_as_an_unlicensed_member_is_not_eligible(live_agent, domain_dict):
    tracker = load_tracker("problem_form_insisted_de", token_for("u-biz-unlicensed"))
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    assert handoff_markers(messages)[0]["status"] == "not_eligible"


async def test_after_an_agent_handed_back_the_old_problem_is_not_reused(live_agent, domain_dict):
    tracker = load_tracker("handed_back_then_request_de", token_for("u-biz-admin"))
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    assert handoff_markers(messages) == [] and live_agent.intakes == []
    assert slot_events(events)["needs_problem"] is True  # asked for this conversation's problem


async def test_after_an_agent_handed_back_premier_plus_is_escalated_again(live_agent, domain_dict):
    tracker = load_tracker("handed_back_then_request_de", token_for("u-plus-admin"))
    tracker.latest_message = {"text": "asdf qwer", "intent": {"name": "nlu_fallback"}, "entities": []}
    messages, _ = await run_action(ActionNotUnderstood(), tracker, domain_dict)
    assert handoff_markers(messages)[0]["status"] == "queued"


async def test_the_triage_question_is_recorded_for_the_rules(live_agent, domain_dict):
    tracker = load_tracker("problem_described_de", token_for("u-biz-admin"))
    messages, events = await run_action(ActionTriageProblem(), tracker, domain_dict)
    assert slot_events(events)["bot_question"] == "agent"
    assert messages[-1]["text"] == "Möchten Sie das mit einem Mitarbeiter klären?"
    tracker = load_tracker("problem_described_de", token_for("u-biz-unlicensed"))
    _, events = await run_action(ActionTriageProblem(), tracker, domain_dict)
    assert slot_events(events)["bot_question"] == "ticket"


async def test_a_secret_typed_as_the_problem_is_kept_masked_for_the_form(live_agent, domain_dict):
    tracker = load_tracker("secret_in_problem_form_de", token_for("u-biz-admin"))
    messages, events = await run_action(ActionAfterSecret(), tracker, domain_dict)
    slots = slot_events(events)
    assert slots["problem"] == "Die Anmeldung scheitert, mein Passwort ist [REDACTED password]"
    assert slots["needs_problem"] is False and messages == []


@pytest.mark.parametrize("text,intent,confidence,stored", [
    # the NLU unsure between an FAQ topic and a problem: the description asked for
    ("feature request: attendance reports should go to our learning platform", "ask_billing", 0.47, True),
    # an FAQ intent, but the message describes a problem
    ("Die Nummer für Wien wird im Profil nicht angezeigt, seit gestern geht das nicht mehr", "ask_phone", 0.9, True),
    # a real question in between: answered, then the form asks again
    ("welche Nummer hat der Support in Wien?", "ask_phone", 0.99, False),
    ("what counts as a P1 again?", "ask_priority", 0.97, False),
    # a statement of a need the NLU took for a ticket request: the description
    ("feature request: we would like a dark mode for the web portal", "open_ticket", 0.65, True),
    # ... but asking for a ticket instead is no description
    ("Ich möchte lieber ein Ticket aufmachen", "open_ticket", 0.9, False),
    ("can I open a ticket instead?", "open_ticket", 0.9, False),
    # a change of mind is never the problem
    ("ne, lass mal", "cancel", 0.9, False),
])
async def test_problem_form_takes_a_description_the_nlu_took_for_a_question(
        text, intent, confidence, stored, accounts_db, domain_dict):
    tracker = load_tracker("problem_described_de", token_for("u-biz-admin"))
    tracker.slots["requested_slot"] = "problem"
    tracker.latest_message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    extracted = await ValidateProblemForm().extract_problem(None, tracker, domain_dict)
    assert extracted == ({"problem": text} if stored else {})


async def test_problem_form_masks_secrets_in_the_description(accounts_db, domain_dict):
    tracker = load_tracker("problem_described_de", token_for("u-biz-admin"))
    slots = await ValidateProblemForm().validate_problem("Alles ausgefallen, mein PIN ist 4711", None, tracker,
                                                         domain_dict)
    assert slots == {"problem": "Alles ausgefallen, mein PIN ist [REDACTED host key]"}


async def test_service_down_becomes_a_ticket_that_is_forwarded_later(
        live_agent_down, accounts_db, aiohttp_server, domain_dict):
    tracker = load_tracker("problem_then_request_de", token_for("u-biz-member"))
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert marker["status"] == "unavailable"
    assert marker["ticket_id"].startswith("T-") and len(marker["ticket_id"]) == 8
    assert marker["ticket_id"] in texts(messages)
    assert slot_events(events)["handoff_status"] == "unavailable"
    with session_scope() as session:
        entry = session.execute(select(OutboxEntry)).scalar_one()
        assert entry.ticket_id == marker["ticket_id"] and entry.delivered_at is None
        said = [line["text"] for line in entry.payload["transcript"] if line["from"] == "user"]
        assert said[-1] == "Würden Sie mich dazu bitte mit einem Mitarbeiter verbinden?"

    # The service is back: the waiting ticket goes out with its number, exactly once.
    from tests.actions.conftest import FakeLiveAgentService
    service = FakeLiveAgentService(token=get_settings().service_token)
    server = await aiohttp_server(service.app())
    back = handoff.HandoffClient(str(server.make_url("")), get_settings().service_token)
    try:
        assert await handoff.flush_outbox(back) == 1
        assert await handoff.flush_outbox(back) == 0
    finally:
        await back.close()
    assert [t["ticket_id"] for t in service.tickets] == [marker["ticket_id"]]
    assert service.tickets[0]["description"].startswith("Unsere Cloud-Aufzeichnungen")
    assert service.tickets[0]["email"] == "emma@example.com"


async def test_premier_plus_question_the_bot_cannot_answer_is_escalated_automatically(live_agent, domain_dict):
    tracker = load_tracker("howto_report_en", token_for("u-plus-admin"))
    messages, events = await run_action(ActionTriageProblem(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["queue"], marker["priority"], marker["prioritized"]) == (
        "queued", "tier2", "P4", True)
    assert "automatically" in texts(messages) and "urgent" not in texts(messages)


async def test_others_asking_what_the_bot_cannot_answer_choose_themselves(live_agent, domain_dict):
    tracker = load_tracker("howto_report_en", token_for("u-premier-admin"))
    messages, _ = await run_action(ActionTriageProblem(), tracker, domain_dict)
    assert handoff_markers(messages) == [] and live_agent.intakes == []


async def test_an_unanswered_how_to_question_serves_as_the_problem(live_agent, domain_dict):
    first = "Ich hätte gern Infos, wie man die Wartezimmer-Einstellung konfiguriert."
    tracker = load_tracker("howto_then_request_de", token_for("u-premier-admin"), first=first)
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["queue"], marker["priority"]) == ("queued", "tier2", "P4")
    assert live_agent.intakes[0]["summary"] == first


async def test_turned_down_small_talk_is_no_problem_description(live_agent, domain_dict):
    tracker = load_tracker("howto_then_request_de", token_for("u-premier-admin"),
                           first="Scheint morgen in Hamburg die Sonne?")
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    assert handoff_markers(messages) == [] and live_agent.intakes == []


@pytest.mark.parametrize("first, intent", [
    ("feature request: we would like a dark mode for the web portal", "open_ticket"),
    ("Ich brauche Hilfe beim Einrichten der Cloud-Aufzeichnung für alle Nutzer.", "ask_plan"),
])
async def test_a_stated_need_the_nlu_took_for_a_faq_question_serves_as_the_problem(
        first, intent, live_agent, domain_dict):
    tracker = load_tracker("howto_then_request_de", token_for("u-premier-admin"), first=first)
    tracker.events[2]["parse_data"]["intent"] = {"name": intent, "confidence": 0.6}
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["priority"]) == ("queued", "P4")
    assert live_agent.intakes[0]["summary"] == first


async def test_a_question_about_tickets_is_no_problem_description(live_agent, domain_dict):
    tracker = load_tracker("howto_then_request_de", token_for("u-premier-admin"),
                           first="Wie reiche ich ein Webticket ein?")
    tracker.events[2]["parse_data"]["intent"] = {"name": "open_ticket", "confidence": 0.9}
    messages, events = await run_action(ActionEscalate(), tracker, domain_dict)
    assert handoff_markers(messages) == [] and live_agent.intakes == []
    assert slot_events(events)["needs_problem"] is True


async def test_a_request_that_names_its_need_is_the_problem(live_agent, domain_dict):
    """"Can I speak to someone? I need help installing the Outlook plugin": queued with it."""
    tracker = load_tracker("request_human_de", token_for("u-plus-member"))
    text = "kann ich mit jemandem sprechen? ich brauch hilfe beim installieren vom outlook plugin"
    tracker.events[-1] = {**tracker.events[-1], "text": text}
    tracker.latest_message = {**tracker.latest_message, "text": text}
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["priority"]) == ("queued", "P4")
