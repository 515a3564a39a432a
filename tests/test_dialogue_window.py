"""The policies see a conversation's latest turns (bot/dialogue_window.py): the same predictions
as on the whole tracker, at every step of long conversations made of the test stories, with the
trained model. Fails when a Rasa upgrade moves the patched method or changes what the policies
read from a tracker."""
from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import List

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered, UserUtteranceReverted
from rasa.shared.core.trackers import DialogueStateTracker

from bot import dialogue_window
from bot.dialogue_window import recent

ROOT = Path(__file__).resolve().parents[1]
TURNS = 6  # bot.settings: DIALOGUE_WINDOW_TURNS


@pytest.fixture(scope="module")
def story_events(agent) -> List[list]:
    """The events of each test story (tests/stories), as `rasa test` replays them."""
    from rasa.core.test import _create_data_generator

    trackers = _create_data_generator(str(ROOT / "tests" / "stories"), agent).generate_story_trackers()
    assert len(trackers) >= 20, "expected the test stories"
    return [list(tracker.events) for tracker in trackers]


def long_conversations(story_events: List[list], count: int, stories_each: int) -> List[list]:
    rng = random.Random(12)
    conversations = []
    for _ in range(count):
        picked = [rng.choice(story_events) for _ in range(stories_each)]
        conversations.append([event for events in picked for event in events])
    return conversations


def test_the_patch_is_installed_with_the_configured_window():
    import bot.components  # noqa: F401
    from bot.settings import get_settings

    assert dialogue_window.installed_turns() == get_settings().dialogue_window_turns == TURNS


def test_predictions_on_the_window_equal_those_on_the_whole_tracker(agent, story_events):
    from rasa.core.processor import MessageProcessor

    from rasa.core.policies.memoization import MemoizationPolicy

    processor = agent.processor
    original = MessageProcessor._predict_next_with_tracker._bolt_original
    memo = next(node._component for node in processor.graph_runner._instantiated_nodes.values()
                if type(getattr(node, "_component", None)) is MemoizationPolicy)
    memo_on_whole = MemoizationPolicy.predict_action_probabilities._bolt_original
    compared = windowed = 0
    for number, events in enumerate(long_conversations(story_events, count=3, stories_each=14)):
        tracker = DialogueStateTracker(f"long-{number}", agent.domain.slots)
        for event in events:
            if isinstance(event, ActionExecuted) and len(tracker.events) > 4 * TURNS:
                window = recent(tracker, TURNS)
                if window is not tracker:
                    windowed += 1
                    whole = original(processor, tracker.copy())
                    cut = processor._predict_next_with_tracker(tracker.copy())
                    assert (cut.max_confidence_index, cut.max_confidence, cut.policy_name, cut.events,
                            cut.is_end_to_end_prediction, cut.is_no_user_prediction, cut.hide_rule_turn) == \
                        (whole.max_confidence_index, whole.max_confidence, whole.policy_name, whole.events,
                         whole.is_end_to_end_prediction, whole.is_no_user_prediction, whole.hide_rule_turn), \
                        f"conversation {number}, event {len(tracker.events)}: {event}"
                    # MemoizationPolicy, skipped on the window: what it says on the whole tracker
                    skipped, recalled = memo.predict_action_probabilities(window, agent.domain), \
                        memo_on_whole(memo, tracker, agent.domain)
                    assert skipped.probabilities == recalled.probabilities and max(recalled.probabilities) == 0
                    compared += 1
            tracker.update(event, agent.domain)
    assert windowed > 100 and compared == windowed


def test_the_windows_states_are_the_whole_trackers_latest(agent, story_events):
    domain = agent.domain
    events = long_conversations(story_events, count=1, stories_each=12)[0]
    tracker = DialogueStateTracker("states", domain.slots)
    for event in events:
        tracker.update(event, domain)
    window = recent(tracker, TURNS)
    assert window is not tracker
    assert TURNS <= sum(isinstance(e, UserUttered) for e in window.events) < 12 * TURNS
    whole, cut = tracker.past_states(domain), window.past_states(domain)
    assert cut[-2 * TURNS:] == whole[-2 * TURNS:]
    assert window.current_slot_values() == tracker.current_slot_values()
    assert window.active_loop_name == tracker.active_loop_name


def _turn(intent: str, *after) -> list:
    return [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(intent, {"name": intent}), *after]


