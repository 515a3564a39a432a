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
from typing import Any, Dict, Optional, Text

from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.trackers import DialogueStateTracker

from bot import messages, users
from bot.language import OTHER
from bot.answers import renderers
from bot.answers.context import build, rasa_user_turns

logger = logging.getLogger(__name__)

UTTER_PREFIX = "utter_"


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
        key = utter_action[len(UTTER_PREFIX):] if utter_action.startswith(UTTER_PREFIX) else utter_action
        renderer = self.renderers.get(utter_action)
        if renderer is None and key not in self.catalog:
            return await self.domain_responses.generate(utter_action, tracker, output_channel, **kwargs)
        turns = rasa_user_turns(tracker)
        user = None
        if renderer is not None and getattr(renderer, "needs_user", False):
            token = (users.latest_identity_token(metadata for _, metadata in turns)
                     or latest_identity_token(tracker))
            if token:
                user = await asyncio.to_thread(users.lookup, token)
        context = build(turns, tracker.current_slot_values(), kwargs, user)
        if renderer is not None:
            reply = renderer(context)
        else:
            reply = {"text": messages.render(key, context.lang, **_fillable(kwargs))}
        if context.message_language == OTHER and not _replied_since_user(tracker):
            return _with_language_note(reply)
        return reply


_TOKEN_SCAN = "_bolt_identity_token"  # on a tracker: (events scanned, the last of them, token)


def latest_identity_token(tracker: DialogueStateTracker) -> Optional[str]:
    """The identity token of the latest user message of the tracker that carries one.

    For a turn older than the user turns the renderers get (`rasa_user_turns`: the policies'
    window of a long conversation). Events are only appended, so what was found is kept on the
    tracker (copies share it, `bot.dialogue_window.copy_tracker`) and only later events are read.
    """
    from rasa.shared.core.events import UserUttered

    events = tracker.events
    scanned, last, token = getattr(tracker, _TOKEN_SCAN, (0, None, None))
    if scanned > len(events) or (scanned and events[scanned - 1] is not last):
        scanned, token = 0, None
    for event in itertools.islice(events, scanned, None):
        if event.type_name == UserUttered.type_name:
            found = users.latest_identity_token([event.metadata])
            token = found or token
    if events:
        setattr(tracker, _TOKEN_SCAN, (len(events), events[-1], token))
    return token


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
