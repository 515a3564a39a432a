"""Support phone numbers by country (`knowledge/phones.yml`, `knowledge/countries.yml`).

One reply, in this order and each once: the number(s), what to have ready when calling, and who
may call, tailored: a signed-in user learns whether *they* may ("Mit Ihrem Konto dürfen Sie …" /
"… leider nicht, weil …"), an anonymous user gets the rule in one short line. Numbers are shown
with the seed's digits, grouped by spaces ("+49 30 80098621"), a form the widget can link.
"""
from __future__ import annotations

import re
from typing import List, Sequence

from bot import messages
from bot.answers.context import Context, Reply
from bot.entitlements import ADMIN_ROLES, PAID_ACCOUNT_TYPES, PHONE_ACCOUNT_TYPES, PLAN_FEATURES, PLANS
from bot.knowledge import Country, Knowledge, PhoneNumber, load_knowledge

# Countries offered as buttons when the user has not named one: the seed's largest markets for
# a German-language help center first.
SUGGESTED = ("DE", "AT", "CH", "US", "GB")
# The seed's table order, for the account types named in the phone rule.
_ACCOUNT_TYPE_ORDER = ("business", "education", "enterprise", "api")
# A question about the extension itself ("welche Durchwahl?", "do I need to dial an extension?").
_ASKS_EXTENSION = re.compile(r"(?i)\b(?:durchwahl\w*|extension|ext|nebenstelle)\b")
ASK_PHONE = "ask_phone"
# A question about what to have ready for the call ("was brauch ich dafür?", "what do I need?").
_ASKS_PREPARATION = re.compile(
    r"(?i)\b(?:brauch\w*|benötig\w*|bereit\w*|parat|vorbereit\w*|zur hand|griffbereit|"
    r"need|needed|ready|prepare\w*|on hand|at hand)\b")


def asks_preparation(text: str) -> bool:
    return bool(_ASKS_PREPARATION.search(text or ""))


def answer(context: Context) -> Reply:
    knowledge = load_knowledge()
    lang = context.lang
    # A value from a button payload may be anything: only countries the knowledge data knows.
    countries = [knowledge.countries[code.upper()] for code in context.recall_on_topic("country", ASK_PHONE)
                 if code.upper() in knowledge.countries]
    if not countries:
        return {
            "text": "\n".join([
                messages.render("phone_which_country", lang, countries=_country_list(knowledge, lang)),
                have_ready(knowledge, lang),
                eligibility_line(context.user, lang),
            ]),
            "buttons": [
                {"title": knowledge.country(code).name.get(lang), "payload": f'/ask_phone{{"country":"{code}"}}'}
                for code in SUGGESTED
            ],
        }
    parts: List[str] = []
    for country in countries:
        if country.has_phone:
            parts.append(_numbers(country, lang))
            if _ASKS_EXTENSION.search(context.text):
                parts.append(_extension_note(country, lang))
        else:
            parts.append(messages.render(
                "phone_no_number", lang, country=country.name.get(lang), countries=_country_list(knowledge, lang)
            ))
    if any(country.has_phone for country in countries):
        parts.append(have_ready(knowledge, lang))
        parts.append(eligibility_line(context.user, lang))
    return {"text": "\n".join(parts)}


def display(number: PhoneNumber, lang: str) -> str:
    """The number with the seed's digits, dots turned into spaces, and its extension."""
    shown = re.sub(r"\s+", " ", number.number.replace(".", " ")).strip()
    if number.extension is None:
        return shown
    return f"{shown} {messages.render('phone_extension', lang, extension=number.extension)}"


def have_ready(knowledge: Knowledge, lang: str) -> str:
    info = knowledge.phone_info
    return " ".join(f"{info.have_ready.get(lang)} {info.long_distance.get(lang)}".split())


def eligibility_line(known_user, lang: str) -> str:
    """Who may call, once: for this user when signed in, else the rule in one line."""
    if known_user is None:
        return phone_rule(lang)
    rights = known_user.rights
    if rights.phone:
        return messages.render("phone_you_may_call", lang)
    alternatives = messages.render(
        "phone_alternatives_chat" if rights.live_chat else "phone_alternatives_ticket", lang)
    return messages.render("phone_you_may_not_call", lang, reason=phone_reason(known_user, lang),
                           alternatives=alternatives)


def phone_reason(known_user, lang: str) -> str:
    """Why this signed-in user may not call support (SPEC §2), in one clause."""
    user, account = known_user.user, known_user.user.account
    if account.type not in PAID_ACCOUNT_TYPES:
        key = "phone_reason_free_account"
    elif not user.licensed:
        key = "phone_reason_unlicensed"
    elif user.role not in ADMIN_ROLES:
        key = "phone_reason_member_on_plan"
    else:
        key = "phone_reason_account_type"
    return messages.render(
        key, lang, account=account.name, plan=messages.render(f"account_plan_{account.plan}", lang),
        account_type=messages.render(f"account_type_{account.type}", lang),
        phone_types=_types(lang), phone_plans=_phone_plans(lang),
    )


def phone_rule(lang: str) -> str:
    """SPEC §2's phone rule in one sentence, from `bot.entitlements` (the one definition)."""
    return messages.render("phone_rule", lang, phone_types=_types(lang), phone_plans=_phone_plans(lang))


def _types(lang: str) -> str:
    names = [messages.render(f"account_type_{t}", lang) for t in _ACCOUNT_TYPE_ORDER if t in PHONE_ACCOUNT_TYPES]
    if lang == "de":  # "Business-, Bildungs-, Enterprise- und API-Konten"
        return _join([f"{name}-" for name in names[:-1]] + [names[-1]], lang) + "-Konten"
    return _join(names, lang) + " accounts"


def _phone_plans(lang: str) -> str:
    plans = [messages.render(f"account_plan_{plan}", lang) for plan in PLANS if PLAN_FEATURES[plan].licensed_users_phone]
    return _join(plans, lang, conjunction="phone_or")


def _join(items: Sequence[str], lang: str, conjunction: str = "phone_and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {messages.render(conjunction, lang)} " + items[-1]


def _numbers(country: Country, lang: str) -> str:
    numbers = f' {messages.render("phone_or", lang)} '.join(display(number, lang) for number in country.phones)
    return messages.render("phone_numbers", lang, in_country=country.in_(lang), numbers=numbers)


def _extension_note(country: Country, lang: str) -> str:
    extensions = sorted({number.extension for number in country.phones if number.extension})
    if not extensions:
        return messages.render("phone_no_extension", lang, country=country.name.get(lang))
    if all(number.extension for number in country.phones):
        return messages.render("phone_extension_all", lang, extension=", ".join(extensions))
    return messages.render("phone_extension_some", lang, extension=", ".join(extensions))


def _country_list(knowledge: Knowledge, lang: str) -> str:
    return ", ".join(knowledge.country(code).name.get(lang) for code in knowledge.phone_info.countries)


answer.needs_user = True  # type: ignore[attr-defined]