def test_a_loop_active_at_the_cut_moves_it_to_before_the_loop_started(domain):
    events = _turn("greet", ActionExecuted("utter_greet")) * 3
    events += _turn("open_ticket", ActionExecuted("ticket_form"), ActiveLoop("ticket_form"),
                    SlotSet("requested_slot", "ticket_email"))
    events += _turn("inform_email", ActionExecuted("ticket_form"), SlotSet("requested_slot", "ticket_subject")) * 12
    tracker = DialogueStateTracker.from_events("loop", events, domain.slots)
    window = recent(tracker, TURNS)
    assert window is not tracker  # cut: three turns before the form
    assert [e.name for e in window.events if isinstance(e, ActiveLoop)] == ["ticket_form"]
    assert sum(isinstance(e, UserUttered) for e in window.events) == 13
    assert window.active_loop_name == "ticket_form"


def test_short_conversations_and_undone_turns_keep_the_whole_tracker(domain):
    short = DialogueStateTracker.from_events("short", _turn("greet", ActionExecuted("utter_greet")) * TURNS, domain.slots)
    assert recent(short, TURNS) is short
    undone = _turn("greet", ActionExecuted("utter_greet")) * 20 + [UserUtteranceReverted()]
    reverted = DialogueStateTracker.from_events("undo", undone, domain.slots)
    assert recent(reverted, TURNS) is reverted


def test_slots_of_the_cut_point_are_carried_over(domain):
    events = _turn("ask_phone", SlotSet("country", "CH"), ActionExecuted("utter_phone"))
    events += _turn("greet", ActionExecuted("utter_greet")) * 15
    tracker = DialogueStateTracker.from_events("slots", events, domain.slots)
    window = recent(tracker, TURNS)
    assert window is not tracker and window.get_slot("country") == "CH"
    assert window.sender_id == "slots"


def _state(tracker: DialogueStateTracker) -> dict:
    state = {key: value for key, value in vars(tracker).items() if not key.startswith("_bolt")}
    state["events"] = list(state["events"])
    state["slots"] = {name: dict(vars(slot)) for name, slot in state["slots"].items()}
    return state


def test_the_fast_copy_holds_what_rasas_replay_rebuilds(agent, story_events):
    from bot.dialogue_window import copy_tracker

    replay = DialogueStateTracker.copy._bolt_original
    for number, events in enumerate(long_conversations(story_events, count=2, stories_each=10)):
        tracker = DialogueStateTracker(f"copy-{number}", agent.domain.slots)
        tracker.model_id = "a-model"
        for index, event in enumerate(events):
            tracker.update(event, agent.domain)
            if index % 7 == 0 or index == len(events) - 1:
                fast = copy_tracker(tracker)
                assert _state(fast) == _state(replay(tracker)), f"conversation {number}, event {index}: {event}"
                assert fast.active_loop is not tracker.active_loop or tracker.active_loop is None
    assert tracker.copy().__class__ is DialogueStateTracker and _state(tracker.copy()) == _state(replay(tracker))


def test_a_window_built_from_the_previous_one_equals_a_new_one(agent, story_events):
    """The windows `recent` keeps and extends (through Rasa's copies too, as the NLG gets them)
    hold the state a window built anew replays, at every step of long conversations."""
    built = extended = 0
    for number, events in enumerate(long_conversations(story_events, count=2, stories_each=14)):
        tracker = DialogueStateTracker(f"memo-{number}", agent.domain.slots)
        for index, event in enumerate(events):
            tracker.update(event, agent.domain)
            before = tracker.__dict__.get("_bolt_shared", {}).get("window")
            window = recent(tracker.copy() if index % 3 == 0 else tracker, TURNS)
            if window is tracker or window.__dict__.get("_bolt_window") is None:
                continue
            assert recent(tracker, TURNS) is window and recent(window, TURNS) is window
            kept = tracker.__dict__.pop("_bolt_shared")
            fresh = recent(tracker, TURNS)
            tracker.__dict__["_bolt_shared"] = kept
            assert fresh is not window and _state(window) == _state(fresh), f"conversation {number}, event {index}: {event}"
            built += 1
            extended += before is not None and before.index == kept["window"].index
    assert built > 200 and extended > 100


