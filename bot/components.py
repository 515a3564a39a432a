"""Custom Rasa NLU components: language, entities from the knowledge data, the signals for the
actions (wants a person, describes a problem, triage level), secrets, and the intent
classifier's faster prediction.

None is trained by Rasa but the last: the entity and secret components are deterministic, the
signal models are trained from `data/` by `bot.signals` / `bot.triage` (cached under `var/nlu/`).
They load what they need once, when Rasa builds the pipeline, and then cost about a millisecond a
message. `LinearIntentClassifier` is Rasa's logistic regression, trained by Rasa as before.

Importing this module (every process that loads the model does) also bounds what the dialogue
policies see of a conversation to its latest turns (`bot.dialogue_window`), runs the
prediction graph without dask's scheduler (`bot.graph_runner`), indexes RulePolicy's rules
(`bot.rule_lookup`), computes a tracker's past states once for all policies
(`bot.policy_states`) and skips two needless costs of every message (`bot.hot_path`).
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
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack, vstack

from bot import dialogue_window, graph_runner, hot_path, language, matching, policy_states, redaction, rule_lookup, signals
from bot.answers.context import CORRECTION, elliptic
from bot.answers.plans import is_question
from bot.answers.rights import profile
from bot.knowledge import load_knowledge
from bot.nlu_models import clauses as nlu_clauses, nlu_models
from bot.settings import get_settings

LANGUAGE = "language"
HELP = "help"
# A placeholder token for messages with no word at all ("", "???"), see `NeverEmptyTokenizer`.
NO_WORDS_TOKEN = "__no_words__"
_WORD_CHARACTER = re.compile(r"\w")
SECRETS = "secrets"
SHARE_SECRET = "share_secret"


def force_intent(message: Message, name: Text, keep_as: Text) -> None:
    """Make `name` the message's intent (confidence 1, first in the ranking); the classifier's
    intent it replaces stays in the parse data under `keep_as`."""
    previous: Optional[Dict[Text, Any]] = message.get(INTENT)
    forced = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, forced, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [forced] + ranking, add_to_output=True)
    if previous:
        message.set(keep_as, previous, add_to_output=True)


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


# Intents whose answer serves nobody who asks for a person in the same message ("Bin Admin,
# stell mich zu Tier 2 durch ..." read as a question about one's own support, "put me through to
# someone who knows what they're doing" as out of scope, "bist du ein Bot? dann will ich einen
# Menschen" as the question whether the bot is human): with the wants_person signal they
# become `request_human`. FAQ intents are not among them: "Wer darf den Live-Chat nutzen?" is
# answered as asked.
PERSON_OVERRIDABLE = frozenset({"out_of_scope", "nlu_fallback", "ask_my_support", "greet", "help", "bot_challenge"})
# An FAQ intent too, when the message also describes a problem or names another need: "I'm an
# admin with Premier, the reactions button does nothing, get me an agent" is no plan question,
# nor is "wie stelle ich X ein? würde das gern mit jemandem im Chat klären".
FAQ_PREFIX = "ask_"
# A change of mind that names a value ("scratch that, P1", "nee, Spanien") corrects the previous
# answer instead of cancelling it.
CORRECTABLE = frozenset({"cancel", "deny", "leave_queue"})  # "no wait, the United Kingdom"
CORRECTED_ENTITIES = frozenset({"country", "plan", "priority"})
# A question about who may chat with an agent ("wer darf den Live-Chat mit einem Mitarbeiter
# nutzen?", "can people with a free account chat with a live agent?") asks for the rule, not for
# a person: answered as `ask_live_chat`. Not when the asker speaks of themselves ("kann ich als
# Admin mit jemandem sprechen?": that stays a request), unless the question is about the live
# chat and the signals see no request ("komm ich mit nem kostenlosen Konto an den Live-Chat ran?").
RIGHTS_QUESTION = "ask_live_chat"
OWN_SUPPORT = "ask_my_support"  # the same question taken for one about the asker's own support
LIVE_CHAT = "tier1_chat"
# Asking to speak with one's technical account manager is a question for `ask_tam` (who it is,
# for Premier+), not a request for the queue: the classifier takes it for either.
ASK_TAM = "ask_tam"
TAM = "technical_account_manager"
TAM_OVERRIDABLE = frozenset({"request_human", "report_problem", "out_of_scope", "nlu_fallback"})
_WHO_MAY = re.compile(r"(?i)^\W*(und\s+|and\s+)?(wer|who|which\s+(users|people|accounts|members|plans))\b")
# The FAQ intents whose answer is about one entity's values: between two of them, an ambiguity
# fallback is decided by the entity the message names.
FALLBACK = "nlu_fallback"
TOPIC_ENTITY = {"ask_plan": "plan", "ask_phone": "country", "ask_priority": "priority"}
# A message about a country and nothing else asks for its phone number (`_asks_for_a_country`),
# whatever the classifier made of a bare "CH" or "aus Zürich".
ASK_PHONE = "ask_phone"
ASK_PLAN = "ask_plan"
REPORT_PROBLEM = "report_problem"
COUNTRY_OVERRIDABLE = frozenset({FALLBACK, "out_of_scope", "ask_plan", "ask_priority", "greet", "thanks",
                                 "affirm", "deny", "goodbye", "help", REPORT_PROBLEM})
_PHONE_WORD = re.compile(r"(?i)\b(\w*nummer\w*|number|hotline|phone|telefon\w*|anruf\w*|call)\b")
BOT_CHALLENGE = "bot_challenge"
# A level named in a question is asked about, not chosen ("was ist eigentlich P1?").
SET_PRIORITY = "set_priority"
ASK_PRIORITY = "ask_priority"
_QUESTION_WORD_FIRST = re.compile(r"(?i)^\W*(?:\w+\W+){0,2}?(?:was|wie|welche\w*|wann|what|how|which|when)\b")
# A request put politely as a question ("would it be possible to chat with a member of your
# team?", "wäre es möglich, mit jemandem zu sprechen?") asks for a person, not for the rule.
_POLITE_REQUEST = re.compile(r"(?i)\bwould\s+it\s+be\s+possible\b|\b(?:wäre|ist)\s+es\s+(?:eventuell\s+|vielleicht\s+)?möglich\b|"
                             r"\bi\s+was\s+wondering\s+if\b|\bkönnte\s+ich\s+(?:eventuell\s+|vielleicht\s+|bitte\s+)?(?:mit|einen|eine)\b")
# "ich mein UK", "I mean Spain": the words of a correction, with the value it corrects to
CORRECTION_OVERRIDABLE = frozenset({FALLBACK, "out_of_scope", "goodbye", "affirm", "thanks", "greet"})
_CORRECTION_CUE = re.compile(r"(?i)\b(ich\s+mein\w*|meinte\s+ich|i\s+mean[t]?|meant|gemeint)\b")
# wants_person confidence a confident bot_challenge needs to become a request: identity questions
# score 0.5-0.55 for their "human", a request next to one 0.75 and more (the blind sets of round D).
BOT_CHALLENGE_REQUEST = 0.7
COURTESY = frozenset({"thanks", "affirm", "greet"})
# A word that names the priority topic without a level ("prio für einen Wunsch: ...").
TOPIC_WORDS = {"ask_priority": re.compile(r"(?i)\b(prio|prios|priorit(ä|ae|a)t\w*|priority|priorities|severity|einstuf\w*)\b")}
# In another language ("¿tienen soporte en español? necesito ayuda"), an escalation intent
# that neither signal confirms is the classifier guessing from words it was never trained on:
# out of scope, so the reply is the note that the bot speaks German and English.
UNREAD_ESCALATIONS = frozenset({"request_human", "report_problem"})
OUT_OF_SCOPE = "out_of_scope"
# "Ich möchte ein Webticket aufmachen", "Webticket bitte", "I'd like to file a ticket": a wish for
# a ticket, not a question about tickets, starts the ticket form as its button does (the
# `ticket_start` entity of `/open_ticket{"ticket_start":"here"}`). Questions stay answered.
OPEN_TICKET = "open_ticket"
TICKET_START = "ticket_start"
_NAMES_TICKET = re.compile(r"(?i)ticket")
# "im on the free basic account can i chat with a live agent": a yes/no question after a clause
_MODAL_QUESTION = re.compile(r"(?i)\b(can|could|may|do|am)\s+(i|we)\b|\b(kann|darf|könnte|dürfte|kriege?|bekomme)\s+ich\b|"
                             r"\b(können|dürfen|kriegen|bekommen)\s+wir\b")
_FIRST_PERSON = re.compile(r"(?i)\b(ich|mich|mir|mein\w*|wir|uns|unser\w*|i|me|my|we|us|our|i'm|im)\b")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class IntentRouter(_Untrained):
    """Replaces the classifier's intent where the signals or the entities say more about what the
    message asks: a request for a person the intent missed (`PERSON_OVERRIDABLE`, or an FAQ
    intent with a problem or another need), a question about who may chat with an agent taken
    for a request (`RIGHTS_QUESTION`), speaking with the TAM (`ask_tam`), an ambiguity fallback
    the named entity decides (`TOPIC_ENTITY`), an escalation intent guessed from another
    language (`UNREAD_ESCALATIONS`) and a change of mind naming a country, plan or priority (a
    `correction`); a wish for a web ticket starts the ticket form (`TICKET_START`). The intent
    it replaced stays in the parse data as `routed_from`. Runs after the FallbackClassifier (it
    sees `nlu_fallback`) and before SecretGuard (a secret still wins)."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent: Optional[Dict[Text, Any]] = message.get(INTENT)
            name = (intent or {}).get(INTENT_NAME_KEY)
            if name == OPEN_TICKET:
                self._start_ticket(message)
            routed = self._route(message, name)
            if routed is None or routed == name:
                continue
            force_intent(message, routed, keep_as="routed_from")
        return messages

    @staticmethod
    def _start_ticket(message: Message) -> None:
        text = message.get(TEXT) or ""
        entities = message.get(ENTITIES) or []
        if is_question(text) or not _NAMES_TICKET.search(text) or any(
                entity.get(ENTITY_ATTRIBUTE_TYPE) == TICKET_START for entity in entities):
            return
        # Exactly what the button sends: the rules match a message's entities as a whole, so a
        # plan feature the words name too ("Webticket") would keep the form from starting.
        start = {ENTITY_ATTRIBUTE_TYPE: TICKET_START, ENTITY_ATTRIBUTE_VALUE: "here",
                 ENTITY_ATTRIBUTE_START: 0, ENTITY_ATTRIBUTE_END: len(text), "extractor": "IntentRouter"}
        message.set(ENTITIES, [start], add_to_output=True)

    @staticmethod
    def _route(message: Message, intent: Optional[str]) -> Optional[Text]:
        found = {TEXT: message.get(TEXT), signals.SIGNALS: message.get(signals.SIGNALS),
                 signals.TRIAGE: message.get(signals.TRIAGE)}
        text = found[TEXT] or ""
        return _person_route(message, intent, found, text) or _topic_route(message, intent, found, text)


