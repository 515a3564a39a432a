"""Support phone numbers by country (`knowledge/phones.yml`, `knowledge/countries.yml`)."""
from __future__ import annotations

from typing import List

from bot import messages
from bot.answers.context import Context, Reply
from bot.knowledge import Country, Knowledge, load_knowledge

# Countries offered as buttons when the user has not named one: the seed's largest markets for
# a German-language help center first.
SUGGESTED = ("DE", "AT", "CH", "US", "GB")


def answer(context: Context) -> Reply:
    knowledge = load_knowledge()
    lang = context.lang
    # A value from a button payload may be anything: only countries the knowledge data knows.
    countries = [knowledge.countries[code.upper()] for code in context.remembered("country")
                 if code.upper() in knowledge.countries]
    info = knowledge.phone_info
    if not countries:
        # Asked without a country ("what do I need before I call?"): everything but the number.
        return {
            "text": "\n".join([
                messages.render("phone_which_country", lang, countries=_country_list(knowledge, lang)),
                f"{info.have_ready.get(lang)} {info.long_distance.get(lang)}",
                info.eligibility.get(lang),
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
        else:
            parts.append(messages.render(
                "phone_no_number", lang, country=country.name.get(lang), countries=_country_list(knowledge, lang)
            ))
    if any(country.has_phone for country in countries):
        parts.append(f"{info.long_distance.get(lang)} {info.have_ready.get(lang)}")
        parts.append(info.eligibility.get(lang))
    return {"text": "\n".join(parts)}


def _numbers(country: Country, lang: str) -> str:
    numbers = f' {messages.render("phone_or", lang)} '.join(number.text(lang) for number in country.phones)
    return messages.render("phone_numbers", lang, in_country=country.in_(lang), numbers=numbers)


def _country_list(knowledge: Knowledge, lang: str) -> str:
    return ", ".join(knowledge.country(code).name.get(lang) for code in knowledge.phone_info.countries)
