"""The integrations (outbound webhooks, email) where things happen, and the outbox that sends them.

The handlers call these instead of the plain repository functions at the three points the
integrations care about: a conversation is escalated, an agent resolves it, a ticket is created.
Each runs the repository function and writes its deliveries in the SAME transaction, so an event
is in the outbox exactly when the change is committed; the handler then wakes the outbox, which
sends from a task of its own (the user's reply never waits for a webhook or a mail server).
Both integrations are off until configured (bot/settings.py: HANDOFF_WEBHOOK_URL, SMTP_URL).
"""
from __future__ import annotations

from typing import Any, AsyncIterator

import aiohttp
from aiohttp import web
from sqlalchemy.orm import Session

from bot.settings import Settings
from handoff import mail, presence, repository, webhooks
from handoff.errors import BadRequest
from handoff.outbox import Outbox, Sender
from handoff.repository import AgentInfo, Escalation
from handoff.sla import SlaTable
from handoff.state import CONFIG, DATABASE, HUB, SLA_TABLE
from handoff.texts import system_text

OUTBOX = web.AppKey("outbox", Outbox)


def _wake(app: web.Application) -> None:
    if OUTBOX in app:
        app[OUTBOX].wake()


# --- in the transaction of the change --------------------------------------------------------

def _escalate(
    session: Session, settings: Settings, escalation: Escalation, sla_table: SlaTable, average_minutes: int
) -> tuple[dict[str, Any], bool]:
    result, newly_queued = repository.escalate(session, escalation, sla_table, average_minutes)
    if newly_queued and settings.webhook_url:
        webhooks.conversation_event(session, webhooks.ESCALATED, escalation.conversation_id)
    return result, newly_queued


def _close(session: Session, settings: Settings, conversation_id: str, agent: AgentInfo, how: str) -> dict[str, Any]:
    detail = repository.close(session, conversation_id, agent, how)
    if how == "resolve" and settings.webhook_url:
        webhooks.conversation_event(session, webhooks.RESOLVED, conversation_id)
    return detail


def _store_ticket(
    session: Session, settings: Settings, data: dict[str, Any], mail_inbox: bool
) -> tuple[dict[str, Any], bool]:
    ticket, created = repository.store_ticket(session, data)
    if created and settings.webhook_url:
        webhooks.ticket_event(session, ticket)
    if created and mail_inbox:
        mail.enqueue_ticket_mail(session, ticket, settings.support_inbox)
    return ticket, created


# --- what the handlers call ------------------------------------------------------------------

async def escalate(app: web.Application, escalation: Escalation) -> tuple[dict[str, Any], bool]:
    """`repository.escalate` (the intake answer, whether it newly entered the queue), plus
    `conversation.escalated` when it did."""
    config = app[CONFIG]
    result = await app[DATABASE].write(
        _escalate, config.settings, escalation, app[SLA_TABLE], config.average_handling_minutes
    )
    if result[1]:
        _wake(app)
    return result


async def close(app: web.Application, conversation_id: str, agent: AgentInfo, how: str) -> dict[str, Any]:
    """`repository.close` (resolve or release), plus `conversation.resolved` for a resolve."""
    detail = await app[DATABASE].write(_close, app[CONFIG].settings, conversation_id, agent, how)
    if how == "resolve":
        _wake(app)
    return detail


async def store_ticket(app: web.Application, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """`repository.store_ticket`, plus `ticket.created`, and a mail to SUPPORT_INBOX while no
    agent is online."""
    settings = app[CONFIG].settings
    mail_inbox = bool(settings.smtp_url and settings.support_inbox) and not await presence.agent_online(app)
    ticket, created = await app[DATABASE].write(_store_ticket, settings, data, mail_inbox)
    if created:
        _wake(app)
    return ticket, created


async def offer_transcript(app: web.Application, conversation: dict[str, Any]) -> None:
    """After a resolve: offer a signed-in user the transcript by email (the widget's button)."""
    if not app[CONFIG].settings.smtp_url or not conversation.get("user_id"):
        return
    title = system_text("transcript_offer", conversation.get("language"))
    await app[HUB].to_conversation(conversation["id"], {"type": "transcript_offer", "title": title})


async def email_transcript(
    app: web.Application, conversation_id: str | None, user_id: str | None, locale: str | None
) -> dict[str, Any]:
    """The widget's `transcript_email` frame: queue the mail, tell the user where it goes.

    Returns the answer frame; refusals are `HandoffError`s whose message is in the user's
    language (the widget shows them as an error frame).
    """
    if conversation_id is None:
        raise BadRequest("send hello first", code="hello_required")
    config = app[CONFIG]
    if not config.settings.smtp_url:
        state = await app[DATABASE].read(repository.conversation_state, conversation_id)
        raise mail.TranscriptRefused("unavailable", state.get("language") or locale, status=503)
    queued = await app[DATABASE].write(
        mail.enqueue_transcript, conversation_id, user_id, locale, config.transcript_email_cooldown_seconds
    )
    _wake(app)
    text = system_text("transcript_email_queued", queued["language"], address=queued["to"])
    message = await app[DATABASE].write(repository.add_message, conversation_id, "system", text)
    await app[HUB].to_conversation(conversation_id, {"type": "message", "from": "system", "text": message["text"]})
    return {"type": "transcript_email", "status": "queued", "to": queued["to"]}


# --- the outbox worker, tied to the application's life ---------------------------------------

def check_targets(settings: Settings) -> None:
    """Refuse a webhook or SMTP URL the service could never deliver to, before it opens anything."""
    if settings.webhook_url:
        webhooks.check_url(settings.webhook_url)
    if settings.smtp_url:
        mail.SmtpTarget.parse(settings.smtp_url)


async def outbox_ctx(app: web.Application) -> AsyncIterator[None]:
    """One outbox worker per instance, with a sender for each configured integration."""
    config = app[CONFIG]
    settings = config.settings
    async with aiohttp.ClientSession() as http:
        senders: list[Sender] = []
        if settings.webhook_url:
            senders.append(webhooks.WebhookSender(
                http, settings.webhook_url, settings.webhook_secret, config.webhook_timeout_seconds
            ))
        if settings.smtp_url:
            senders.append(mail.MailSender(
                mail.SmtpTarget.parse(settings.smtp_url), settings.mail_from, config.smtp_timeout_seconds
            ))
        worker = app[OUTBOX] = Outbox(
            app[DATABASE], senders, backoff=config.outbox_backoff, lease_seconds=config.outbox_lease_seconds,
            poll_seconds=config.outbox_poll_seconds, batch=config.outbox_batch,
            keep_delivered_seconds=config.outbox_keep_delivered_days * 86400,
            keep_failed_seconds=config.outbox_keep_failed_days * 86400,
        )
        worker.start()
        yield
        await worker.stop()