def _person_route(message: Message, intent: Optional[str], found: Dict[Text, Any], text: str) -> Optional[Text]:
    """Whether the message asks for a person (`request_human`), or only asks who may have one
    (`RIGHTS_QUESTION`); an ambiguity fallback the entities or the request signal decide."""
    routed = intent
    if intent in PERSON_OVERRIDABLE and _wants_person_over(message, intent, found):
        routed = signals.REQUEST_HUMAN
    elif intent == FALLBACK and (resolved := _resolved_by_entities(message) or _resolved_by_request(message, found)):
        return resolved
    elif ((intent or "").startswith(FAQ_PREFIX) and signals.wants_person(found)
            and (signals.describes_problem(found) or signals.need_besides_request(text))):
        routed = signals.REQUEST_HUMAN
    if routed != signals.REQUEST_HUMAN:
        return None
    if not signals.describes_problem(found) and not _POLITE_REQUEST.search(text) and (
            _asks_who_may(text) or _asks_if_allowed(message, text, found)):
        return RIGHTS_QUESTION
    return routed if routed != intent else None


def _topic_route(message: Message, intent: Optional[str], found: Dict[Text, Any], text: str) -> Optional[Text]:
    """What the message is about when the classifier's intent misses it: the TAM, a plan, the
    rule for live chat, another language, a correction, a country's number, a level."""
    if intent in TAM_OVERRIDABLE and _names_feature(message, TAM) and not signals.describes_problem(found):
        return ASK_TAM  # "kann ich direkt mit unserer technischen Kundenbetreuerin sprechen?"
    if intent == OWN_SUPPORT and _names_only_plans(message):
        return ASK_PLAN  # "we pay for Premier+, what do we actually get?": the plan named is the topic
    if intent == OWN_SUPPORT and _names_live_chat(message) and (_asks_who_may(text) or profile(text).names_someone):
        # "wer darf eigentlich den Live-Chat nutzen?" is not about the asker; "darf ich als nicht
        # lizenziertes Mitglied den Chat nutzen?" names whom the rule is asked for
        return RIGHTS_QUESTION
    if (intent in UNREAD_ESCALATIONS and (message.get(LANGUAGE) or {}).get("code") == language.OTHER
            and not signals.wants_person(found) and not signals.describes_problem(found)):
        return OUT_OF_SCOPE  # the bilingual note, no escalation on words it cannot read
    if _names_corrected_value(message) and (
            intent in CORRECTABLE or (intent in CORRECTION_OVERRIDABLE and _CORRECTION_CUE.search(text))):
        return CORRECTION  # "nee, doch Spanien", "no wait, the UK", "ich mein UK"
    if intent in COUNTRY_OVERRIDABLE and _asks_for_a_country(message, text, intent):
        return ASK_PHONE
    if intent == SET_PRIORITY and _QUESTION_WORD_FIRST.search(text):
        return ASK_PRIORITY  # "was ist eigentlich P1?" asks about the level, sets nothing
    return None


