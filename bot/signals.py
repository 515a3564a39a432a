"""What the NLU understood about a message beyond its intent: the interface to the actions.

The NLU pipeline (`bot.components.SignalExtractor`, `bot.components.LanguageDetector`) writes
into the parse data of every message, so into every user event of the tracker:

    parse_data["signals"] = {"wants_person":      {"value": bool, "confidence": float},
                             "describes_problem": {"value": bool, "confidence": float}}
    parse_data["triage"]  = {"level": "P1".."P4", "confidence": float, ...}
    parse_data["language"] = {"code": "de" | "en" | "other" | None, "confidence": float}

- `wants_person`: the user asks for a human, also as a question ("is there a human who could
  look at this?", "kann mir da jemand persönlich helfen?"), also next to a problem report.
  Asking whether the bot is a human ("are you a human?", intent `bot_challenge`) is not.
- `describes_problem`: the message reports something that does not work (P1-P3 by the seed's
  definitions), whatever else it asks: "screen share is black, get me an agent" does, "I want
  an agent" and "how do I set up SSO?" do not.
- `triage`: the level the message's problem would get (for every message; meaningful when a
  problem is described), see `bot.triage`.

The actions read them with `wants_person(parse_data)`, `describes_problem(parse_data)` and
`problem_level(parse_data)`. Where the parse data lacks them (events stored before the
component existed, hand-written fixtures) they are computed from `parse_data["text"]` by the
same models.

Both flags are logistic regressions over word and character n-grams trained from the NLU
training data and the triage descriptions (`bot.nlu_models`); scored on held-out data by
`make evaluate`.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from bot.levels import PRIORITY_LEVELS

SIGNALS = "signals"
TRIAGE = "triage"
LANGUAGE = "language"
WANTS_PERSON = "wants_person"
DESCRIBES_PROBLEM = "describes_problem"
FLAGS = (WANTS_PERSON, DESCRIBES_PROBLEM)

REQUEST_HUMAN = "request_human"
# P4 cues of knowledge/triage.yml that mark a question, not what it is about.
QUESTION_CUES = frozenset({"can i", "kann man", "wie kann ich", "how can i", "frage", "fragen", "question",
                           "questions", "frage zu", "question about", "information", "information*", "info",
                           "infos", "is it possible", "ist es möglich", "is there a way", "gibt es eine möglichkeit"})
# A how-to question ("wie stell ich ein, dass ...", "how do we stop ...") names a need (P4 by the
# seed's definitions). Not a triage cue: as a model feature it cost the blind triage sets.
# "wie stelle ich ...", also after "ich möchte wissen," / "i'd like to know" / "i was wondering"
_HOW_TO = re.compile(
    r"(?i)^\W*(?:und\s+|and\s+)?"
    r"(?:(?:ich\s+(?:möchte?|möcht|will|wollte|würde\s+gern)\s+(?:gern\s+)?wissen|ich\s+wüsste\s+gern|"
    r"i(?:'d|\s+would)\s+like\s+to\s+know|i\s+want\s+to\s+know|i\s+was\s+wondering)\s*,?\s+)?"
    r"(?:wie|how)\s+(?:\w+\s+){0,2}(?:ich|man|wir|i|we|one|to)\b")


def analyse(texts: Sequence[str]) -> list[dict[str, Any]]:
    """The `signals` and `triage` parse data of each text (what the NLU component writes)."""
    from bot.nlu_models import nlu_models

    return [{SIGNALS: dict(found.flags), TRIAGE: found.triage.as_parse_data()}
            for found in nlu_models().analyse([text or "" for text in texts])]


# --------------------------------------------------------------------------- reading parse data

def _is_payload(text: str) -> bool:
    """A button payload ("/request_human"): Rasa sets the intent directly, no NLU ran."""
    return text.startswith("/")


def _completed(parse_data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The parse data with `signals` and `triage`, computed from its text where missing."""
    parse_data = parse_data or {}
    if isinstance(parse_data.get(SIGNALS), Mapping) and isinstance(parse_data.get(TRIAGE), Mapping):
        return parse_data
    text = str(parse_data.get("text") or "")
    if _is_payload(text):
        intent = (parse_data.get("intent") or {}).get("name") if isinstance(parse_data.get("intent"), Mapping) else None
        return {**parse_data,
                SIGNALS: {WANTS_PERSON: {"value": intent == REQUEST_HUMAN, "confidence": 1.0},
                          DESCRIBES_PROBLEM: {"value": False, "confidence": 1.0}},
                TRIAGE: parse_data.get(TRIAGE) or {"level": "P4", "confidence": 0.0}}
    return {**parse_data, **analyse([text])[0]}


