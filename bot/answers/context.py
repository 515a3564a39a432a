"""What a renderer may know about the conversation, taken from a Rasa or rasa-sdk tracker."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from bot.language import conversation_language

Reply = Dict[str, Any]

# Follow-ups such as "und in Spanien?", "and P2?", "what about Premier+?" name only the new value;
# everything else they mean comes from the conversation so far (the slots).
_FOLLOW_UP = re.compile(
    r"^\s*(und|and|aber|but|also|auch|what about|how about|was ist mit|wie ist es mit|"
    r"wie sieht es mit|wie siehts mit|same for|dasselbe für|das gleiche für|gleiches für|for)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Context:
    """The latest user message, the conversation's language and its slots."""

    lang: str
    text: str = ""
    intent: Optional[str] = None
    intent_ranking: Tuple[Tuple[str, float], ...] = ()
    entities: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    slots: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_follow_up(self) -> bool:
        """A short or "and …?" message that relies on what was asked before."""
        return bool(_FOLLOW_UP.match(self.text)) or len(_WORD.findall(self.text)) <= 3

    def mentioned(self, entity: str) -> Tuple[str, ...]:
        """Values of `entity` named in the latest message, in order, without repeats."""
        return self.entities.get(entity, ())

    def recall(self, entity: str) -> Tuple[str, ...]:
        """Values named now, or for a follow-up the value remembered in the slot of that name."""
        now = self.mentioned(entity)
        if now:
            return now
        remembered = self.slots.get(entity)
        if remembered and self.is_follow_up:
            return (remembered,)
        return ()

    def remembered(self, entity: str) -> Tuple[str, ...]:
        """Values named now, else the slot's value whatever the message looked like."""
        now = self.mentioned(entity)
        if now:
            return now
        remembered = self.slots.get(entity)
        return (remembered,) if remembered else ()


def _group_entities(entities: Iterable[Mapping[str, Any]]) -> Dict[str, Tuple[str, ...]]:
    grouped: Dict[str, List[str]] = {}
    for entity in entities or ():
        kind, value = entity.get("entity"), entity.get("value")
        if kind and value is not None and value not in grouped.setdefault(kind, []):
            grouped[kind].append(str(value))
    return {kind: tuple(values) for kind, values in grouped.items()}


def _ranking(parse_data: Mapping[str, Any]) -> Tuple[Tuple[str, float], ...]:
    return tuple(
        (item.get("name"), float(item.get("confidence") or 0.0))
        for item in parse_data.get("intent_ranking") or ()
        if item.get("name")
    )


def build(
    user_turns: Sequence[Tuple[Optional[Mapping[str, Any]], Optional[Mapping[str, Any]]]],
    slots: Mapping[str, Any],
    values: Optional[Mapping[str, Any]] = None,
) -> Context:
    """A context from the user turns `(parse_data, metadata)` in order, and the slot values."""
    lang = conversation_language(user_turns)
    parse_data: Mapping[str, Any] = (user_turns[-1][0] or {}) if user_turns else {}
    return Context(
        lang=lang,
        text=parse_data.get("text") or "",
        intent=(parse_data.get("intent") or {}).get("name"),
        intent_ranking=_ranking(parse_data),
        entities=_group_entities(parse_data.get("entities") or ()),
        slots=dict(slots),
        values=dict(values or {}),
    )


def from_rasa_tracker(tracker: Any, values: Optional[Mapping[str, Any]] = None) -> Context:
    """A context from Rasa's `DialogueStateTracker` (in the Rasa process)."""
    from rasa.shared.core.events import UserUttered

    turns = [
        (dict(event.parse_data or {}, text=event.text), event.metadata)
        for event in tracker.applied_events()
        if isinstance(event, UserUttered)
    ]
    return build(turns, tracker.current_slot_values(), values)


def from_sdk_tracker(tracker: Any, values: Optional[Mapping[str, Any]] = None) -> Context:
    """A context from a rasa-sdk `Tracker` (in the action server)."""
    turns = [
        (dict(event.get("parse_data") or {}, text=event.get("text")), event.get("metadata"))
        for event in tracker.events
        if event.get("event") == "user"
    ]
    return build(turns, tracker.current_slot_values(), values)
