"""`KnowledgeNLG`: renders every `utter_*` response inside the Rasa process.

Configured in `endpoints.yml` (`nlg: type: bot.nlg.KnowledgeNLG`). A response with a renderer in
`bot.answers` is rendered from the knowledge data; any other `utter_<key>` is the message `<key>`
of the catalog (`bot/messages/*.yml`), in the conversation's language, its placeholders filled
from the values an action passed along. Doing this in-process saves the action server round trip
that a custom action would cost on every FAQ answer.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.trackers import DialogueStateTracker

from bot import messages
from bot.answers import renderers
from bot.answers.context import from_rasa_tracker

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
        context = from_rasa_tracker(tracker, kwargs)
        if renderer is not None:
            return renderer(context)
        return {"text": messages.render(key, context.lang, **_fillable(kwargs))}


def _fillable(values: Dict[Text, Any]) -> Dict[Text, Any]:
    """The values an action passed along, without Rasa's own bookkeeping."""
    return {name: value for name, value in values.items() if name not in _RESPONSE_FIELDS}


# Fields of an action's response dict that Rasa hands to `generate` next to the action's values.
_RESPONSE_FIELDS = frozenset(
    {"response", "template", "text", "buttons", "elements", "custom", "image", "attachment",
     "quick_replies", "json_message", "channel"}
)
