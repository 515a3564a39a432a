"""Account-aware answers for the signed-in user: "may I call support?", "what does my plan
include?" (`action_my_support`) and "who is my technical account manager?" (`action_tam`)."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import UserContext, load_context
from bot.messages import render


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


class ActionMySupport(Action):
    """`ask_my_support`: what this user's account and role entitle them to."""

    def name(self) -> str:
        return "action_my_support"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = await load_context(tracker)
        if context.anonymous:
            _login_required(dispatcher, context)
            return []
        dispatcher.utter_message(text="\n".join(support_lines(context)))
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