def _names_corrected_value(message: Message) -> bool:
    return any(entity.get(ENTITY_ATTRIBUTE_TYPE) in CORRECTED_ENTITIES for entity in message.get(ENTITIES) or [])


def _wants_person_over(message: Message, intent: Optional[str], found: Dict[Text, Any]) -> bool:
    """The wants_person signal overrides `intent`; a confident question whether the bot is a
    person needs a clear request besides ("bist du ein Bot? dann will ich einen Menschen"): the
    word "Mensch" alone lifts the signal a little."""
    if intent == BOT_CHALLENGE and float((message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY) or 0) >= 0.5:
        return signals.probability(found, signals.WANTS_PERSON) >= BOT_CHALLENGE_REQUEST
    return signals.wants_person(found)


def _resolved_by_request(message: Message, found: Dict[Text, Any]) -> Optional[Text]:
    """An ambiguity fallback between a request for a person and another intent, decided by the
    wants_person signal ("quick question are you human": no request, so the other one)."""
    ranking = [r.get(INTENT_NAME_KEY) for r in message.get(INTENT_RANKING_KEY) or []
               if r.get(INTENT_NAME_KEY) != FALLBACK][:2]
    if len(ranking) == 2 and signals.REQUEST_HUMAN in ranking and not signals.wants_person(found):
        return next(intent for intent in ranking if intent != signals.REQUEST_HUMAN)
    return None


