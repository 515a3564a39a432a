"""Email: the transcript a signed-in user asks for, and tickets created while no agent is online.

Both are rendered when they are asked for (the chat as it stands then, redacted like everything
the service stores), in the conversation's language, and written to the outbox; `MailSender`
sends them with aiosmtplib, off the chat's path, retrying like the webhooks.

The transcript goes to the address of the user's account (bot/accounts), looked up by the user
id of the verified identity token: nothing the user types or sends chooses the recipient.
"""
from __future__ import annotations

import asyncio
import email.utils
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
import yaml
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot.accounts import repository as accounts
from bot.redaction import redact
from handoff import outbox, repository
from handoff.errors import HandoffError
from handoff.models import Conversation, Delivery, utcnow
from handoff.outbox import DeliveryError
from handoff.texts import language_of, system_text

CHANNEL = "email"
TRANSCRIPT = "transcript_email"
TICKET = "ticket_email"
MAIL_FILE = Path(__file__).resolve().parent / "mail.yml"
MAX_SUBJECT = 120


class TranscriptRefused(HandoffError):
    """A transcript request the service cannot serve; the message is in the user's language."""

    def __init__(self, code: str, language: str | None, status: int = 400) -> None:
        super().__init__(system_text(f"transcript_email_{code}", language), code=code)
        self.status = status


