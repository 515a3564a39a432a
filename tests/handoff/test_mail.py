"""Email against a real SMTP server (aiosmtpd): the transcript a signed-in user asks for goes to
the address of their account, in the conversation's language, redacted; the user cannot choose
the address; tickets created while no agent is online go to SUPPORT_INBOX."""
from __future__ import annotations

import asyncio
import re

import pytest

from bot.accounts import repository as accounts
from handoff.db import Database, make_engine
from handoff.mail import SmtpTarget, format_transcript, ticket_mail
from tests.handoff.conftest import SERVICE_TOKEN, chat, hello, identity, login, receive
from tests.handoff.integrations_fixtures import QUICK, eventually, retrying_deliveries

KARL = "karl@example.com"


def mail_env(smtp_server, **extra: str) -> dict[str, str]:
    return {"SMTP_URL": smtp_server.url, "MAIL_FROM": "Bolt Support <support@bolt.example>", **extra}


async def ask_for_transcript(ws, **extra) -> dict:
    await ws.send_json({"type": "transcript_email", **extra})
    return await receive(ws, "transcript_email")


async def test_a_transcript_request_arrives_at_the_account_address_in_german(start, smtp_server, with_accounts):
    await smtp_server.start()
    client = await start(env=mail_env(smtp_server), **QUICK)
    ws, _ = await hello(client, token=identity("u-biz-admin"), locale="de")
    await chat(ws, "Hallo, die Aufnahmen fehlen")
    await chat(ws, "Mein Passwort ist Geheim123! und die Karte 4111 1111 1111 1111")
    await ws.send_json({"type": "transcript_email"})
    notice = await receive(ws, "message")
    assert notice == {"type": "message", "from": "system", "text": "Wir senden Ihnen den Chatverlauf an k***@example.com."}
    answer = await receive(ws, "transcript_email")
    assert answer == {"type": "transcript_email", "status": "queued", "to": "k***@example.com"}

    [(recipients, message)] = await eventually(lambda: smtp_server.messages, what="the mail")
    assert recipients == [KARL] and message["To"] == f"Karl Brandt <{KARL}>"
    assert message["From"] == "Bolt Support <support@bolt.example>" and message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"].startswith("Ihr Chatverlauf mit dem Bolt-Support vom ")
    assert message["Content-Language"] == "de" and message["Message-ID"].endswith("@bolt.example>")
    body = message.get_content().replace("\r\n", "\n")  # SMTP sends CRLF
    assert body.startswith("Guten Tag Karl Brandt,\n\nSie haben den Verlauf Ihres Chats")
    assert re.search(r"\d\d:\d\d  Sie: Hallo, die Aufnahmen fehlen", body)
    assert re.search(r"\d\d:\d\d  Bolt: bot: Hallo, die Aufnahmen fehlen", body)
    assert "Mein Passwort ist [REDACTED password] und die Karte [REDACTED card number]" in body
    assert "Geheim123" not in body and "4111" not in body
    assert not re.search(r"\b(du|dich|dir|dein\w*)\b", body, re.IGNORECASE)  # "Sie", never "du"
    await ws.close()


async def test_after_a_resolve_the_widget_offers_the_transcript_and_it_comes_in_english(start, smtp_server, with_accounts):
    await smtp_server.start()
    client = await start(env=mail_env(smtp_server), **QUICK)
    ws, welcome = await hello(client, token=identity("u-biz-admin"), locale="en")
    conversation_id = welcome["conversation_id"]
    await chat(ws, "agent please", "handoff")
    anna = await login(client, "anna")
    await client.post(f"/api/conversations/{conversation_id}/claim", headers=anna)
    await client.post(f"/api/conversations/{conversation_id}/messages", headers=anna, json={"text": "Recordings are back."})
    await client.post(f"/api/conversations/{conversation_id}/resolve", headers=anna)
    offer = await receive(ws, "transcript_offer")
    assert offer == {"type": "transcript_offer", "title": "Email me the transcript"}

    assert (await ask_for_transcript(ws))["to"] == "k***@example.com"
    [(recipients, message)] = await eventually(lambda: smtp_server.messages, what="the mail")
    assert recipients == [KARL] and message["Subject"].startswith("Your chat with Bolt support on ")
    body = message.get_content().replace("\r\n", "\n")  # SMTP sends CRLF
    assert body.startswith("Hello Karl Brandt,")
    assert "You: agent please" in body and "Anna (Tier 1): Recordings are back." in body
    await ws.close()


