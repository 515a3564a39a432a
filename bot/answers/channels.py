"""The other support channels of the help center (`knowledge/channels.yml`)."""
from __future__ import annotations

from bot import messages
from bot.answers.context import Context, Reply
from bot.knowledge import load_knowledge


def _channel(channel_id: str, context: Context) -> Reply:
    channel = load_knowledge().channels[channel_id]
    lang = context.lang
    parts = [messages.render("channel_answer", lang, name=channel.name.get(lang),
                             description=channel.description.get(lang))]
    if channel.how is not None:
        parts.append(channel.how.get(lang))
    if channel.availability is not None:
        parts.append(messages.render("channel_availability", lang, availability=channel.availability.get(lang)))
    return {"text": " ".join(parts)}


def help_center(context: Context) -> Reply:
    return _channel("help_center", context)


def community(context: Context) -> Reply:
    return _channel("community", context)


def billing(context: Context) -> Reply:
    return _channel("billing_support", context)


def social_media(context: Context) -> Reply:
    return _channel("social_media", context)


def account_rep(context: Context) -> Reply:
    return _channel("account_rep", context)
