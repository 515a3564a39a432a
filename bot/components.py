"""Custom Rasa NLU components: language, entities from the knowledge data, the signals for the
actions (wants a person, describes a problem, triage level), secrets, and the intent
classifier's faster prediction.

None is trained by Rasa but the last: the entity and secret components are deterministic, the
signal models are trained from `data/` by `bot.signals` / `bot.triage` (cached under `var/nlu/`).
They load what they need once, when Rasa builds the pipeline, and then cost about a millisecond a
message. `LinearIntentClassifier` is Rasa's logistic regression, trained by Rasa as before.

Importing this module (every process that loads the model does) also bounds what the dialogue
policies see of a conversation to its latest turns: `bot.dialogue_window`.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import dialogue_window, language, matching, redaction, signals
from bot.knowledge import load_knowledge
from bot.nlu_models import nlu_models
from bot.settings import get_settings

LANGUAGE = "language"
HELP = "help"
# A placeholder token for messages with no word at all ("", "???"), see `NeverEmptyTokenizer`.
NO_WORDS_TOKEN = "__no_words__"
_WORD_CHARACTER = re.compile(r"\w")
SECRETS = "secrets"
SHARE_SECRET = "share_secret"


class _Untrained(GraphComponent):
    """Shared plumbing of the untrained components below."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = config

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class LanguageDetector(_Untrained):
    """Adds `language: {code, confidence}` to the parse data of every message: "de", "en",
    "other" (confidently neither: the bot says that it speaks German and English) or None.

    The conversation's language is decided from these per-message detections later
    (`bot.language.conversation_language`), so an unsure "ok" never flips it.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            detection = language.identify(message.get(TEXT) or "")
            message.set(
                LANGUAGE,
                {"code": detection.code, "confidence": round(detection.confidence, 3)},
                add_to_output=True,
            )
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class KnowledgeEntityExtractor(_Untrained, EntityExtractorMixin):
    """Finds countries, plans, priorities and plan features named in the knowledge data.

    Deterministic matching beats a learned extractor here: the vocabulary is closed (country
    names, cities, plan names) and must resolve even for names the training data never saw.
    """

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self.knowledge = load_knowledge()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = [
                {
                    ENTITY_ATTRIBUTE_TYPE: mention.entity,
                    ENTITY_ATTRIBUTE_VALUE: mention.value,
                    ENTITY_ATTRIBUTE_START: mention.start,
                    ENTITY_ATTRIBUTE_END: mention.end,
                    "confidence_entity": 1.0,
                }
                for mention in matching.find_mentions(message.get(TEXT) or "", self.knowledge)
            ]
            if found:
                entities = message.get(ENTITIES, []) + self.add_extractor_name(found)
                message.set(ENTITIES, entities, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SignalExtractor(_Untrained):
    """Adds `signals` (wants_person, describes_problem) and `triage` (P1..P4) to the parse data
    of every message (`bot.signals`): what the actions decide escalations on, whatever the
    intent ("Alles ist down, ich will sofort einen Mitarbeiter" asks for a person AND reports a
    P1 problem)."""

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        nlu_models()  # trained or loaded now, not on the first message

    def process(self, messages: List[Message]) -> List[Message]:
        texts = [message.get(TEXT) or "" for message in messages]
        texts = ["" if text == NO_WORDS_TOKEN else text for text in texts]
        for message, found in zip(messages, signals.analyse(texts)):
            message.set(signals.SIGNALS, found[signals.SIGNALS], add_to_output=True)
            message.set(signals.TRIAGE, found[signals.TRIAGE], add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SecretGuard(_Untrained):
    """Routes any message holding a host key, password or card number to `share_secret`.

    Placed after the classifiers and the FallbackClassifier (only WordlessMessageGuard, which
    leaves messages with words alone, comes later), so the warning wins over whatever else the
    message asked: the bot must never answer (and so never echo) such a message as if nothing
    happened.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            secrets = redaction.find_secrets(message.get(TEXT) or "")
            if not secrets:
                continue
            message.set(SECRETS, sorted({secret.kind for secret in secrets}), add_to_output=True)
            previous: Optional[Dict[Text, Any]] = message.get(INTENT)
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != SHARE_SECRET]
            forced = {INTENT_NAME_KEY: SHARE_SECRET, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, forced, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [forced] + ranking, add_to_output=True)
            if previous:
                message.set("intent_before_secret", previous, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class NeverEmptyTokenizer(WhitespaceTokenizer):
    """Rasa's whitespace tokenizer, but a message without text still gets one token.

    With an empty text some featurizers (RegexFeaturizer) add no features at all, and the
    classifier then fails on a feature matrix of the wrong width: "" would get no answer.
    The placeholder text reaches only the NLU pipeline; the tracker keeps what was sent.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not (message.get(TEXT) or "").strip():
                message.set(TEXT, NO_WORDS_TOKEN)
        return super().process(messages)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        return tokens or [Token(NO_WORDS_TOKEN, 0)]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class WordlessMessageGuard(_Untrained):
    """A message without a single word (empty, punctuation, emoji) gets the help menu.

    Nothing in it can be classified, and treating it as "not understood" would escalate a
    Premier+ user over an empty message.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text != NO_WORDS_TOKEN and _WORD_CHARACTER.search(text):
                continue
            forced = {INTENT_NAME_KEY: HELP, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, forced, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [forced], add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(LogisticRegressionClassifier):
    """Rasa's `LogisticRegressionClassifier`, trained and predicting the same, 10x faster a message.

    scikit-learn multiplies a message's sparse features by `coef_.T`; with `coef_` in C order that
    transpose is not contiguous, so scipy copies the whole matrix (intents x features, 15 000
    columns here) for every message: 3.5 ms of the classifier's 3.8. The same values in Fortran
    order make the transpose contiguous: 0.3 ms (docs/benchmarks.md, issue 12).
    """

    @classmethod
    def load(cls, *args: Any, **kwargs: Any) -> "LinearIntentClassifier":
        component = super().load(*args, **kwargs)
        coef = getattr(component.clf, "coef_", None)
        if coef is not None:
            component.clf.coef_ = np.asfortranarray(coef)
        return component


# The patches of Rasa internals, all in bot/dialogue_window.py: the policies see the latest turns.
dialogue_window.install(get_settings().dialogue_window_turns)