def test_the_session_scan_follows_appended_events(domain):
    from rasa.shared.core.events import SessionStarted

    tracker = DialogueStateTracker.from_events("scan", _turn("greet", ActionExecuted("utter_greet")) * 15, domain.slots)
    assert recent(tracker, TURNS) is not tracker
    tracker.update(UserUtteranceReverted())
    assert recent(tracker, TURNS) is tracker  # an undo in the session: the whole tracker
    tracker.update(SessionStarted())
    for event in _turn("greet", ActionExecuted("utter_greet")) * 12:
        tracker.update(event)
    window = recent(tracker, TURNS)
    assert window is not tracker and TURNS <= sum(isinstance(e, UserUttered) for e in window.events) < 15


@pytest.mark.parametrize("expired", [False, True])
def test_a_long_session_starts_again_only_when_expired(agent, expired):
    import time

    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.shared.core.constants import ACTION_SESSION_START_NAME

    events = _turn("greet", ActionExecuted("utter_greet")) * 15
    tracker = DialogueStateTracker.from_events("session", events, agent.domain.slots)
    if expired:
        for event in tracker.events:
            event.timestamp = time.time() - 3 * 3600
    before = len(tracker.events)
    asyncio.run(agent.processor._update_tracker_session(tracker, CollectingOutputChannel()))
    started = [e for e in list(tracker.events)[before:]
               if isinstance(e, ActionExecuted) and e.action_name == ACTION_SESSION_START_NAME]
    assert bool(started) == expired


def test_an_identity_token_older_than_the_window_is_found(domain):
    from bot.nlg import latest_identity_token
    from bot.users import IDENTITY_TOKEN

    first = [ActionExecuted(ACTION_LISTEN_NAME), UserUttered("hallo", {"name": "greet"}, metadata={IDENTITY_TOKEN: "t1"})]
    tracker = DialogueStateTracker.from_events("token", first + _turn("greet", ActionExecuted("utter_greet")) * 15, domain.slots)
    assert recent(tracker, TURNS) is not tracker
    assert latest_identity_token(tracker) == "t1" and latest_identity_token(tracker.copy()) == "t1"
    tracker.update(UserUttered("hi", {"name": "greet"}, metadata={IDENTITY_TOKEN: "t2"}))
    assert latest_identity_token(tracker) == "t2"
    # scanned on Rasa's copy (as the NLG does), the scan goes on from there on the tracker
    copy = tracker.copy()
    copy.update(UserUttered("hi", {"name": "greet"}, metadata={IDENTITY_TOKEN: "t3"}))
    assert latest_identity_token(copy) == "t3"
    scan = tracker.__dict__["_bolt_shared"]["identity_token"]
    assert scan.scanned == len(copy.events) and latest_identity_token(tracker) == "t2"  # not the copy's turn
    tracker.update(ActionExecuted("utter_greet"))
    assert latest_identity_token(tracker) == "t2"
    copy = tracker.copy()
    assert latest_identity_token(copy) == "t2" and tracker.__dict__["_bolt_shared"]["identity_token"].scanned == len(tracker.events)


def _memorized_states(key: str) -> int:
    """States in one of MemoizationPolicy's keys (zlib + base64 of its JSON without quotes)."""
    import base64
    import zlib

    text = zlib.decompress(base64.b64decode(key)).decode()
    depth = states = 0
    for char in text:
        if char in "[{":
            depth += 1
            states += char == "{" and depth == 2
        elif char in "]}":
            depth -= 1
    return states


def test_the_window_is_longer_than_what_the_trained_policies_look_at(agent):
    """RulePolicy matches no more states than its longest rule, MemoizationPolicy (max_history
    None) whole memorized conversations: a window must hold more of both."""
    from rasa.core.policies.memoization import MemoizationPolicy
    from rasa.core.policies.rule_policy import RulePolicy

    from bot.dialogue_window import MEMORIZED_STATES

    policies = [getattr(node, "_component", None) for node in agent.processor.graph_runner._instantiated_nodes.values()]
    rules = next(p for p in policies if isinstance(p, RulePolicy))
    memo = next(p for p in policies if type(p) is MemoizationPolicy)
    longest_rule = max(len(rules._rule_key_to_state(key)) for key in rules.lookup["rules"])
    assert longest_rule < 2 * TURNS  # a window of TURNS user turns has at least 2 states each
    assert memo.config["max_history"] is None and memo.lookup
    assert max(_memorized_states(key) for key in memo.lookup) < MEMORIZED_STATES
