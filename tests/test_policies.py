"""`QueuedRelayPolicy` on real Rasa trackers and the project's domain."""
from __future__ import annotations

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies import RELAY, QueuedRelayPolicy, with_agents


def tracker_of(domain, *events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("s-policy", list(events), slots=domain.slots)


def user(intent: str) -> list:
    return [ActionExecuted(ACTION_LISTEN_NAME), UserUttered("…", {"name": intent, "confidence": 0.9})]


def predicted(policy, tracker, domain) -> str | None:
    probabilities = policy.predict_action_probabilities(tracker, domain).probabilities
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    return domain.action_names_or_texts[best] if probabilities[best] > 0 else None


def test_while_queued_every_message_but_a_priority_correction_is_relayed(domain, tmp_path):
    policy = QueuedRelayPolicy.create(QueuedRelayPolicy.get_default_config(), LocalModelStorage(tmp_path),
                                      Resource("relay"), ExecutionContext(None))
    queued = [SlotSet("handoff_status", "queued")]
    assert predicted(policy, tracker_of(domain, *queued, *user("ask_priority")), domain) == RELAY
    assert predicted(policy, tracker_of(domain, *queued, *user("leave_queue")), domain) == RELAY
    assert predicted(policy, tracker_of(domain, *queued, *user("set_priority")), domain) is None
    # after the relay the bot listens; with nothing queued the policy stays out of it
    relayed = tracker_of(domain, *queued, *user("ask_priority"), ActionExecuted(RELAY))
    assert predicted(policy, relayed, domain) == ACTION_LISTEN_NAME
    assert predicted(policy, tracker_of(domain, *user("ask_priority")), domain) is None
    assert policy.priority > 6  # above RulePolicy's


def test_an_agent_handing_back_ends_it(domain):
    handed_back = tracker_of(domain, SlotSet("handoff_status", "queued"), SlotSet("agent_handled", True),
                             *user("greet"))
    assert not with_agents(handed_back)
    queued_again = tracker_of(domain, SlotSet("handoff_status", "queued"), SlotSet("agent_handled", True),
                              SlotSet("handoff_status", "queued"), *user("greet"))
    assert with_agents(queued_again)
