"""The dialogue policies see a conversation's latest turns only: flat cost in conversation length.

Rasa 3.6 hands the policies (MemoizationPolicy, RulePolicy, the ensemble) the whole tracker for
every prediction, several a message, and each of them replays all events of the session to
featurize its states (`tracker.past_states` -> `Domain.states_for_tracker_history`): message 100
of a conversation cost four times message 5 (docs/benchmarks.md). Yet what they look at is
short: MemoizationPolicy the last `max_history` (5) states, RulePolicy no more states than its
longest rule, the ensemble the latest events.

`recent(tracker)` is the tracker cut to its last `turns` user turns, with the slots and the
active loop of the cut point carried over, like a new session with `carry_over_slots_to_new_session`
(the kept events are the very event objects, so `hide_rule_turn` and the rest come along).
The policies' states of such a window equal the whole tracker's over the window, so their
predictions are the same as long as no rule is longer than the window (`check_rules` in the test
of this module compares the trained rules' lengths with it). Where a window could differ, the
whole tracker is used: an active loop at the cut point moves the cut back to before the loop
began (a form's executions are collapsed by `applied_events`, which needs the loop's start);
an undo (`UserUtteranceReverted`, `ActionReverted`) anywhere in the session, or a pending
follow-up action, keeps the whole tracker.

The one patch of Rasa internals (`install`, called from `bot.components`, so every process that
loads the model has it: `rasa run`, `rasa test`, the tests): `MessageProcessor._predict_next_with_tracker`
gets the window instead of the tracker. The events the prediction returns are applied to the real
tracker by Rasa as before. `tests/test_dialogue_window.py` fails when a Rasa upgrade moves that
method or when predictions on the window differ from those on the whole tracker.
Window size: `DIALOGUE_WINDOW_TURNS` (`bot.settings`, 0: off).
"""
from __future__ import annotations

import functools
from typing import Any, Dict, List, Optional

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

_UNDO = (UserUtteranceReverted, ActionReverted)


def _session_start(events: List[Event]) -> int:
    """Index of the first event of the latest session (after the last restart / session start)."""
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], (Restarted, SessionStarted)):
            return index
    return 0


def _turn_start_before(events: List[Event], index: int, lowest: int) -> Optional[int]:
    """The `action_listen` that starts the user turn holding `events[index]`, or None."""
    for i in range(index, lowest - 1, -1):
        event = events[i]
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            return i
    return None


def _cut_point(events: List[Event], turns: int, lowest: int) -> Optional[int]:
    """Index of the `action_listen` before the `turns`-th last user message, moved back to before
    a loop active at that point; None when the session is not longer than that."""
    users = 0
    cut = None
    for i in range(len(events) - 1, lowest - 1, -1):
        event = events[i]
        if isinstance(event, UserUttered):
            users += 1
        elif users >= turns and isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            cut = i
            break
    while cut is not None and cut > lowest:
        # the loop active at the cut: the latest ActiveLoop event before it
        loop_at = next((i for i in range(cut - 1, lowest - 1, -1) if isinstance(events[i], ActiveLoop)), None)
        if loop_at is None or events[loop_at].name is None:
            return cut
        cut = _turn_start_before(events, loop_at, lowest)
    return None


def _slots_at(events: List[Event], end: int, lowest: int) -> Dict[str, Any]:
    """Slot values set in events[lowest:end] (the latest value of each), as Rasa would hold them."""
    values: Dict[str, Any] = {}
    for i in range(end - 1, lowest - 1, -1):
        event = events[i]
        if isinstance(event, AllSlotsReset):
            break
        if isinstance(event, SlotSet) and event.key not in values:
            values[event.key] = event.value
    return values


def recent(tracker: DialogueStateTracker, turns: int) -> DialogueStateTracker:
    """The tracker cut to its latest `turns` user turns (itself when not longer, or when a
    window could predict differently: see the module's docstring)."""
    if turns <= 0 or tracker.followup_action:
        return tracker
    events = list(tracker.events)
    lowest = _session_start(events)
    # quick exit before any work: too few events for more than `turns` turns
    if len(events) - lowest < 2 * turns + 2:
        return tracker
    if any(isinstance(event, _UNDO) for event in events[lowest:]):
        return tracker
    cut = _cut_point(events, turns, lowest)
    if cut is None:
        return tracker
    window = tracker.init_copy()
    window.sender_id = tracker.sender_id
    for name, value in _slots_at(events, cut, lowest).items():
        if name in window.slots:
            window.update(SlotSet(name, value))
    for event in events[cut:]:
        window.update(event)
    window.clear_followup_action()  # cleared on the real tracker (not an event)
    return window


# --------------------------------------------------------------------------- the patch

_ORIGINAL_ATTRIBUTE = "_bolt_original"


def install(turns: int) -> None:
    """Make Rasa's prediction see `recent(tracker, turns)` (idempotent; `turns` 0: the original)."""
    from rasa.core.processor import MessageProcessor

    current = MessageProcessor.__dict__.get("_predict_next_with_tracker")
    if current is None:
        raise RuntimeError("rasa.core.processor.MessageProcessor._predict_next_with_tracker is gone: "
                           "bot/dialogue_window.py needs updating for this Rasa version")
    original = getattr(current, _ORIGINAL_ATTRIBUTE, current)
    if turns <= 0:
        MessageProcessor._predict_next_with_tracker = original
        return

    @functools.wraps(original)
    def predict_on_window(self: Any, tracker: DialogueStateTracker) -> Any:
        return original(self, recent(tracker, turns))

    setattr(predict_on_window, _ORIGINAL_ATTRIBUTE, original)
    predict_on_window.window_turns = turns  # type: ignore[attr-defined]
    MessageProcessor._predict_next_with_tracker = predict_on_window


def installed_turns() -> int:
    """The window size Rasa's prediction uses now (0: the whole tracker)."""
    from rasa.core.processor import MessageProcessor

    return getattr(MessageProcessor.__dict__.get("_predict_next_with_tracker"), "window_turns", 0)