def _asks_for_a_country(message: Message, text: str, intent: Optional[str]) -> bool:
    """A country is the phone numbers' topic: a message naming one and nothing else ("CH",
    "und Zürich?") asks for its number, and so does a plan question that names a country but no
    plan ("Telefon-Support mexikanische Niederlassung?"), and a problem report with a question
    for the number in it."""
    named = [entity for entity in message.get(ENTITIES) or [] if entity.get(ENTITY_ATTRIBUTE_TYPE) != "feature"]
    kinds = {entity.get(ENTITY_ATTRIBUTE_TYPE) for entity in named}
    if "country" not in kinds or kinds & {"plan", "priority"}:
        return False
    if intent == ASK_PLAN:
        return True
    if intent == REPORT_PROBLEM:
        # "error 104103 when starting, just me. whats the support number for germany": a problem
        # told as the reason for a question about the number
        return any(_PHONE_WORD.search(part) and is_question(part) for part in nlu_clauses(text) or [text])
    spans = [(entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)) for entity in named
             if entity.get(ENTITY_ATTRIBUTE_START) is not None and entity.get(ENTITY_ATTRIBUTE_END) is not None]
    return elliptic(text, spans)


def _resolved_by_entities(message: Message) -> Optional[Text]:
    """Of the two FAQ intents a fallback could not decide between, the one whose topic the
    message names when the other's it does not ("does the standard plan come with prioritized
    response times?": a plan is named, no priority level); the same between an FAQ intent and a
    courtesy ("danke, und P1?" asks about P1) or out of scope ("im in kuala lumpur, how do i
    reach you by phone": a country is named; "prio für einen Wunsch: ..." names the priority
    topic by a word of `TOPIC_WORDS`). Both named in clauses of their own: two questions, the
    first ranked is the intent (the answer adds the other's, `bot.answers.compound`)."""
    ranking = [r.get(INTENT_NAME_KEY) for r in message.get(INTENT_RANKING_KEY) or []
               if r.get(INTENT_NAME_KEY) != FALLBACK][:2]
    named = {entity.get(ENTITY_ATTRIBUTE_TYPE) for entity in message.get(ENTITIES) or []}
    text = message.get(TEXT) or ""
    supported = [intent for intent in ranking if TOPIC_ENTITY.get(intent) in named
                 or (intent in TOPIC_WORDS and TOPIC_WORDS[intent].search(text))]
    if len(ranking) == 2 and all(intent in TOPIC_ENTITY or intent in COURTESY or intent == OUT_OF_SCOPE
                                 for intent in ranking) \
            and len(supported) == 1:
        return supported[0]
    if len(supported) == 2 and len(nlu_clauses(text)) > 1:
        return supported[0]  # two questions, one per clause: bot.answers.compound answers the other too
    return None


