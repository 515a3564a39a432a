"""Web ticket: the answer to a question about tickets, and the ticket form's summary.

A question about web tickets ("Wie reiche ich ein Webticket ein?") is answered, and the answer
offers to create the ticket here: the button (`/open_ticket{"ticket_start": "here"}`) or a yes
starts the form (data/rules/ticket.yml). Before the ticket is filed the form shows what it will
send and asks for a yes.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from bot import messages
from bot.answers.context import Context, Reply
from bot.answers.forms import cancel_button
from bot.redaction import redact

START_PAYLOAD = '/open_ticket{"ticket_start":"here"}'
CONFIRM_PAYLOAD = "/affirm"
REQUESTED_SLOT = "requested_slot"
# An email address inside what the user typed ("meine Mail ist anna@example.org.").
EMAIL = re.compile(r"[^@\s<>\"',;:()]+@[^@\s<>\"',;:()]+\.[A-Za-z]{2,}")
_SHOWN_DESCRIPTION = 300


def email_address(text: Any) -> Optional[str]:
    """The email address in `text`, or None."""
    match = EMAIL.search(str(text or ""))
    return match.group().rstrip(".") if match else None


def about(context: Context) -> Reply:
    lang = context.lang
    return {
        "text": messages.render("ticket_about", lang),
        "buttons": [{"title": messages.render("ticket_start_here", lang), "payload": START_PAYLOAD}],
    }


def confirm(context: Context) -> Reply:
    lang, slots = context.lang, context.slots
    description = redact(str(slots.get("ticket_description") or ""))
    if len(description) > _SHOWN_DESCRIPTION:
        description = description[:_SHOWN_DESCRIPTION].rstrip() + " …"
    text = messages.render(
        "ask_ticket_confirmed", lang,
        subject=redact(str(slots.get("ticket_subject") or "")),
        description=description,
        email=email_address(slots.get("ticket_email")) or "–",
    )
    return {"text": text, "buttons": [
        {"title": messages.render("ticket_confirm_yes", lang), "payload": CONFIRM_PAYLOAD},
        cancel_button(lang),
    ]}


def not_an_answer(context: Context) -> Reply:
    """What the form's current question needs, when the message was no answer to it."""
    requested = context.slots.get(REQUESTED_SLOT)
    if requested == "ticket_email" and "@" not in context.text:
        # something else than an attempt at an address: say what the question is for
        return {"text": messages.render("ticket_email_needed", context.lang)}
    key = {
        "ticket_email": "ticket_email_invalid",
        "ticket_subject": "ticket_not_an_answer_subject",
        "ticket_description": "ticket_not_an_answer_description",
        "ticket_confirmed": "ticket_not_an_answer_confirmed",
    }.get(requested, "ticket_not_an_answer_description")
    return {"text": messages.render(key, context.lang)}
