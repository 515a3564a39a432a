"""What a renderer may know about the conversation, taken from a Rasa or rasa-sdk tracker.

Context rules the renderers share:
- A value the latest message names wins; what it names only to negate it does not count
  ("Premier, nicht Standard", "Australia I meant, not Austria").
- A slot (what earlier questions were about) fills a gap only in an elliptic follow-up ("und in
  Spanien?", "and P2?", "und bei Premier+?"): a message that says what it asks about in words of
  its own ("Was beinhaltet Premier+?" after a phone question) is a full question and is answered
  as asked, never narrowed by the earlier topic.
- A correction ("sorry, Premier not Premier+") changes one value of the previous question: the
  rest is what that question named, or what it took from the slots when it was itself elliptic.
  An older topic that the previous question did not use stays out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from bot.language import conversation_language

Reply = Dict[str, Any]
CORRECTION = "correction"  # the intent of a change of mind that names a value (bot.components)
Turn = Tuple[Mapping[str, Any], Optional[Mapping[str, Any]]]

_WORD = re.compile(r"[\w+]+", re.UNICODE)
# Words that carry no topic of their own: an "und in Spanien?" or "what about Premier+?" made of
# these and the named values only is elliptic. Anything else ("beinhaltet", "phone", "kostet",
# "wer") says what the question is about.
_FILLER = frozenset(
    """
    und and aber but also auch oder or noch
    was what wie how ist is es it das the der die dem den des ein eine a an
    in im bei beim for für fürs from aus von vom mit with on at zu zur zum to of
    about mit über sieht siehts aus with gilt gleiche gleiches dasselbe same selbe
    ok okay bitte please pls plz denn dann then so da there hier here
    mal nun now jetzt eigentlich actually
    wo where euch uns ihr fur fuer ueber
    """.split()
)
# A negation right before a value ("nicht Standard", "not Austria", "statt Italien").
_NEGATION_BEFORE = re.compile(
    r"(?:\b(?:nicht|kein|keine|keinen|not|no|statt|anstatt|instead\s+of|rather\s+than|außer|except)"
    r"(?:\s+(?:in|im|bei|beim|für|for|the|das|der|die|dem|den))?\s*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Mention:
    entity: str
    value: str
    start: Optional[int]
    end: Optional[int]


@dataclass(frozen=True)
class Context:
    """The latest user message, the conversation's language, its slots and (when the NLG or an
    action looked it up) the signed-in user."""

    lang: str
    text: str = ""
    intent: Optional[str] = None
    intent_ranking: Tuple[Tuple[str, float], ...] = ()
    entities: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    slots: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    # where the latest message names values (any entity), as (start, end)
    spans: Tuple[Tuple[int, int], ...] = ()
    previous_intent: Optional[str] = None
    previous_text: str = ""
    # values the previous user message named, by entity (what a correction keeps)
    previous_entities: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    # the previous user message was itself elliptic (it relied on the slots)
    previous_elliptic: bool = False
    # language code of the latest message as detected ("other": neither German nor English)
    message_language: Optional[str] = None
    # bot.users.KnownUser of the signed-in user, None when anonymous or not looked up
    user: Any = None

    @property
    def is_follow_up(self) -> bool:
        """An elliptic message that relies on what was asked before ("und in Spanien?"), or a
        correction of one value of it ("sorry, Premier not Premier+": the rest of the question
        stands)."""
        return self.intent == CORRECTION or elliptic(self.text, self.spans)

    def mentioned(self, entity: str) -> Tuple[str, ...]:
        """Values of `entity` named in the latest message, in order, without repeats."""
        return self.entities.get(entity, ())

    def recall(self, entity: str) -> Tuple[str, ...]:
        """Values named now, or for an elliptic follow-up the value remembered in the slot."""
        now = self.mentioned(entity)
        if now:
            return now
        if self.intent == CORRECTION and not self.previous_elliptic:
            return self.previous_entities.get(entity, ())
        remembered = self.slots.get(entity)
        if remembered and self.is_follow_up:
            return (remembered,)
        return ()

    def recall_on_topic(self, entity: str, topic_intent: str) -> Tuple[str, ...]:
        """Like `recall`, and also when the message stays on the previous message's topic
        ("Telefonnummer Schweiz", then "und die Durchwahl?" or "what do I need when I call?")."""
        now = self.recall(entity)
        if now:
            return now
        remembered = self.slots.get(entity)
        on_topic = self.previous_intent == topic_intent or (
            self.previous_intent == CORRECTION and entity in self.previous_entities)  # "no wait, the UK"
        if remembered and self.intent == topic_intent and on_topic:
            return (remembered,)
        return ()


def elliptic(text: str, spans: Sequence[Tuple[int, int]] = ()) -> bool:
    """True when `text` names values and nothing else but filler words."""
    rest = text or ""
    for start, end in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    words = [word.lower() for word in _WORD.findall(rest) if not word.isdigit()]
    return all(word in _FILLER for word in words)


def negated(text: str, start: Optional[int]) -> bool:
    """True when the value starting at `start` is named only to be negated."""
    if start is None or not text:
        return False
    return bool(_NEGATION_BEFORE.search(text[max(0, start - 20):start]))


def _mentions(text: str, entities: Iterable[Mapping[str, Any]]) -> List[Mention]:
    found = []
    for entity in entities or ():
        kind, value = entity.get("entity"), entity.get("value")
        if kind and value is not None:
            found.append(Mention(str(kind), str(value), entity.get("start"), entity.get("end")))
    return found


def _group(text: str, mentions: Sequence[Mention]) -> Dict[str, Tuple[str, ...]]:
    """Named values by entity, in order, without repeats and without negated ones (unless every
    value of that entity is negated: then the message is about those after all)."""
    grouped: Dict[str, List[str]] = {}
    negated_only: Dict[str, List[str]] = {}
    for mention in mentions:
        target = negated_only if negated(text, mention.start) else grouped
        values = target.setdefault(mention.entity, [])
        if mention.value not in values:
            values.append(mention.value)
    for kind, values in negated_only.items():
        grouped.setdefault(kind, values)
    return {kind: tuple(values) for kind, values in grouped.items()}


def _spans(mentions: Sequence[Mention]) -> Tuple[Tuple[int, int], ...]:
    return tuple((m.start, m.end) for m in mentions if m.start is not None and m.end is not None)


def _ranking(parse_data: Mapping[str, Any]) -> Tuple[Tuple[str, float], ...]:
    return tuple(
        (item.get("name"), float(item.get("confidence") or 0.0))
        for item in parse_data.get("intent_ranking") or ()
        if item.get("name")
    )


def _intent(parse_data: Optional[Mapping[str, Any]]) -> Optional[str]:
    return ((parse_data or {}).get("intent") or {}).get("name")


def build(
    user_turns: Sequence[Tuple[Optional[Mapping[str, Any]], Optional[Mapping[str, Any]]]],
    slots: Mapping[str, Any],
    values: Optional[Mapping[str, Any]] = None,
    user: Any = None,
) -> Context:
    """A context from the user turns `(parse_data, metadata)` in order, and the slot values."""
    lang = conversation_language(user_turns)
    parse_data: Mapping[str, Any] = (user_turns[-1][0] or {}) if user_turns else {}
    previous = user_turns[-2][0] if len(user_turns) > 1 else None
    text = parse_data.get("text") or ""
    mentions = _mentions(text, parse_data.get("entities") or ())
    previous_text = (previous or {}).get("text") or ""
    previous_mentions = _mentions(previous_text, (previous or {}).get("entities") or ())
    return Context(
        lang=lang,
        text=text,
        intent=_intent(parse_data),
        intent_ranking=_ranking(parse_data),
        entities=_group(text, mentions),
        slots=dict(slots),
        values=dict(values or {}),
        spans=_spans(mentions),
        previous_intent=_intent(previous),
        previous_text=previous_text,
        previous_entities=_group(previous_text, previous_mentions),
        previous_elliptic=bool(previous_mentions) and elliptic(previous_text, _spans(previous_mentions)),
        message_language=((parse_data.get("language") or {}).get("code")),
        user=user,
    )


def rasa_user_turns(tracker: Any) -> List[Turn]:
    """The user turns `(parse_data, metadata)` of a Rasa tracker's applied events, oldest first.

    Of a long conversation only the turns of the policies' window (`bot.dialogue_window.recent`,
    whose applied events are the whole tracker's latest) when they decide what the renderers
    read from older turns: the conversation's language is that of the latest confident detection
    (`conversation_language`), so a window holding one gives the same. Otherwise all turns.
    (The identity token of an older turn: `bot.nlg.latest_identity_token`.)
    """
    from bot.dialogue_window import recent
    from bot.language import is_confident
    from bot.settings import get_settings

    window = recent(tracker, get_settings().dialogue_window_turns)
    if window is not tracker:
        turns = user_turns(window.applied_events())
        if any(is_confident(parse_data.get("language")) for parse_data, _ in turns):
            return turns
    return user_turns(tracker.applied_events())


def user_turns(events: Sequence[Any]) -> List[Turn]:
    """The user turns `(parse_data, metadata)` among Rasa events, oldest first."""
    from rasa.shared.core.events import UserUttered

    return [(dict(event.parse_data or {}, text=event.text), event.metadata)
            for event in events if isinstance(event, UserUttered)]


def from_rasa_tracker(tracker: Any, values: Optional[Mapping[str, Any]] = None, user: Any = None) -> Context:
    """A context from Rasa's `DialogueStateTracker` (in the Rasa process)."""
    return build(rasa_user_turns(tracker), tracker.current_slot_values(), values, user)


def from_sdk_tracker(tracker: Any, values: Optional[Mapping[str, Any]] = None, user: Any = None) -> Context:
    """A context from a rasa-sdk `Tracker` (in the action server)."""
    turns = [
        (dict(event.get("parse_data") or {}, text=event.get("text")), event.get("metadata"))
        for event in tracker.events
        if event.get("event") == "user"
    ]
    return build(turns, tracker.current_slot_values(), values, user)
