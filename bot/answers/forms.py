"""The forms' questions (`utter_ask_<slot>`), each with a button that cancels the form.

The button sends `/cancel`; inside a form the rules of data/rules/ leave the form on it, just as
on "stopp", "never mind" or "doch nicht".
"""
from __future__ import annotations

from bot import messages
from bot.answers.context import Context, Reply

CANCEL_PAYLOAD = "/cancel"


def cancel_button(lang: str) -> dict:
    return {"title": messages.render("button_cancel", lang), "payload": CANCEL_PAYLOAD}


def _question(key: str, context: Context) -> Reply:
    return {"text": messages.render(key, context.lang), "buttons": [cancel_button(context.lang)]}


def ask_problem(context: Context) -> Reply:
    return _question("ask_problem", context)


def ask_ticket_email(context: Context) -> Reply:
    return _question("ask_ticket_email", context)


def ask_ticket_subject(context: Context) -> Reply:
    # A signed-in user was not asked for an address: say where the reply goes.
    key = "ask_ticket_subject_signed_in" if context.user is not None else "ask_ticket_subject"
    return _question(key, context)


ask_ticket_subject.needs_user = True  # type: ignore[attr-defined]


def ask_ticket_description(context: Context) -> Reply:
    return _question("ask_ticket_description", context)
