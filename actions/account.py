"""Account-aware answers for the signed-in user: "may I call support?", "what does my plan
include?" (`action_my_support`) and "who is my technical account manager?" (`action_tam`).

A question about calling support ("Kann ich euch anrufen?", "Can I get help over the phone?")
is answered first and in words: yes or no for this user, with the general rule and the other
ways to support when it is no; anonymous users get the general rule and are asked to sign in.
"""
from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import UserContext, latest_entities, latest_user_text, load_context
from bot.answers import phone
from bot.knowledge import load_knowledge
from bot.messages import render

# "anrufen", "ruf ich ... an", "telefonisch", "Hotline", "phone", "call", "ring your support line"
_PHONE_QUESTION = re.compile(
    r"\b(?:telefon\w*|anruf\w*|anzurufen|rufe?n?\s+(?:\w+\s+){0,3}?an|hotline|durchwahl|"
    r"phone\w*|telephone\w*|call\w*|ring|support line)\b",
    re.IGNORECASE,
)
PHONE_FEATURE = "tier1_phone"


def asks_about_phone(tracker: Tracker) -> bool:
    """True when the message asks about phone support (its words or the `feature` entity)."""
    return bool(_PHONE_QUESTION.search(latest_user_text(tracker))) or (
        PHONE_FEATURE in latest_entities(tracker, "feature")
    )


def phone_answer(context: UserContext) -> str:
    """Yes or no to "may I call support?" for this user, first; the rule in one line when
    anonymous. Who may call is said once (`bot.answers.phone`), as in the phone answer."""
    lang = context.lang
    knowledge = load_knowledge()
    if context.anonymous:
        return render("account_phone_sign_in", lang, rule=phone.phone_rule(lang))
    assert context.rights is not None
    if context.rights.phone:
        return render("account_phone_yes", lang, have_ready=phone.have_ready(knowledge, lang))
    alternatives = render("phone_alternatives_chat" if context.rights.live_chat
                          else "phone_alternatives_ticket", lang)
    return render("account_phone_no", lang, reason=phone.phone_reason(context.known, lang),
                  alternatives=alternatives)


def country_buttons(lang: str) -> list[dict[str, str]]:
    knowledge = load_knowledge()
    return [{"title": knowledge.country(code).name.get(lang), "payload": f'/ask_phone{{"country":"{code}"}}'}
            for code in phone.SUGGESTED]


def _login_required(dispatcher: CollectingDispatcher, context: UserContext) -> None:
    dispatcher.utter_message(text=render("account_login_required", context.lang))


def support_lines(context: UserContext, phone_first: bool = False) -> list[str]:
    """The user's rights, one sentence each, in the conversation's language.

    phone_first: the question was about calling support, so its answer leads (in full)."""
    assert context.user is not None and context.rights is not None
    lang, user, rights = context.lang, context.user, context.rights
    account = user.account
    lines = [phone_answer(context)] if phone_first else []
    lines += [
        render(
            "account_summary", lang,
            account=account.name,
            account_type=render(f"account_type_{account.type}", lang),
            plan=render(f"account_plan_{account.plan}", lang),
            role=render(f"role_{user.role}", lang),
            licence=render("account_licensed" if user.licensed else "account_unlicensed", lang),
        )
    ]
    if rights.live_chat:
        lines.append(render("account_right_live_chat_yes", lang, queue_name=render(f"queue_{rights.queue}", lang)))
    else:
        lines.append(render(f"account_right_live_chat_{rights.reason}", lang))
    if not phone_first:
        lines.append(render("account_right_phone_yes" if rights.phone else "account_right_phone_no", lang))
    lines.append(render("account_right_ticket", lang))
    if rights.prioritized:
        lines.append(render("account_right_prioritized_yes", lang))
    elif account.type != "basic":
        lines.append(render("account_right_prioritized_no", lang))
    if rights.automatic_escalation:
        lines.append(render("account_right_automatic_escalation", lang))
    if rights.tam and account.tam_name:
        lines.append(render("account_right_tam", lang, tam_name=account.tam_name))
    return lines


class ActionMySupport(Action):
    """`ask_my_support`: what this user's account and role entitle them to."""

    def name(self) -> str:
        return "action_my_support"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = await load_context(tracker)
        about_phone = asks_about_phone(tracker)
        if context.anonymous:
            if about_phone:
                dispatcher.utter_message(text=phone_answer(context), buttons=country_buttons(context.lang))
            else:
                _login_required(dispatcher, context)
            return []
        lines = support_lines(context, phone_first=about_phone)
        buttons = country_buttons(context.lang) if about_phone and context.rights.phone else []
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return []


class ActionTam(Action):
    """`ask_tam`: name the account's technical account manager (Premier+)."""

    def name(self) -> str:
        return "action_tam"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = await load_context(tracker)
        if context.anonymous:
            _login_required(dispatcher, context)
            return []
        lang, account, rights = context.lang, context.user.account, context.rights
        if not rights.tam:
            text = render("tam_not_included", lang, account=account.name,
                          plan=render(f"account_plan_{account.plan}", lang))
        elif account.tam_name:
            text = render("tam_named", lang, tam_name=account.tam_name, tam_email=account.tam_email,
                          account=account.name)
        else:
            text = render("tam_not_assigned", lang, account=account.name)
        dispatcher.utter_message(text=text)
        return []