def _flag(parse_data: Mapping[str, Any] | None, flag: str) -> bool:
    value = (_completed(parse_data).get(SIGNALS) or {}).get(flag)
    return bool(value.get("value")) if isinstance(value, Mapping) else False


def probability(parse_data: Mapping[str, Any] | None, flag: str) -> float:
    """The probability that `flag` holds (its confidence when set, the complement when not)."""
    value = (_completed(parse_data).get(SIGNALS) or {}).get(flag)
    if not isinstance(value, Mapping):
        return 0.0
    confidence = float(value.get("confidence") or 0.0)
    return confidence if value.get("value") else 1.0 - confidence


def wants_person(parse_data: Mapping[str, Any] | None) -> bool:
    """The user asks for a human (not: asks whether the bot is one)."""
    return _flag(parse_data, WANTS_PERSON)


def describes_problem(parse_data: Mapping[str, Any] | None) -> bool:
    """The message reports something that does not work, whatever else it asks."""
    return _flag(parse_data, DESCRIBES_PROBLEM)


def problem_level(parse_data: Mapping[str, Any] | None) -> str:
    """The triaged level P1..P4 of the message's problem."""
    level = (_completed(parse_data).get(TRIAGE) or {}).get("level")
    return level if level in PRIORITY_LEVELS else "P4"


def need_besides_request(text: str) -> bool:
    """The request for a person names a need too, question or not ("can I speak to someone?
    feature request: a dark mode", "wie stelle ich X ein? bitte an einen Mitarbeiter"): a clause
    other than the request itself names a case the seed's definitions rate, or the request names
    what it is about ("could someone help me configure SSO?"). "Can I speak with a support
    person?" names none: its "can I" only marks a question (`QUESTION_CUES`)."""
    from bot.knowledge import load_knowledge
    from bot.triage import cue_scorer_for

    parts, asking = _split_by_request(text)
    rest = [part for part in parts if part not in asking]
    if any(_HOW_TO.match(part) for part in rest):
        return True
    # the request itself may name it: "could someone walk me through setting up SSO?"
    return any(_names_case(part) for part in [*asking, " . ".join(rest)] if part)


def _names_case(text: str) -> bool:
    """A level cue of the cue scorer besides the question markers and the generic problem words
    ("can't" is a problem word, no level cue)."""
    from bot.knowledge import load_knowledge
    from bot.triage import cue_scorer_for

    scorer = cue_scorer_for(load_knowledge())
    found = scorer.score(text)
    generic = {cue.text for cue in scorer.problem.cues}
    return any(found.scores.values()) and bool(set(found.matched) - QUESTION_CUES - generic)


def without_request(text: str) -> str:
    """The text without its clauses that ask for a person (the problem to rate), or the whole
    text when every clause asks for one or it has just one. A request that names its case
    itself stays ("could someone walk me through configuring X? it's not urgent": the rating
    is of both, not of "it's not urgent" alone)."""
    parts, asking = _split_by_request(text)
    if all(part in asking for part in parts):
        return text
    return " . ".join(part for part in parts if part not in asking or _names_case(part))


def _split_by_request(text: str) -> tuple[list[str], list[str]]:
    """(the clauses of `text` in order, those of them that ask for a person); a text of one
    clause is its own only clause. One model call for all clauses."""
    from bot.nlu_models import clauses

    parts = clauses(text) or [text]
    return parts, [part for part, found in zip(parts, analyse(parts)) if wants_person({"text": part, **found})]
