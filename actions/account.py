"""Account-aware answers for the signed-in user: "may I call support?", "what does my plan
include?" (`action_my_support`) and "who is my technical account manager?" (`action_tam`).

A question about calling support ("Kann ich euch anrufen?", "Can I get help over the phone?")
gets only that answer, in words and first: yes (with the numbers of the country the message
names, else the question which country) or no with the reason and the other ways to support.
Anonymous users get the rule in one line; one who describes who they are ("ich bin lizenziertes
Mitglied, wir haben Standard") gets it for that description, as the general rule: only the
identity token says who the user is.
"""
from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.context import ContextAction, UserContext, latest_entities, latest_user_text
from bot.answers import phone, rights
from bot.answers.context import from_sdk_tracker
from bot.answers.plans import PHONE_FEATURE
from bot.knowledge import load_knowledge
from bot.messages import render

TAM = "technical_account_manager"

# "anrufen", "ruf ich ... an", "telefonisch", "Hotline", "phone", "call", "ring your support line"
_PHONE_QUESTION = re.compile(
    r"\b(?:telefon\w*|anruf\w*|anzurufen|rufe?n?\s+(?:\w+\s+){0,3}?an|hotline|durchwahl|"
    r"phone\w*|telephone\w*|call\w*|ring|support line)\b",
    re.IGNORECASE,
)


def asks_about_phone(tracker: Tracker) -> bool:
    """True when the message asks about phone support (its words or the `feature` entity)."""
    return bool(_PHONE_QUESTION.search(latest_user_text(tracker))) or (
        PHONE_FEATURE in latest_entities(tracker, "feature")
    )


def phone_answer(context: UserContext, text: str = "", plans: tuple[str, ...] = ()) -> str:
    """Yes or no to "may I call support?" for this user, first; the rule in one line when
    anonymous. Who may call is said once (`bot.answers.phone`), as in the phone answer."""
    lang = context.lang
    knowledge = load_knowledge()
    if context.anonymous:
        described = rights.profile(text, plans)
        verdict = rights.verdict(PHONE_FEATURE, described) if described.names_someone else None
        if verdict is not None and verdict.outcome in (rights.YES, rights.NO):
            key = "account_phone_described_yes" if verdict.outcome == rights.YES else "account_phone_described_no"
            return render(key, lang, rule=phone.phone_rule(lang))
        if verdict is not None and verdict.conditions:
            return render("account_phone_described_only", lang, rule=phone.phone_rule(lang),
                          conditions=rights.conditions_text(verdict, lang))
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


def support_lines(context: UserContext) -> list[str]:
    """The user's rights, one sentence each, in the conversation's language."""
    assert context.user is not None and context.rights is not None
    lang, user, rights = context.lang, context.user, context.rights
    account = user.account
    lines = [
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


class ActionMySupport(ContextAction):
    """`ask_my_support`: what this user's account and role entitle them to."""

    action_name = "action_my_support"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: UserContext) -> list[EventType]:
        if asks_about_phone(tracker):
            dispatcher.utter_message(**self._phone(tracker, context))
            return []
        if context.anonymous:
            _login_required(dispatcher, context)
            return []
        dispatcher.utter_message(text="\n".join(support_lines(context)))
        return []

    @staticmethod
    def _phone(tracker: Tracker, context: UserContext) -> dict:
        """Only the phone answer; with the numbers when the message names a country."""
        answers = from_sdk_tracker(tracker, user=context.known)
        answer = phone_answer(context, answers.text, answers.mentioned("plan"))
        may_call = context.rights is None or context.rights.phone
        if answers.mentioned("country") and may_call:
            numbers = phone.answer(answers)["text"].splitlines()
            if context.anonymous:
                return {"text": "\n".join(numbers)}  # the numbers first, the rule in its last line
            # yes first, then the numbers and what to have ready (who may call is said already)
            return {"text": "\n".join([answer.split(". ")[0] + "."] + numbers[:-1])}
        return {"text": answer, "buttons": country_buttons(context.lang) if may_call else []}


class ActionTam(ContextAction):
    """`ask_tam`: name the account's technical account manager (Premier+)."""

    action_name = "action_tam"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: UserContext) -> list[EventType]:
        if context.anonymous:
            # the general rule first (which plan has one), then what signing in tells
            plans = [plan.name.get(context.lang) for plan in load_knowledge().plans.values() if plan.includes(TAM)]
            dispatcher.utter_message(text=render("tam_general", context.lang, plans=" / ".join(plans)))
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
