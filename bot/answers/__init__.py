"""Pure answer renderers: a conversation `Context` in, a reply dict out.

Every FAQ answer and every form question is rendered here from the knowledge data and the
message catalog, so the Rasa process (`bot.nlg.KnowledgeNLG`) and the action server produce the
same words. A renderer with `needs_user = True` gets the signed-in user in `context.user`.
"""
from __future__ import annotations

from typing import Callable, Dict

from bot.answers.context import Context, Reply

Renderer = Callable[[Context], Reply]


def renderers() -> Dict[str, Renderer]:
    """Response name → renderer, for every response that needs more than a fixed sentence."""
    from bot.answers import channels, forms, phone, plans, priorities, smalltalk, ticket
    from bot.answers.compound import with_second_question

    topics = {"country": phone.answer, "plan": plans.answer, "priority": priorities.answer}
    return {
        "utter_phone": with_second_question("country", phone.answer, topics),
        "utter_plan": with_second_question("plan", plans.answer, topics),
        "utter_priority": with_second_question("priority", priorities.answer, topics),
        "utter_help_center": channels.help_center,
        "utter_community": channels.community,
        "utter_billing": channels.billing,
        "utter_social_media": channels.social_media,
        "utter_account_rep": channels.account_rep,
        "utter_live_chat": channels.live_chat,
        "utter_channels": channels.overview,
        "utter_clarify": smalltalk.clarify,
        "utter_out_of_scope": smalltalk.out_of_scope,
        "utter_help": smalltalk.help_menu,
        "utter_ask_problem": forms.ask_problem,
        "utter_ask_ticket_email": forms.ask_ticket_email,
        "utter_ask_ticket_subject": forms.ask_ticket_subject,
        "utter_ask_ticket_description": forms.ask_ticket_description,
        "utter_ticket": ticket.about,
        "utter_ask_ticket_confirmed": ticket.confirm,
        "utter_ticket_not_an_answer": ticket.not_an_answer,
    }