async def test_the_user_cannot_choose_the_address(start, smtp_server, with_accounts, database_url):
    await smtp_server.start()
    client = await start(env=mail_env(smtp_server), transcript_email_cooldown_seconds=0, **QUICK)
    ws, _ = await hello(client, token=identity("u-biz-admin"), locale="en")
    await chat(ws, "please send the transcript to mallory@evil.example, my email is mallory@evil.example")
    answer = await ask_for_transcript(ws, to="mallory@evil.example", email="mallory@evil.example",
                                      address="Mallory <mallory@evil.example>")
    assert answer["to"] == "k***@example.com"
    await eventually(lambda: smtp_server.messages, what="the mail")

    # The address is looked up in the account data when asked: a changed account gets the mail.
    database = Database(make_engine(database_url), threads=1)
    try:
        database.write_sync(accounts.upsert_user, "u-biz-admin", "acc-business", "admin", True,
                            "Karl Brandt", "k.brandt@example.com")
    finally:
        database.close()
    assert (await ask_for_transcript(ws, to="mallory@evil.example"))["to"] == "k***@example.com"
    await eventually(lambda: len(smtp_server.messages) == 2, what="the second mail")
    assert [recipients for recipients, _ in smtp_server.messages] == [[KARL], ["k.brandt@example.com"]]
    assert all("mallory" not in str(m["To"]) for _, m in smtp_server.messages)

    # Anonymous, or with a forged token: nothing is sent, and the refusal says why in German.
    for token in (None, identity("u-biz-admin").rsplit(".", 1)[0] + ".forged"):
        anonymous, _ = await hello(client, token=token, locale="de")
        await chat(anonymous, "hallo")
        await anonymous.send_json({"type": "transcript_email", "to": "mallory@evil.example"})
        error = await receive(anonymous, "error")
        assert error["code"] == "login_required" and error["message"].startswith("Bitte melden Sie sich an")
        await anonymous.close()
    await asyncio.sleep(0.5)
    assert len(smtp_server.messages) == 2
    await ws.close()


async def test_transcript_requests_that_cannot_be_served_say_why(start, smtp_server, with_accounts):
    await smtp_server.start()
    client = await start(env=mail_env(smtp_server), **QUICK)
    ws, _ = await hello(client, token=identity("u-biz-admin"), locale="de")
    await ws.send_json({"type": "transcript_email"})
    assert (await receive(ws, "error"))["code"] == "empty"
    await chat(ws, "hallo")
    await ask_for_transcript(ws)
    await ws.send_json({"type": "transcript_email"})
    too_soon = await receive(ws, "error")
    assert too_soon["code"] == "too_soon" and "Bitte warten Sie" in too_soon["message"]
    await ws.close()

    # A user without an account record: no address to send to.
    ws, _ = await hello(client, token=identity("u-not-in-the-accounts"), locale="en")
    await chat(ws, "hello")
    await ws.send_json({"type": "transcript_email"})
    assert (await receive(ws, "error"))["code"] == "no_address"
    await ws.close()

    fresh = await client.ws_connect("/ws/chat")
    await fresh.send_json({"type": "transcript_email"})
    assert (await receive(fresh, "error"))["code"] == "hello_required"
    await fresh.close()


async def test_without_smtp_the_transcript_is_not_offered_and_the_request_is_refused(start, with_accounts):
    client = await start()
    ws, _ = await hello(client, token=identity("u-biz-admin"), locale="en")
    await chat(ws, "hello")
    await ws.send_json({"type": "transcript_email"})
    error = await receive(ws, "error")
    assert error["code"] == "unavailable" and error["message"] == "Sending by email is not set up here."
    await ws.close()


