"""Priority levels P1–P4: meaning, deadlines, resources (`knowledge/priorities.yml`).

A question that names a support plan ("Gelten die SLA-Zeiten auch bei Standard?") is first
answered for that plan: the deadlines are those of the prioritized response, which only some
plans include.
"""
from __future__ import annotations

import re

from bot import messages
from bot.answers.context import Context, Reply
from bot.knowledge import Priority, load_knowledge
from bot.triage import triage


def answer(context: Context) -> Reply:
    reply = _levels(context)
    applies = _applies_to_plans(context)
    if applies:
        reply = {**reply, "text": f"{applies}\n{reply['text']}"}
    return reply


def _applies_to_plans(context: Context) -> str:
    """For each plan the message names: whether the deadlines apply to it."""
    knowledge = load_knowledge()
    lines = []
    for plan_id in context.mentioned("plan"):
        plan = knowledge.plans.get(plan_id)
        if plan is None:
            continue
        with_it = [p.name.get(context.lang) for p in knowledge.plans.values() if knowledge.plan_is_prioritized(p.id)]
        key = "priority_applies_yes" if knowledge.plan_is_prioritized(plan_id) else "priority_applies_no"
        lines.append(messages.render(key, context.lang, plan=plan.name.get(context.lang),
                                     plans=f" {messages.render('phone_and', context.lang)} ".join(with_it)))
    return "\n".join(lines)


# "P1 bis P4", "P2-P4", "P1 to P3": every level in between.
_RANGE = re.compile(r"(?i)\bP\s?([1-4])\s*(?:-|–|bis|to|through|until)\s*P?\s?([1-4])\b")


def _levels(context: Context) -> Reply:
    knowledge = load_knowledge()
    lang = context.lang
    named = list(context.recall("priority"))
    for low, high in _RANGE.findall(context.text):
        for number in range(int(low), int(high) + 1):
            if f"P{number}" not in named:
                named.append(f"P{number}")
    named.sort(key=lambda level: level if level in knowledge.priorities else "P9")
    levels = [knowledge.priorities[level] for level in named if level in knowledge.priorities]
    note = knowledge.prioritized_note.get(lang)
    if len(levels) == 1:
        return {"text": f"{_detail(levels[0], lang)}\n{note}"}
    if levels:
        return {"text": "\n".join([*(_line(level, lang) for level in levels), note])}
    # "Which priority does a feature request get?": rate the described case by the definitions.
    rated = triage(context.text, knowledge)
    if not rated.is_default:
        level = knowledge.priorities[rated.level]
        lead = messages.render("priority_triaged", lang, level=level.level, summary=level.summary.get(lang))
        return {"text": f"{lead}\n{_line(level, lang)}\n{note}"}
    lines = [messages.render("priority_overview", lang)]
    lines.extend(_line(level, lang) for level in knowledge.priorities.values())
    lines.append(note)
    return {"text": "\n".join(lines)}


def _restoration(level: Priority, lang: str) -> str:
    if level.restoration is None:
        return messages.render("priority_no_restoration", lang)
    return level.restoration.text(lang)


def _detail(level: Priority, lang: str) -> str:
    return messages.render(
        "priority_detail", lang, level=level.level, definition=level.definition.get(lang),
        first_response=level.first_response.text(lang), restoration=_restoration(level, lang),
        resources=level.resources.get(lang),
    )


def _line(level: Priority, lang: str) -> str:
    return messages.render(
        "priority_line", lang, level=level.level, summary=level.summary.get(lang),
        first_response=level.first_response.text(lang), restoration=_restoration(level, lang),
    )
