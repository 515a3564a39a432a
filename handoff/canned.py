"""`GET /api/canned?lang=de|en`: canned answers for the console, built from the knowledge data.

One entry per phone country with its numbers (as the bot writes them), one per support plan
(what it includes), one per priority level (its first-response and restoration times), in the
asked language (German by default, with "Sie"). `key` is what the console's `/` shortcut
matches (`/phone-de`, `/plan-premier`, `/p1`). The wording is in `canned.yml`; the facts come
from `bot.knowledge` (the one source), so an edit of `knowledge/` changes the answers.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from bot import messages
from bot.answers.phone import display, have_ready
from bot.knowledge import Knowledge, load_knowledge
from handoff.errors import BadRequest
from handoff.httputil import answer, require_agent
from handoff.state import CONFIG

WORDING_FILE = Path(__file__).resolve().parent / "canned.yml"
LANGUAGES = ("de", "en")


@lru_cache(maxsize=1)
def _wording() -> dict[str, dict[str, str]]:
    return yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8"))


def _say(key: str, lang: str, **values: Any) -> str:
    return _wording()[key][lang].format(**values)


def _list(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {messages.render('phone_and', lang)} " + items[-1]


def phone_entries(knowledge: Knowledge, lang: str) -> list[dict[str, str]]:
    entries = []
    for country in knowledge.phone_countries:
        numbers = f' {messages.render("phone_or", lang)} '.join(display(n, lang) for n in country.phones)
        text = messages.render("phone_numbers", lang, in_country=country.in_(lang), numbers=numbers)
        entries.append({
            "key": f"phone-{country.code.lower()}",
            "title": _say("phone_title", lang, country=country.name.get(lang)),
            "text": f"{text} {have_ready(knowledge, lang)}",
        })
    return entries


def plan_entries(knowledge: Knowledge, lang: str) -> list[dict[str, str]]:
    entries = []
    for plan in knowledge.plans.values():
        name = plan.name.get(lang)
        features = [f"{pf.feature.name.get(lang)} ({pf.audience.text.get(lang)})" for pf in plan.features]
        text = _say("plan_text", lang, plan=name, features="; ".join(features))
        if plan.previous and plan.adds:
            adds = [change.feature.name.get(lang) for change in plan.adds]
            text += " " + _say("plan_adds", lang, previous=knowledge.plans[plan.previous].name.get(lang),
                               adds=_list(adds, lang))
        entries.append({"key": f"plan-{plan.id.replace('_', '-')}", "title": _say("plan_title", lang, plan=name),
                        "text": text})
    return entries


def priority_entries(knowledge: Knowledge, lang: str) -> list[dict[str, str]]:
    entries = []
    for level, priority in knowledge.priorities.items():
        restoration = (_say("priority_restoration", lang, hours=priority.restoration.text(lang))
                       if priority.restoration else "")
        text = _say("priority_text", lang, level=level, summary=priority.summary.get(lang),
                    first_response=priority.first_response.text(lang), restoration=restoration)
        entries.append({"key": level.lower(), "title": _say("priority_title", lang, level=level), "text": text})
    return entries


def canned_answers(knowledge: Knowledge, lang: str) -> list[dict[str, str]]:
    return phone_entries(knowledge, lang) + plan_entries(knowledge, lang) + priority_entries(knowledge, lang)


async def canned(request: web.Request) -> web.Response:
    await require_agent(request)
    lang = request.query.get("lang", "de")
    if lang not in LANGUAGES:
        raise BadRequest("'lang' must be de or en", code="invalid_lang")
    knowledge = load_knowledge(request.app[CONFIG].settings.knowledge_dir)
    return answer(canned_answers(knowledge, lang))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/canned", canned)
