"""RulePolicy's indexed rule lookup (bot/rule_lookup.py): at every step of long conversations made
of the test stories, the same rules in the same iteration order as Rasa's own
`_get_possible_keys`, and the same predictions, with the trained model."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rule_lookup

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rule_policy(agent) -> RulePolicy:
    nodes = agent.processor.graph_runner._instantiated_nodes
    found = [node._component for node in nodes.values() if isinstance(node._component, RulePolicy)]
    assert len(found) == 1
    return found[0]


@pytest.fixture(scope="module")
def trackers(agent) -> List[DialogueStateTracker]:
    """A tracker at every third action of one long conversation made of all test stories."""
    from rasa.core.test import _create_data_generator

    stories = _create_data_generator(str(ROOT / "tests" / "stories"), agent).generate_story_trackers()
    assert len(stories) >= 20, "expected the test stories"
    events = [event for story in stories for event in story.events]
    found = []
    for step in [i for i, event in enumerate(events) if isinstance(event, ActionExecuted)][::3]:
        tracker = DialogueStateTracker("rule-lookup", agent.domain.slots)
        for event in events[:step]:
            tracker.update(event)
        found.append(tracker)
    return found


def test_installed_by_the_components_module():
    import bot.components  # noqa: F401

    assert getattr(RulePolicy._get_possible_keys, "_bolt_indexed", False)


def test_every_rule_is_indexed_under_the_names_its_last_state_requires(rule_policy):
    lookup = rule_policy.lookup[RULES]
    index = rule_lookup.build_index(lookup)
    assert sorted(key for keys in index.values() for key in keys) == sorted(lookup)
    for (action, intent), keys in index.items():
        for key in keys:
            last = json.loads(key)[-1]
            assert (last.get("prev_action") or {}).get("action_name", None) in (action, None, "should_not_be_set")
            assert action is None or last["prev_action"]["action_name"] == action
            assert intent is None or last["user"]["intent"] == intent


def test_the_same_rules_in_the_same_order_as_rasa_s(agent, rule_policy, trackers):
    compared = found = 0
    for tracker in trackers:
        for use_text in (False, True):
            states = rule_policy._prediction_states(tracker, agent.domain, use_text,
                                                    rule_only_data=rule_policy._get_rule_only_data())
            for table in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH):
                lookup = rule_policy.lookup[table]
                ours = rule_lookup.get_possible_keys(rule_policy, lookup, states)
                rasa = rule_lookup._RASA_GET_POSSIBLE_KEYS(rule_policy, lookup, states)
                assert list(ours) == list(rasa)
                compared += 1
                found += bool(ours)
    assert compared > 100 and found > 30


def test_predictions_equal_rasa_s(agent, rule_policy, trackers, monkeypatch):
    def predictions() -> list:
        found = []
        for tracker in trackers:
            p = rule_policy.predict_action_probabilities(tracker, agent.domain)
            found.append((p.max_confidence_index, p.max_confidence, p.events, p.is_end_to_end_prediction,
                          p.is_no_user_prediction, p.hide_rule_turn, list(p.probabilities)))
        return found

    ours = predictions()
    monkeypatch.setattr(RulePolicy, "_get_possible_keys", rule_lookup._RASA_GET_POSSIBLE_KEYS)
    assert predictions() == ours
    assert sum(p[1] > 0 for p in ours) > 30


def test_a_conversation_start_is_filtered_as_rasa_does(rule_policy):
    lookup = rule_policy.lookup[RULES]
    states = [{}]
    assert list(rule_lookup.get_possible_keys(rule_policy, lookup, states)) == \
        list(rule_lookup._RASA_GET_POSSIBLE_KEYS(rule_policy, lookup, states))
