"""`QueuedRelayPolicy`: while the conversation is with the agents, the user's messages go to them.

Users of the widget never reach Rasa while they wait (the live-agent service keeps their
messages for the agents). A user of Rasa's REST channel does: this policy then predicts
`action_relay_to_agent` (actions/waiting.py), which hands the message to the live-agent service
and tells the user it arrived, instead of the bot answering it as a new question. A priority
correction (`set_priority`) keeps its own action, which updates the queue entry.

"With the agents" is the slot `handoff_status: queued`, unless an agent handed the conversation
back since (the live-agent service appends `agent_handled` on release and resolve), the same
rule as the actions' `fresh_slot`.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction, confidence_scores_for
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

RELAY = "action_relay_to_agent"
HANDOFF_STATUS = "handoff_status"
QUEUED = "queued"
AGENT_HANDLED = "agent_handled"
OWN_ACTION_INTENTS = frozenset({"set_priority"})
# Above RulePolicy (6): a rule for the message's intent must not answer it instead.
PRIORITY = 7


def with_agents(tracker: DialogueStateTracker) -> bool:
    """True while the conversation is queued (or claimed) and no agent handed it back since."""
    if tracker.get_slot(HANDOFF_STATUS) != QUEUED:
        return False
    for event in reversed(tracker.events):
        if isinstance(event, SlotSet):
            if event.key == HANDOFF_STATUS:
                return event.value == QUEUED
            if event.key == AGENT_HANDLED and event.value:
                return False
    return False


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class QueuedRelayPolicy(Policy):
    """Predicts `action_relay_to_agent` for a message while the conversation is with the agents,
    and listening after it; nothing otherwise (all zeros: the other policies decide)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": PRIORITY}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        latest = tracker.latest_action_name
        if latest == RELAY:
            return self._prediction(confidence_scores_for(ACTION_LISTEN_NAME, 1.0, domain))
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        if latest == ACTION_LISTEN_NAME and intent and intent not in OWN_ACTION_INTENTS and with_agents(tracker):
            return self._prediction(confidence_scores_for(RELAY, 1.0, domain))
        return self._prediction(self._default_predictions(domain))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "QueuedRelayPolicy":
        return cls(config, model_storage, resource, execution_context)