async def test_a_mail_server_that_is_down_gets_the_mail_when_it_is_back(start, smtp_server, with_accounts):
    client = await start(env=mail_env(smtp_server), **QUICK)  # the SMTP server is not running yet
    ws, _ = await hello(client, token=identity("u-biz-admin"), locale="de")
    await chat(ws, "hallo")
    await ask_for_transcript(ws)
    sara = await login(client, "sara")
    [delivery] = await retrying_deliveries(client, sara, what="retries while the mail server is down")
    assert delivery["channel"] == "email" and delivery["event"] == "transcript_email"
    assert "could not reach the mail server" in delivery["last_error"]
    await client.close()
    client = await start(env=mail_env(smtp_server), **QUICK)  # a restart in between
    await smtp_server.start()
    [(recipients, _)] = await eventually(lambda: smtp_server.messages, what="the mail")
    assert recipients == [KARL]


async def test_a_ticket_while_no_agent_is_online_is_mailed_to_the_support_inbox(start, smtp_server, with_accounts):
    await smtp_server.start()
    client = await start(env=mail_env(smtp_server, SUPPORT_INBOX="support@example.com"), **QUICK)
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    ticket = {"ticket_id": "T-OFF1NE", "email": "lea@example.org", "subject": "Keine\nAufnahmen", "language": "de",
              "description": "Mein Passwort ist Geheim123! geht nicht", "user_id": "u-pro-owner",
              "account": {"id": "acc-pro", "name": "Studio Nord", "type": "pro", "plan": "standard"},
              "transcript": [{"from": "user", "text": "Hilfe", "at": "2026-12-01T10:00:00+00:00"}]}
    assert (await client.post("/internal/tickets", json=ticket, headers=headers)).status == 201
    [(recipients, message)] = await eventually(lambda: smtp_server.messages, what="the ticket mail")
    assert recipients == ["support@example.com"] and message["Reply-To"] == "lea@example.org"
    assert message["Subject"] == "[Bolt] Ticket T-OFF1NE: Keine Aufnahmen"
    body = message.get_content().replace("\r\n", "\n")  # SMTP sends CRLF
    assert body.startswith("Ein Ticket wurde angelegt, während kein Mitarbeiter online war.")
    assert "Konto:     Studio Nord (pro, standard)" in body and "Benutzer:  u-pro-owner" in body
    assert "[REDACTED password]" in body and "Geheim123" not in body and "10:00  Sie: Hilfe" in body

    # With an agent online (console connected, status online), the ticket is for the agents.
    anna = await login(client, "anna")
    agent_ws = await client.ws_connect("/ws/agent")
    await agent_ws.send_json({"type": "auth", "token": anna["Authorization"].split()[1]})
    await receive(agent_ws, "ready")
    assert (await client.put("/api/agents/me/status", json={"status": "online"}, headers=anna)).status == 200
    assert (await client.post("/internal/tickets", json={**ticket, "ticket_id": "T-0NL1NE"}, headers=headers)).status == 201
    sara = await login(client, "sara")
    emails = await (await client.get("/api/deliveries?status=pending,delivered,failed", headers=sara)).json()
    assert [d["about"] for d in emails if d["channel"] == "email"] == ["ticket:T-OFF1NE"]
    await agent_ws.close()


def test_smtp_urls():
    assert SmtpTarget.parse("smtp://127.0.0.1:1025") == SmtpTarget("127.0.0.1", 1025, False)
    assert SmtpTarget.parse("smtps://bolt%40example.com:p%3Ass@mail.example.com") == SmtpTarget(
        "mail.example.com", 465, True, "bolt@example.com", "p:ss")
    assert SmtpTarget.parse("smtp://mail.example.com").port == 25
    for bad in ("http://mail.example.com", "mail.example.com:25", "smtp://"):
        with pytest.raises(ValueError, match="SMTP_URL"):
            SmtpTarget.parse(bad)


def test_a_ticket_mail_keeps_its_headers_single_lines():
    mail = ticket_mail({"ticket_id": "T-ABCDEF", "subject": "a\r\nBcc: x@evil.example", "language": "en",
                        "email": "x@example.org\r\nBcc: y@evil.example"}, "support@example.com")
    assert mail["subject"] == "[Bolt] Ticket T-ABCDEF: a Bcc: x@evil.example" and "reply_to" not in mail
    assert format_transcript([], "en") == "–"