def _names_feature(message: Message, feature: Text) -> bool:
    return any(entity.get(ENTITY_ATTRIBUTE_TYPE) == "feature" and entity.get(ENTITY_ATTRIBUTE_VALUE) == feature
               for entity in message.get(ENTITIES) or [])


def _names_only_plans(message: Message) -> bool:
    """The message names a plan and no feature, country or level."""
    kinds = [entity.get(ENTITY_ATTRIBUTE_TYPE) for entity in message.get(ENTITIES) or []]
    return "plan" in kinds and all(kind == "plan" for kind in kinds)


def _names_live_chat(message: Message) -> bool:
    return _names_feature(message, LIVE_CHAT)


def _asks_if_allowed(message: Message, text: str, found: Dict[Text, Any]) -> bool:
    """A yes/no question whether an account type or licence gets a person ("kann ich mit der
    kostenlosen Version mit einem Live-Agent chatten?"), or about the live chat that the signals
    see no request in ("komm ich mit nem kostenlosen Konto an den Live-Chat ran?")."""
    if not (is_question(text) or _MODAL_QUESTION.search(text)):
        return False
    who = profile(text)
    return bool(who.account_types or who.licensed) or (
        _names_live_chat(message) and not signals.wants_person(found))


def _asks_who_may(text: str) -> bool:
    """A question about who may do something, not about the asker (see RIGHTS_QUESTION)."""
    if not is_question(text) or _FIRST_PERSON.search(text):
        return False
    return bool(_WHO_MAY.search(text)) or profile(text).names_someone


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
            force_intent(message, SHARE_SECRET, keep_as="intent_before_secret")
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

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        """Rasa's matrix, built the same way from the sentence features only.

        Rasa's `_create_X` asks for the message's combined sparse features, which deep-copies
        and stacks the sequence features (a row per token, of every featurizer) too, only to use
        the sentence features: 5 % of the Rasa process's CPU (docs/benchmarks.md). The sentence
        features here are stacked in the same order by the same calls, so the matrix is the
        same (`scripts/nlu_identity.py`: identical rankings)."""
        rows = []
        for message in messages:
            sparse = _sentence_features(message, sparse=True)
            dense = _sentence_features(message, sparse=False)
            rows.append(hstack([csr_matrix(sparse if sparse is not None else []),
                                csr_matrix(dense if dense is not None else [])]))
        return vstack(rows)


def _sentence_features(message: Message, sparse: bool) -> Any:
    """The message's TEXT sentence features of one kind, combined as `Message.get_sparse_features`
    and `get_dense_features` combine them (`Features.combine_with_features`), or None."""
    combined = None
    for features in message.features:
        if (features.attribute != TEXT or features.type != FEATURE_TYPE_SENTENCE
                or features.is_sparse() != sparse):
            continue
        if combined is None:
            combined = features.features
        elif sparse:
            if combined.shape[0] != features.features.shape[0]:
                raise ValueError("Cannot combine sparse features as sequence dimensions do not match: "
                                 f"{combined.shape[0]} != {features.features.shape[0]}.")
            combined = hstack([combined, features.features])
        else:
            if combined.ndim != features.features.ndim:
                raise ValueError("Cannot combine dense features as sequence dimensions do not match: "
                                 f"{combined.ndim} != {features.features.ndim}.")
            combined = np.concatenate((combined, features.features), axis=-1)
    return combined


# The patches of Rasa internals: the policies see the latest turns (bot/dialogue_window.py), the
# prediction graph runs without dask's scheduler (bot/graph_runner.py), RulePolicy finds its
# rules through an index (bot/rule_lookup.py), a tracker's past states are computed once per
# tracker state for all policies (bot/policy_states.py), the domain's emptiness is checked once and
# slots are copied without copy's reduce protocol (bot/hot_path.py).
dialogue_window.install(get_settings().dialogue_window_turns)
graph_runner.install()
rule_lookup.install()
policy_states.install()
hot_path.install()
