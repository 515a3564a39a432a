"""Conversation management: the help menu, clarification and the out-of-scope answer."""
from __future__ import annotations

from typing import List

from bot import messages
from bot.answers.context import Context, Reply

# The topics a user can be offered, by the intent a button triggers (its message key names it).
TOPICS = {
    "ask_phone": "topic_phone",
    "ask_plan": "topic_plan",
    "ask_priority": "topic_priority",
    "open_ticket": "topic_ticket",
    "request_human": "topic_human",
    "ask_community": "topic_community",
    "ask_billing": "topic_billing",
    "ask_help_center": "topic_help_center",
}
MENU = ("ask_phone", "ask_plan", "ask_priority", "open_ticket", "request_human")
MAX_CLARIFY_BUTTONS = 3
# Below this an intent is no real candidate, so offering it would be noise.
MIN_CANDIDATE_CONFIDENCE = 0.05


def buttons(intents, lang: str) -> List[dict]:
    return [{"title": messages.render(TOPICS[intent], lang), "payload": f"/{intent}"} for intent in intents]


def help_menu(context: Context) -> Reply:
    return {"text": messages.render("help_intro", context.lang), "buttons": buttons(MENU, context.lang)}


def clarify(context: Context) -> Reply:
    """Offer the likeliest support topics from the classifier's ranking, then the usual ones."""
    likely = [
        name for name, confidence in context.intent_ranking
        if name in TOPICS and confidence >= MIN_CANDIDATE_CONFIDENCE
    ][:MAX_CLARIFY_BUTTONS]
    for intent in MENU:
        if len(likely) >= MAX_CLARIFY_BUTTONS:
            break
        if intent not in likely:
            likely.append(intent)
    text = messages.render("clarify_intro", context.lang) + " " + messages.render("clarify_rephrase", context.lang)
    return {"text": text, "buttons": buttons(likely, context.lang)}


def out_of_scope(context: Context) -> Reply:
    return {"text": messages.render("out_of_scope", context.lang), "buttons": buttons(MENU, context.lang)}
