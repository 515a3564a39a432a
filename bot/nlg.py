"""`KnowledgeNLG`: renders every `utter_*` response inside the Rasa process.

Configured in `endpoints.yml` (`nlg: type: bot.nlg.KnowledgeNLG`). A response with a renderer in
`bot.answers` is rendered from the knowledge data; any other `utter_<key>` is the message `<key>`
of the catalog (`bot/messages/*.yml`), in the conversation's language, its placeholders filled
from the values an action passed along. Doing this in-process saves the action server round trip
that a custom action would cost on every FAQ answer, and keeps a form's questions (`utter_ask_*`)
in-process too.

A renderer that tailors its answer to the signed-in user (`needs_user = True`, e.g. the phone
answer) gets the user looked up here, through `bot.users` (cached per user).

A message the NLU found to be in neither German nor English (language code `other`) gets the
short bilingual note that the bot speaks German and English first, then the answer.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import re
from dataclasses import replace
from typing import Any, Dict, Optional, Text

from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.trackers import DialogueStateTracker

from bot import messages, users
from bot.language import OTHER, conversation_language
from bot.answers import renderers
from bot.answers.context import build, rasa_user_turns, user_turns

logger = logging.getLogger(__name__)

UTTER_PREFIX = "utter_"
REPEAT_IN_LANGUAGE = "utter_repeat_in_language"


class KnowledgeNLG(NaturalLanguageGenerator):
    """Rasa NLG rendering from `bot.answers` and `bot/messages/`, domain responses as last resort."""

    def __init__(self, endpoint_config: Any = None, domain: Any = None) -> None:
        self.renderers = renderers()
        self.catalog = messages.load_catalog()
        self.domain_responses = TemplatedNaturalLanguageGenerator(domain.responses if domain else {})

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        if utter_action == REPEAT_IN_LANGUAGE:
            return await self._repeat_in_language(tracker, output_channel, **kwargs)
        key = utter_action[len(UTTER_PREFIX):] if utter_action.startswith(UTTER_PREFIX) else utter_action
        if self.renderers.get(utter_action) is None and key not in self.catalog:
            return await self.domain_responses.generate(utter_action, tracker, output_channel, **kwargs)
        turns = rasa_user_turns(tracker)
        reply, context = await self._render(utter_action, turns, tracker, kwargs)
        if context.message_language == OTHER and not _replied_since_user(tracker):
            return _with_language_note(reply)
        return reply

    async def _render(self, utter_action: Text, turns: list, tracker: DialogueStateTracker,
                      values: Dict[Text, Any], lang: Optional[str] = None) -> tuple[Dict[Text, Any], Any]:
        """The reply of `utter_action` to the user turns `turns` (in `lang` if given)."""
        key = utter_action[len(UTTER_PREFIX):] if utter_action.startswith(UTTER_PREFIX) else utter_action
        renderer = self.renderers.get(utter_action)
        user = None
        if renderer is not None and getattr(renderer, "needs_user", False):
            token = (users.latest_identity_token(metadata for _, metadata in turns)
                     or latest_identity_token(tracker))
            if token:
                user = await asyncio.to_thread(users.lookup, token)
        context = build(turns, tracker.current_slot_values(), values, user)
        if lang:
            context = replace(context, lang=lang)
        if renderer is not None:
            return renderer(context), context
        return {"text": messages.render(key, context.lang, **_fillable(values))}, context

    async def _repeat_in_language(self, tracker: DialogueStateTracker, output_channel: Text,
                                  **kwargs: Any) -> Dict[Text, Any]:
        """"Kannst du das auf Deutsch sagen?": the previous answer again, rendered from the message
        it answered, in the language asked for (else the conversation's). An answer this NLG did
        not render (an action's) gets a fresh start in that language instead."""
        turns = rasa_user_turns(tracker)
        lang = asked_language(turns[-1][0].get("text") if turns else "") or conversation_language(turns)
        previous, answered = _previous_answer(tracker)
        key = (previous or "")[len(UTTER_PREFIX):]
        if previous and answered and (previous in self.renderers or key in self.catalog):
            reply, _ = await self._render(previous, answered, tracker, kwargs, lang=lang)
            return reply
        return {"text": messages.render("repeat_in_language_fresh", lang)}


_ASKED = (("de", re.compile(r"(?i)\b(deutsch\w*|german)\b")), ("en", re.compile(r"(?i)\b(englisch\w*|english)\b")))


def asked_language(text: str) -> Optional[str]:
    """The language a message asks for by name ("auf Deutsch", "in English"), None if it names none."""
    found = [code for code, pattern in _ASKED if pattern.search(text or "")]
    return found[0] if len(found) == 1 else None


def _previous_answer(tracker: DialogueStateTracker) -> tuple[Optional[str], list]:
    """The last `utter_*` this NLG rendered before the latest user message (a repeat passed over:
    "auf Deutsch", then "and in English?" both mean the answer before), and the user turns up to
    the message it answered. None when the last answer was an action's (the TAM's, the account's):
    repeating an older one instead would answer something else."""
    from rasa.shared.core.events import BotUttered, UserUttered

    events = tracker.applied_events()
    latest_user = max((i for i, e in enumerate(events) if isinstance(e, UserUttered)), default=-1)
    for index in range(latest_user - 1, -1, -1):
        event = events[index]
        if not isinstance(event, BotUttered):
            continue
        action = (event.metadata or {}).get("utter_action")
        if action == REPEAT_IN_LANGUAGE:
            continue
        if not action:
            return None, []  # an action's answer: not this NLG's to render again (never an older one)
        return action, user_turns(events[:index])
    return None, []


_TOKEN_SCAN = "identity_token"  # in a tracker's shared memo: a `_TokenScan`


class _TokenScan:
    """How far the events of a tracker (and of its copies) were scanned for an identity token."""

    __slots__ = ("scanned", "last", "token")

    def __init__(self) -> None:
        self.scanned, self.last, self.token = 0, None, None


def latest_identity_token(tracker: DialogueStateTracker) -> Optional[str]:
    """The identity token of the latest user message of the tracker that carries one.

    For a turn older than the user turns the renderers get (`rasa_user_turns`: the policies'
    window of a long conversation). Events are only appended, so what was found is kept in the
    tracker's shared memo (`bot.dialogue_window.shared_memo`: the NLG renders on Rasa's copy of
    the tracker, and the scan must outlive it) and only later events are read; a tracker whose
    events are not the scanned ones followed by others is scanned from its start.
    """
    from rasa.shared.core.events import UserUttered

    from bot.dialogue_window import shared_memo

    events = tracker.events
    memo = shared_memo(tracker)
    scan = memo.get(_TOKEN_SCAN)
    if scan is None or scan.scanned > len(events) or (scan.scanned and events[scan.scanned - 1] is not scan.last):
        scan = memo[_TOKEN_SCAN] = _TokenScan()
    for event in itertools.islice(events, scan.scanned, None):
        if event.type_name == UserUttered.type_name:
            found = users.latest_identity_token([event.metadata])
            scan.token = found or scan.token
    if events:
        scan.scanned, scan.last = len(events), events[-1]
    return scan.token


def _replied_since_user(tracker: DialogueStateTracker) -> bool:
    """True when the bot already said something to the latest user message."""
    from rasa.shared.core.events import BotUttered, UserUttered

    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered):
            return True
    return False


def _with_language_note(reply: Dict[Text, Any]) -> Dict[Text, Any]:
    """The bilingual note before the first reply to a message in another language."""
    if not reply.get("text"):
        return reply
    return {**reply, "text": messages.with_other_language_note(reply["text"])}


def _fillable(values: Dict[Text, Any]) -> Dict[Text, Any]:
    """The values an action passed along, without Rasa's own bookkeeping."""
    return {name: value for name, value in values.items() if name not in _RESPONSE_FIELDS}


# Fields of an action's response dict that Rasa hands to `generate` next to the action's values.
_RESPONSE_FIELDS = frozenset(
    {"response", "template", "text", "buttons", "elements", "custom", "image", "attachment",
     "quick_replies", "json_message", "channel"}
)