# --- SMTP ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpTarget:
    """Where mail goes: `smtp://[user:password@]host[:port]` (STARTTLS when the server offers
    it, port 25 by default) or `smtps://...` (TLS from the first byte, port 465)."""

    hostname: str
    port: int
    use_tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> "SmtpTarget":
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"SMTP_URL must look like smtp://host:port or smtps://host:port, not {url!r}")
        use_tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if use_tls else 25),
            use_tls=use_tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def build_message(payload: dict[str, Any], sender: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Date"] = email.utils.format_datetime(utcnow())
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a robot
    if payload.get("reply_to"):
        message["Reply-To"] = payload["reply_to"]
    message.set_content(payload["text"])
    message["Content-Language"] = payload.get("language", "de")  # after set_content, which drops Content-*
    return message


class MailSender:
    channel = CHANNEL

    def __init__(self, target: SmtpTarget, sender: str, timeout_seconds: float) -> None:
        self.target = target
        self.sender = sender
        self.timeout_seconds = timeout_seconds
        self.domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"

    async def send(self, delivery: dict[str, Any]) -> int:
        message = build_message(delivery["payload"], self.sender, f"<{delivery['event_id']}@{self.domain}>")
        target = self.target
        try:
            await aiosmtplib.send(
                message, hostname=target.hostname, port=target.port, use_tls=target.use_tls,
                username=target.username, password=target.password, timeout=self.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refused.code for refused in error.recipients]
            raise DeliveryError(
                f"the mail server refused the recipient: {error}", status=codes[0] if codes else None,
                permanent=bool(codes) and all(500 <= code < 600 for code in codes),
            ) from None
        except aiosmtplib.SMTPResponseException as error:
            raise DeliveryError(
                f"the mail server answered {error.code} {error.message}", status=error.code,
                permanent=500 <= error.code < 600,
            ) from None
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as error:
            raise DeliveryError(f"could not reach the mail server: {error or error.__class__.__name__}") from None
        return 250


# --- rendering -------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _catalog() -> dict[str, Any]:
    return yaml.safe_load(MAIL_FILE.read_text(encoding="utf-8"))


def one_line(text: str | None, limit: int = MAX_SUBJECT) -> str:
    """A header-safe single line (a subject typed by a user may hold newlines)."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def mask_address(address: str) -> str:
    """`karl@example.com` -> `k***@example.com`: enough for the user to recognise it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def format_transcript(messages: list[dict[str, Any]], language: str) -> str:
    """One message per line, `HH:MM  Who: text`; continuation lines indented; redacted again
    (stored texts already are; a transcript that came with a ticket is redacted once more)."""
    labels = _catalog()["labels"][language]
    date_format = _catalog()["date_format"][language]
    lines: list[str] = []
    day = None
    for message in messages:
        text = redact(str(message.get("text") or "")).strip()
        if not text:
            continue  # a bare handoff marker
        moment = _moment(message.get("at"))
        if moment is not None and moment.date() != day:
            day = moment.date()
            lines.append(f"— {moment.strftime(date_format)} —")
        sender = message.get("from")
        who = message.get("agent_name") if sender == "agent" and message.get("agent_name") else labels.get(sender, labels["system"])
        clock = moment.strftime("%H:%M") if moment else "--:--"
        first, *rest = text.splitlines()
        lines.append(f"{clock}  {who}: {first}")
        lines.extend(f"       {line}" for line in rest)
    return "\n".join(lines) if lines else labels["none"]


def transcript_mail(name: str, address: str, messages: list[dict[str, Any]], language: str) -> dict[str, Any]:
    template = _catalog()["transcript"][language]
    date = utcnow().strftime(_catalog()["date_format"][language])
    return {
        "to": email.utils.formataddr((one_line(name, 200), address)),
        "subject": template["subject"].format(date=date),
        "text": template["body"].format(name=one_line(name, 200), transcript=format_transcript(messages, language)),
        "language": language,
    }


def _single_address(value: Any) -> str | None:
    """A contact address fit for Reply-To, or None."""
    if not isinstance(value, str) or any(c in value for c in "\r\n,;<>"):
        return None
    _, address = email.utils.parseaddr(value)
    return address if address and "@" in address and address == value.strip() else None


def ticket_mail(ticket: dict[str, Any], inbox: str) -> dict[str, Any]:
    language = language_of(ticket.get("language"))
    labels = _catalog()["labels"][language]
    template = _catalog()["ticket"][language]
    account = ticket.get("account") or {}
    account_line = labels["none"]
    if account.get("name"):
        kind = ", ".join(str(account[k]) for k in ("type", "plan") if account.get(k))
        account_line = f"{account['name']} ({kind})" if kind else str(account["name"])
    created = _moment(ticket.get("created_at"))
    values = {
        "ticket_id": ticket["ticket_id"],
        "subject": one_line(ticket.get("subject")) or labels["none"],
        "email": one_line(ticket.get("email"), 320) or labels["none"],
        "user": ticket.get("user_id") or labels["none"],
        "account": one_line(account_line, 300),
        "conversation_id": ticket.get("conversation_id") or labels["none"],
        "created_at": created.strftime("%Y-%m-%d %H:%M") if created else labels["none"],
        "description": (ticket.get("description") or "").strip() or labels["none"],
        "transcript": format_transcript(ticket.get("transcript") or [], language),
    }
    mail = {
        "to": inbox,
        "subject": template["subject"].format(**values),
        "text": template["body"].format(**values),
        "language": language,
    }
    reply_to = _single_address(ticket.get("email"))
    if reply_to:
        mail["reply_to"] = reply_to
    return mail


# --- database work ---------------------------------------------------------------------------

def enqueue_transcript(
    session: Session, conversation_id: str, user_id: str | None, locale: str | None, cooldown_seconds: float
) -> dict[str, Any]:
    """Render the conversation's transcript for its signed-in user and put it in the outbox.

    Returns `{"to": masked address, "language"}`. The address is the account's: the user id
    comes from the verified identity token and must be the conversation's owner.
    """
    conversation = session.get(Conversation, conversation_id)
    language = language_of((conversation.language if conversation else None) or locale)
    if conversation is None or user_id is None or conversation.user_id != user_id:
        raise TranscriptRefused("login_required", language, status=401)
    key = f"conversation:{conversation_id}"
    recent = session.scalar(select(exists().where(
        Delivery.channel == CHANNEL, Delivery.event == TRANSCRIPT, Delivery.ordering_key == key,
        Delivery.created_at > utcnow() - timedelta(seconds=cooldown_seconds),
    )))
    if recent:
        raise TranscriptRefused("too_soon", language, status=429)
    user = accounts.find_user(session, user_id)
    if user is None or not _single_address(user.email):
        raise TranscriptRefused("no_address", language, status=404)
    messages = repository.transcript(session, conversation_id)
    if not any(str(m.get("text") or "").strip() for m in messages):
        raise TranscriptRefused("empty", language)
    outbox.enqueue(session, CHANNEL, TRANSCRIPT, key, transcript_mail(user.name, user.email, messages, language))
    return {"to": mask_address(user.email), "language": language}


def enqueue_ticket_mail(session: Session, ticket: dict[str, Any], inbox: str) -> dict[str, Any]:
    return outbox.enqueue(session, CHANNEL, TICKET, f"ticket:{ticket['ticket_id']}", ticket_mail(ticket, inbox))
