"""`ticket_form` (validation, who is asked for an email address) and `action_submit_ticket`."""
from __future__ import annotations

import re

from sqlalchemy import select

from actions.ticket import ActionSubmitTicket, ValidateTicketForm
from bot.accounts.db import session_scope
from bot.accounts.models import OutboxEntry
from rasa_sdk.executor import CollectingDispatcher
from tests.actions.conftest import load_tracker, run_action, slot_events, texts, token_for

FORM_SLOTS = ["ticket_email", "ticket_subject", "ticket_description"]


async def test_anonymous_users_are_asked_for_an_email_address(accounts_db, domain_dict):
    tracker = load_tracker("ticket_form_done_de", "", email=None)
    slots = await ValidateTicketForm().required_slots(FORM_SLOTS, CollectingDispatcher(), tracker, domain_dict)
    assert slots == FORM_SLOTS


async def test_signed_in_users_are_not(accounts_db, domain_dict):
    tracker = load_tracker("ticket_form_done_de", token_for("u-basic-owner"), email=None)
    slots = await ValidateTicketForm().required_slots(FORM_SLOTS, CollectingDispatcher(), tracker, domain_dict)
    assert slots == ["ticket_subject", "ticket_description"]


async def test_email_validation(accounts_db, domain_dict):
    tracker = load_tracker("ticket_form_done_de", "", email=None)
    form = ValidateTicketForm()
    dispatcher = CollectingDispatcher()
    assert await form.validate_ticket_email("das ist meine adresse: jo@example.org.", dispatcher, tracker, domain_dict) == {
        "ticket_email": "jo@example.org"}
    assert await form.validate_ticket_email("weiß ich nicht", dispatcher, tracker, domain_dict) == {"ticket_email": None}
    assert "E-Mail-Adresse" in texts(dispatcher.messages)


async def test_description_is_redacted(accounts_db, domain_dict):
    tracker = load_tracker("ticket_form_done_de", "", email=None)
    slots = await ValidateTicketForm().validate_ticket_description(
        "Karte 4111 1111 1111 1111 wird abgelehnt", CollectingDispatcher(), tracker, domain_dict)
    assert slots == {"ticket_description": "Karte [REDACTED card number] wird abgelehnt"}


async def test_anonymous_ticket_is_created_with_transcript(live_agent, domain_dict):
    tracker = load_tracker("ticket_form_done_de", "", email="jo@example.org")
    messages, events = await run_action(ActionSubmitTicket(), tracker, domain_dict)
    ticket = live_agent.tickets[0]
    assert re.fullmatch(r"T-[A-Z0-9]{6}", ticket["ticket_id"])
    assert ticket["ticket_id"] in texts(messages) and "jo@example.org" in texts(messages)
    assert (ticket["email"], ticket["user_id"], ticket["subject"]) == ("jo@example.org", None, "Aufzeichnung fehlt")
    assert ticket["transcript"] and "Geheim!42" not in str(ticket)
    assert slot_events(events) == {slot: None for slot in FORM_SLOTS}


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
