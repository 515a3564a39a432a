"""A tracker's past states remembered per tracker state (bot/policy_states.py): the same states as
Rasa's at every step of a long conversation made of the test stories, for every set of arguments
the policies use, each caller with its own copy, and new states once the tracker changed."""
from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from rasa.shared.core.events import ActionExecuted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot import policy_states

ROOT = Path(__file__).resolve().parents[1]
ARGUMENTS = [dict(), dict(ignore_rule_only_turns=True, rule_only_data={"slots": [], "loops": []}),
             dict(omit_unset_slots=True), dict(ignore_rule_only_turns=True, rule_only_data={"slots": ["x"], "loops": []})]


@pytest.fixture(scope="module")
def events(agent) -> List:
    from rasa.core.test import _create_data_generator

    stories = _create_data_generator(str(ROOT / "tests" / "stories"), agent).generate_story_trackers()
    assert len(stories) >= 20, "expected the test stories"
    return [event for story in stories for event in story.events]


def test_installed_by_the_components_module():
    import bot.components  # noqa: F401

    assert getattr(DialogueStateTracker.past_states, "_bolt_memo", False)


def test_the_same_states_as_rasa_s_at_every_step(agent, events):
    tracker = DialogueStateTracker("policy-states", agent.domain.slots)
    compared = 0
    for number, event in enumerate(events):
        tracker.update(event)
        if not isinstance(event, ActionExecuted) or number % 4:
            continue
        for arguments in ARGUMENTS:
            expected = policy_states._RASA_PAST_STATES(tracker, agent.domain, **arguments)
            first = tracker.past_states(agent.domain, **arguments)
            second = tracker.past_states(agent.domain, **arguments)
            assert first == expected and second == expected
            compared += 1
    assert compared > 100


def test_every_caller_gets_its_own_copy(agent, events):
    tracker = DialogueStateTracker("policy-states-copy", agent.domain.slots)
    for event in events[:40]:
        tracker.update(event)
    expected = policy_states._RASA_PAST_STATES(tracker, agent.domain)
    mine = tracker.past_states(agent.domain)
    mine[-1].clear()
    for state in mine:
        for sub in state.values():
            if isinstance(sub, dict):
                sub.clear()
    assert tracker.past_states(agent.domain) == expected


def test_a_changed_tracker_gets_new_states(agent, events):
    tracker = DialogueStateTracker("policy-states-change", agent.domain.slots)
    for event in events[:40]:
        tracker.update(event)
    before = tracker.past_states(agent.domain)
    slot = next(iter(agent.domain.slots)).name
    tracker.update(SlotSet(slot, "changed"))
    tracker.update(ActionExecuted("action_listen"))
    after = tracker.past_states(agent.domain)
    assert after == policy_states._RASA_PAST_STATES(tracker, agent.domain)
    assert after != before
