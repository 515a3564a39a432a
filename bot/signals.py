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

from typing import Any, Mapping, Sequence

from bot.levels import PRIORITY_LEVELS

SIGNALS = "signals"
TRIAGE = "triage"
LANGUAGE = "language"
WANTS_PERSON = "wants_person"
DESCRIBES_PROBLEM = "describes_problem"
FLAGS = (WANTS_PERSON, DESCRIBES_PROBLEM)

REQUEST_HUMAN = "request_human"


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
