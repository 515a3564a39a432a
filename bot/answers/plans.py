"""Support plans: what each includes and for whom (`knowledge/plans.yml`, `knowledge/features.yml`).

A question about a feature on a plan that expects yes or no gets "Yes, …"/"No. …" first; one
that names who it is about ("ein nicht lizenziertes Mitglied", "the owner of a Pro account") is
decided for exactly them by `bot.answers.rights` (SPEC §2's entitlement function).
"""
from __future__ import annotations

import re
from typing import List, Optional

from bot import messages
from bot.answers import phone, rights
from bot.answers.context import Context, Reply
from bot.knowledge import Knowledge, Plan, load_knowledge

PHONE_FEATURE = "tier1_phone"

# A question that expects yes or no is answered with "Yes, …"/"No. …" first: one that starts with
# a verb ("Hat Premier …?", "kriegt man …?", "Does …?"), or a question without a question word
# ("Priorisierte Antwort – ist die bei Premier+ auch dabei?"). An elliptic follow-up ("und bei
# Premier+?") asks the same kind of question as the one before it.
# The audience of features a plan includes for everyone it covers ("Inklusive").
INCLUDED = "included"
_YES_NO_QUESTION = re.compile(
    r"^\s*((und|and|also|so|aber|but|ok|okay)\s+)?(ist|sind|hat|haben|enthält|enthalten|beinhaltet|umfasst|bietet|gibt|gibts|gibt's|"
    r"bekomme|bekommt|bekommen|kriege|kriegt|kriegen|krieg|kann|können|darf|dürfen|gilt|gelten|"
    r"does|do|is|are|can|has|have|will|would|could|should|may|am|comes?)\b",
    re.IGNORECASE,
)
_QUESTION_WORD = re.compile(
    r"(?i)\b(was|wer|wie|welche[rsnm]?|wann|wo|wozu|wieso|warum|weshalb|womit|wofür|"
    r"what|whats|who|whos|whom|which|how|hows|when|where|wheres|why)\b"
)


def is_question(text: str) -> bool:
    """Phrased as a question: a question mark, a yes/no question's verb first, or a question word
    among the first two words ("welche Nummer ...", "und wie ...")."""
    text = text or ""
    if "?" in text or _YES_NO_QUESTION.match(text):
        return True
    return any(_QUESTION_WORD.fullmatch(word.split("'")[0]) for word in re.findall(r"[\w']+", text)[:2])


def is_yes_no_question(text: str) -> bool:
    text = text or ""
    if _YES_NO_QUESTION.match(text):
        return True
    return "?" in text and not _QUESTION_WORD.search(text)


def answer(context: Context) -> Reply:
    knowledge = load_knowledge()
    lang = context.lang
    plans = [knowledge.plans[plan_id] for plan_id in context.recall("plan") if plan_id in knowledge.plans]
    features = [feature for feature in context.recall("feature") if feature in knowledge.features]
    who = rights.profile(context.text, [plan.id for plan in plans])
    if features and who.names_someone and all(feature in rights.FEATURE_RIGHTS for feature in features):
        return {"text": "\n".join(_for_whom(knowledge, who, plans, feature, lang) for feature in features)}
    reply = _answer(context, knowledge, plans, features)
    if PHONE_FEATURE in features and phone.asks_preparation(context.text):
        # "wer darf da anrufen und was brauch ich dafür?": both questions
        reply["text"] += "\n" + phone.have_ready(knowledge, lang)
    return reply


def _answer(context: Context, knowledge: Knowledge, plans: List[Plan], features: List[str]) -> Reply:
    lang = context.lang
    if plans and features:
        yes_no = is_yes_no_question(context.text) or (
            context.is_follow_up and is_yes_no_question(context.previous_text))
        return {"text": "\n".join(
            _includes(knowledge, plan, feature, lang, yes_no) for plan in plans for feature in features
        )}
    if plans:
        return {"text": "\n\n".join(_plan_contents(knowledge, plan, lang) for plan in plans)}
    if features:
        return {"text": "\n\n".join(_feature_by_plan(knowledge, feature, lang) for feature in features)}
    return {"text": _overview(knowledge, lang)}


