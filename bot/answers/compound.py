"""Two questions in one message ("nummer für spanien und wie schnell antwortet ihr bei p1").

The message's intent gets its answer; another clause that asks about another FAQ topic by
naming that topic's value (a priority level, a country, a plan) and nothing of the first topic
gets that topic's answer after it, in the same language. Only a clause that is a question in
words of its own counts: "und P2?" after a phone number is an elliptic follow-up of nothing, and
"Nummer für Premier-Kunden in Spanien" is one question (one clause).
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable, Dict, Optional

from bot.answers.context import Context, Reply, elliptic
from bot.answers.plans import is_question

# A clause that names its topic in a word asks for it, question or not ("nummer neuseeland und ...").
_TOPIC_WORD = re.compile(r"(?i)\b(\w*nummer\w*|number|phone|telefon\w*|hotline|prio\w*|priority|reaktionszeit\w*|"
                         r"response\s+time|abo|plan|beinhalt\w*|enthält|include\w*)\b")
# entity -> the intent whose answer is about its values
TOPIC_INTENTS: Dict[str, str] = {"country": "ask_phone", "priority": "ask_priority", "plan": "ask_plan"}


def with_second_question(own_entity: str, answer: Callable[[Context], Reply],
                         answers: Dict[str, Callable[[Context], Reply]]) -> Callable[[Context], Reply]:
    """`answer`, followed by the answer to a second question of the message about another topic
    (`answers`: entity -> that topic's renderer)."""

    def render(context: Context) -> Reply:
        reply = answer(context)
        second = _second_question(context, own_entity)
        if second is None or "text" not in reply:
            return reply
        entity, clause = second
        more = answers[entity](clause)
        if not more.get("text"):
            return reply
        return {**reply, "text": f"{reply['text']}\n\n{more['text']}"}

    render.needs_user = getattr(answer, "needs_user", False)  # type: ignore[attr-defined]
    return render


def _asks(text: str, part: str) -> bool:
    """`part` (a clause of `text`) is a question: in its words, or by the "?" that ended it."""
    end = text.find(part) + len(part)
    return is_question(part) or text[end:end + 2].lstrip().startswith("?")


def _second_question(context: Context, own_entity: str) -> Optional[tuple[str, Context]]:
    from bot.matching import find_mentions
    from bot.nlu_models import clauses

    parts = clauses(context.text)
    if len(parts) < 2:
        return None
    for part in parts:
        mentions = [m for m in find_mentions(part) if m.entity in TOPIC_INTENTS or m.entity == "feature"]
        kinds = {m.entity for m in mentions}
        other = [kind for kind in TOPIC_INTENTS if kind in kinds and kind != own_entity]
        if own_entity in kinds or len(other) != 1 or not (_asks(context.text, part) or _TOPIC_WORD.search(part)):
            continue
        spans = tuple((m.start, m.end) for m in mentions)
        if elliptic(part, tuple((m.start, m.end) for m in mentions if m.entity in TOPIC_INTENTS)):
            continue
        entity = other[0]
        grouped: Dict[str, tuple] = {}
        for mention in mentions:
            if mention.value not in grouped.get(mention.entity, ()):
                grouped[mention.entity] = grouped.get(mention.entity, ()) + (mention.value,)
        return entity, replace(context, text=part, intent=TOPIC_INTENTS[entity], entities=grouped, spans=spans,
                               intent_ranking=(), previous_intent=None, previous_text="",
                               previous_entities={}, previous_elliptic=False)
    return None
