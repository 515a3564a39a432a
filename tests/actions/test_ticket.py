"""Web ticket: `action_start_ticket` (a fresh ticket, the account's address for signed-in users)
and `action_submit_ticket` (filed after the confirmation, with the transcript, secrets masked).

The form between them runs in the Rasa process (no validation action): its unhappy paths are in
tests/stories/ticket.yml, its texts in tests/test_forms.py.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from actions.ticket import TICKET_SLOTS, ActionStartTicket, ActionSubmitTicket
from bot.accounts.db import session_scope
from bot.accounts.models import OutboxEntry
from tests.actions.conftest import load_tracker, run_action, slot_events, texts, token_for


async def test_start_for_a_signed_in_user_fills_in_the_account_address(accounts_db, domain_dict):
    tracker = load_tracker("ticket_form_done_de", token_for("u-biz-unlicensed"), email="old@example.org")
    _, events = await run_action(ActionStartTicket(), tracker, domain_dict)
    slots = slot_events(events)
    assert slots["ticket_email"] == "paul@example.com"
    assert slots["ticket_subject"] is None and slots["ticket_description"] is None
    assert slots["ticket_confirmed"] is None


async def test_start_after_a_problem_described_in_answer_to_the_offer_fills_in_subject_and_description(
        accounts_db, domain_dict):
    tracker = load_tracker("ticket_form_done_de", token_for("u-biz-unlicensed"))
    text = "Die Cloud-Aufnahmen landen seit Montag nicht mehr im Portal, mein Passwort: Geheim!42 hilft nicht"
    tracker.latest_message = {"text": text, "intent": {"name": "report_problem", "confidence": 0.9}, "entities": []}
    tracker.events.append({"event": "bot", "text": "… Soll ich das tun?", "metadata": {"utter_action": "utter_ticket"}})
    tracker.events.append({"event": "user", "text": text, "parse_data": tracker.latest_message})
    _, events = await run_action(ActionStartTicket(), tracker, domain_dict)
    slots = slot_events(events)
    assert slots["ticket_subject"] == "Die Cloud-Aufnahmen landen seit Montag nicht mehr im Portal"
    assert "Geheim!42" not in slots["ticket_description"] and "im Portal" in slots["ticket_description"]
    assert slots["ticket_email"] == "paul@example.com" and slots["ticket_confirmed"] is None


async def test_start_for_an_anonymous_user_leaves_the_address_to_ask(accounts_db, domain_dict):
    tracker = load_tracker("ticket_form_done_de", "", email="left-over@example.org")
    _, events = await run_action(ActionStartTicket(), tracker, domain_dict)
    assert {slot: value for slot, value in slot_events(events).items() if slot in TICKET_SLOTS} == {
        slot: None for slot in TICKET_SLOTS}


async def test_anonymous_ticket_is_created_with_transcript(live_agent, domain_dict):
    tracker = load_tracker("ticket_form_done_de", "", email="das ist meine adresse: jo@example.org.")
    messages, events = await run_action(ActionSubmitTicket(), tracker, domain_dict)
    ticket = live_agent.tickets[0]
    assert re.fullmatch(r"T-[A-Z0-9]{6}", ticket["ticket_id"])
    assert ticket["ticket_id"] in texts(messages) and "jo@example.org" in texts(messages)
    assert (ticket["email"], ticket["user_id"], ticket["subject"]) == ("jo@example.org", None, "Aufzeichnung fehlt")
    assert ticket["transcript"] and "Geheim!42" not in str(ticket)
    assert "[REDACTED password]" in ticket["description"]
    assert all(slot_events(events)[slot] is None for slot in TICKET_SLOTS)


async def test_an_address_that_is_none_is_asked_again_before_filing(live_agent, domain_dict):
    tracker = load_tracker("ticket_form_done_de", "", email="meine Adresse sag ich nicht")
    messages, events = await run_action(ActionSubmitTicket(), tracker, domain_dict)
    assert live_agent.tickets == []
    assert "E-Mail-Adresse" in texts(messages)
    assert slot_events(events)["ticket_email"] is None
    assert {"event": "followup", "name": "ticket_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events]


async def test_signed_in_ticket_uses_the_account_email(live_agent, domain_dict):
    tracker = load_tracker("ticket_form_done_de", token_for("u-biz-unlicensed"), email=None)
    await run_action(ActionSubmitTicket(), tracker, domain_dict)
    assert (live_agent.tickets[0]["email"], live_agent.tickets[0]["user_id"]) == ("paul@example.com", "u-biz-unlicensed")


async def test_ticket_waits_in_the_outbox_when_the_service_is_down(live_agent_down, domain_dict):
    tracker = load_tracker("ticket_form_done_de", "", email="jo@example.org")
    messages, _ = await run_action(ActionSubmitTicket(), tracker, domain_dict)
    with session_scope() as session:
        entry = session.execute(select(OutboxEntry)).scalar_one()
    assert entry.ticket_id in texts(messages)
    assert entry.payload["email"] == "jo@example.org"