def _includes(knowledge: Knowledge, plan: Plan, feature_id: str, lang: str, yes_no: bool) -> str:
    feature = knowledge.features[feature_id]
    included = plan.feature(feature_id)
    if included is not None:
        key = "plan_includes_plain" if included.audience.id == INCLUDED else "plan_includes"
        text = messages.render(
            key, lang, yes=_lead("plan_yes", lang, yes_no), plan=plan.name.get(lang),
            feature=_mid(feature.short.get(lang), lang), audience=included.audience.text.get(lang),
        )
        return _with_footnote(text, included.footnote, lang)
    return messages.render(
        "plan_excludes", lang,
        no=_lead("plan_no", lang, yes_no), plan=plan.name.get(lang), feature=_mid(feature.short.get(lang), lang),
        from_plan=_first_plan_with(knowledge, feature_id) or "–",
    )


def _for_whom(knowledge: Knowledge, who: rights.Profile, plans: List[Plan], feature_id: str, lang: str) -> str:
    """Yes / no / only-if for the people the question names, then the rule it follows."""
    verdict = rights.verdict(feature_id, who)
    assert verdict is not None
    lead = rights.lead(verdict, lang)
    if plans:
        rules = [_includes(knowledge, plan, feature_id, lang, yes_no=False) for plan in plans]
        return "\n".join([lead, *rules])
    return "\n".join([lead, _feature_by_plan(knowledge, feature_id, lang)])


def _plan_contents(knowledge: Knowledge, plan: Plan, lang: str) -> str:
    lines: List[str] = []
    if plan.previous and plan.adds:
        previous = knowledge.plans[plan.previous]
        additions = ", ".join(change.feature.short.get(lang) for change in plan.adds)
        lines.append(messages.render("plan_adds", lang, plan=plan.name.get(lang),
                                     previous=previous.name.get(lang), additions=additions))
    lines.append(messages.render("plan_contents", lang, plan=plan.name.get(lang)))
    for included in plan.features:
        lines.append(_with_footnote(
            f"• {included.feature.short.get(lang)}: {included.audience.text.get(lang)}", included.footnote, lang
        ))
    return "\n".join(lines)


def _feature_by_plan(knowledge: Knowledge, feature_id: str, lang: str) -> str:
    feature = knowledge.features[feature_id]
    lines = [messages.render("plan_feature_by_plan", lang, feature=feature.short.get(lang))]
    for plan in knowledge.plans.values():
        included = plan.feature(feature_id)
        audience = included.audience.text.get(lang) if included else messages.render("plan_not_included", lang)
        lines.append(f"• {plan.name.get(lang)}: {audience}")
    footnotes = {included.footnote.get(lang) for plan in knowledge.plans.values()
                 if (included := plan.feature(feature_id)) is not None and included.footnote is not None}
    lines.extend(sorted(footnotes))
    return "\n".join(lines)


def _overview(knowledge: Knowledge, lang: str) -> str:
    lines = [messages.render("plan_overview", lang)]
    for plan in knowledge.plans.values():
        if plan.previous:
            additions = ", ".join(change.feature.short.get(lang) for change in plan.adds)
            lines.append(messages.render("plan_adds", lang, plan=plan.name.get(lang),
                                         previous=knowledge.plans[plan.previous].name.get(lang),
                                         additions=additions))
        else:
            contents = "; ".join(
                f"{included.feature.short.get(lang)} ({included.audience.text.get(lang)})"
                for included in plan.features
            )
            lines.append(f"{plan.name.get(lang)}: {contents}.")
    lines.append(messages.render("plan_overview_more", lang))
    return "\n".join(lines)


def _lead(key: str, lang: str, wanted: bool) -> str:
    """ "Yes, " / "No. " before the answer to a yes-or-no question, else nothing."""
    return messages.render(key, lang) + " " if wanted else ""


def _mid(name: str, lang: str) -> str:
    """A feature name inside an English sentence is not capitalised ("includes prioritized response")."""
    return name[:1].lower() + name[1:] if lang == "en" and name[1:2].islower() else name


def _first_plan_with(knowledge: Knowledge, feature_id: str) -> Optional[str]:
    for plan in knowledge.plans.values():
        if plan.includes(feature_id):
            return plan.name.get("de")
    return None


def _with_footnote(text: str, footnote, lang: str) -> str:
    return f"{text} ({footnote.get(lang)})" if footnote is not None else text
