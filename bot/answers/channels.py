"""The other support channels of the help center (`knowledge/channels.yml`)."""
from __future__ import annotations

from bot import messages
from bot.answers import rights
from bot.answers.context import Context, Reply
from bot.knowledge import load_knowledge

LIVE_CHAT_FEATURE = "tier1_chat"


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
    # "Do we get a technical account manager with Premier?" names a plan feature: a plan question.
    if context.mentioned("feature"):
        from bot.answers import plans

        return plans.answer(context)
    return _channel("account_rep", context)


def live_chat(context: Context) -> Reply:
    """When live chat with an agent is staffed (the seed: around the clock) and for whom; for a
    signed-in user whether they may use it. A message that names another plan feature ("Für wen
    ist der Self-Service verfügbar?") is about that feature: the plan answer covers it."""
    from bot.answers import plans

    if any(feature != LIVE_CHAT_FEATURE for feature in context.mentioned("feature")):
        return plans.answer(context)
    lang = context.lang
    chatbot = load_knowledge().channels["chatbot"]
    parts = [messages.render("live_chat_hours", lang, availability=chatbot.availability.get(lang))]
    who = rights.profile(context.text, context.recall("plan"))
    known = context.user
    if who.names_someone:
        # "can members without a licence use the live chat?": yes or no for whom it names first
        parts.insert(0, rights.lead(rights.verdict(LIVE_CHAT_FEATURE, who), lang))
    if known is None:
        parts.append(messages.render("live_chat_who", lang))
    elif known.rights.live_chat:
        parts.append(messages.render("live_chat_you_may", lang))
    else:
        parts.append(messages.render(f"live_chat_you_may_not_{known.rights.reason}", lang,
                                     account=known.user.account.name))
    return {"text": " ".join(parts)}


live_chat.needs_user = True  # type: ignore[attr-defined]


# The seed's channels in the order a user would try them, then what the account representative is
# for; the phone line says who may call (bot.answers.phone).
OVERVIEW = ("help_center", "community", "web_ticket", "chatbot", "billing_support", "social_media", "account_rep")


def overview(context: Context) -> Reply:
    """Every way to support the seed names, one short line each."""
    from bot.answers import phone, smalltalk

    knowledge = load_knowledge()
    lang = context.lang
    lines = [messages.render("channels_intro", lang)]
    for channel_id in OVERVIEW:
        channel = knowledge.channels[channel_id]
        if channel_id == "chatbot":
            # this chat itself: what it adds is the agent behind it, and the phone line
            lines.append("• " + messages.render("channels_live_chat", lang, availability=channel.availability.get(lang)))
            lines.append("• " + messages.render("channels_phone", lang, rule=phone.eligibility_line(context.user, lang)))
            continue
        line = f"• {channel.name.get(lang)}"
        if channel.availability is not None:
            line += f" ({channel.availability.get(lang)})"
        lines.append(line)
    buttons = smalltalk.buttons(("ask_phone", "open_ticket", "ask_community", "request_human"), lang)
    return {"text": "\n".join(lines), "buttons": buttons}


overview.needs_user = True  # type: ignore[attr-defined]
