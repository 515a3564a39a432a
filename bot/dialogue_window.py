"""The dialogue policies see a conversation's latest turns only: flat cost in conversation length.

Rasa 3.6 hands the policies (MemoizationPolicy, RulePolicy, the ensemble) the whole tracker for
every prediction, several a message, and each of them replays all events of the session to
featurize its states (`tracker.past_states` -> `Domain.states_for_tracker_history`): message 100
of a conversation cost four times message 5 (docs/benchmarks.md). Yet what they look at is
short: RulePolicy no more states than its longest rule, the ensemble the latest events, and
MemoizationPolicy nothing once a conversation is longer than its longest memorized story.

`recent(tracker)` is the tracker cut to its last `turns` user turns (`DIALOGUE_WINDOW_TURNS`),
with the slots and the active loop of the cut point carried over, like a new session with
`carry_over_slots_to_new_session` (the kept events are the very event objects, so
`hide_rule_turn` and the rest come along). RulePolicy's states of such a window equal the whole
tracker's over the window, so its predictions are the same while no rule is longer than the
window. MemoizationPolicy (`max_history` None) keys whole conversations, and one with more states
than its longest memorized story recalls nothing: a window is cut only from a session that shows
it at least `MEMORIZED_STATES` states (more than that story), and on a window MemoizationPolicy
returns what it returns when it recalls nothing, without featurizing the window. The test
(`tests/test_dialogue_window.py`) compares both bounds with the trained model and the predictions
on windows with those on whole trackers. Where a window could differ, the whole tracker is used:
an active loop at the cut point moves the cut back to before the loop began (a form's executions
are collapsed by `applied_events`, which needs the loop's start); an undo
(`UserUtteranceReverted`, `ActionReverted`) anywhere in the session, a `FollowupAction` among the
events counted or a pending follow-up action keeps the whole tracker.

The patches of Rasa internals, all here (`install`, called from `bot.components`, so every
process that loads the model has them: `rasa run`, `rasa test`, the tests; listed in `install`):
the prediction, MemoizationPolicy's on a window, the session check and the tracker copy before
each action. The events a
prediction returns are applied to the real tracker by Rasa as before. The test fails when a Rasa
upgrade moves a patched method, when predictions on the window differ from those on the whole
tracker, or when the fast copy holds other state than Rasa's replay.
Window size: `DIALOGUE_WINDOW_TURNS` (`bot.settings`, 0: off).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    FollowupAction,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

# Events told apart by their class's `type_name` (a plain attribute: `isinstance` on Rasa's
# abstract event classes costs ten times more, and these scans run a few times a message).
# A window is cut only from a session that shows MemoizationPolicy at least this many states (of
# turns it does not hide as rule-only): more than the longest story it memorized (its
# `max_history` is None: it keys whole conversations; the test compares this with the trained
# model), so that it recalls nothing on the whole tracker, and is skipped on the window.
MEMORIZED_STATES = 12

_UNDO = {UserUtteranceReverted.type_name, ActionReverted.type_name}
_SESSION = {Restarted.type_name, SessionStarted.type_name}
_USER = UserUttered.type_name
_ACTION = ActionExecuted.type_name
_SLOT = SlotSet.type_name
_SLOTS_RESET = AllSlotsReset.type_name
_FOLLOWUP = FollowupAction.type_name
_LOOP = {cls.type_name for cls in (ActiveLoop, *ActiveLoop.__subclasses__())}


_SCAN = "_bolt_session_scan"  # on a tracker: (events scanned, the last of them, session start, loops)


def _session_start(tracker: DialogueStateTracker, events: List[Event]) -> Tuple[Optional[int], FrozenSet[str]]:
    """Index of the first event of the latest session (after the last restart / session start),
    None when the session holds an undo (`UserUtteranceReverted`, `ActionReverted`); and the
    names of the loops of the conversation.

    Events are only ever appended to a tracker, so what was found is kept on it and only the
    events added since are looked at (the tracker cache keeps a conversation's tracker object).
    """
    scanned, last, start, loops = getattr(tracker, _SCAN, (0, None, 0, frozenset()))
    if scanned > len(events) or (scanned and events[scanned - 1] is not last):
        scanned, start, loops = 0, 0, frozenset()
    for index in range(scanned, len(events)):
        event = events[index]
        kind = event.type_name
        if kind in _SESSION:
            start = index
        elif kind in _UNDO:
            start = None
        elif kind in _LOOP and event.name and event.name not in loops:  # type: ignore[attr-defined]
            loops = loops | {event.name}  # type: ignore[attr-defined]
    if events:
        setattr(tracker, _SCAN, (len(events), events[-1], start, loops))
    return start, loops


def _is_listen(event: Event) -> bool:
    return event.type_name == _ACTION and event.action_name == ACTION_LISTEN_NAME  # type: ignore[attr-defined]


def _turn_start_before(events: List[Event], index: int, lowest: int) -> Optional[int]:
    """The `action_listen` that starts the user turn holding `events[index]`, or None."""
    for i in range(index, lowest - 1, -1):
        if _is_listen(events[i]):
            return i
    return None


@dataclasses.dataclass(frozen=True)
class _State:
    """Slots set and the active loop of a session at `events[:index]` (kept on the tracker, and
    moved forward over the events between one cut point and the next: never changed in place)."""

    lowest: int
    index: int
    last: Optional[Event]  # events[index - 1], to see that the events before `index` are the same
    slots: Dict[str, Any]
    loop: Optional[str]
    loop_at: Optional[int]  # index of the ActiveLoop event that set `loop`


_STATE = "_bolt_cut_state"


def _state_at(tracker: DialogueStateTracker, events: List[Event], index: int, lowest: int) -> _State:
    kept: Optional[_State] = getattr(tracker, _STATE, None)
    if kept is not None and kept.lowest == lowest and kept.index <= index and (
            kept.index == lowest or events[kept.index - 1] is kept.last):
        slots, loop, loop_at, begin = kept.slots, kept.loop, kept.loop_at, kept.index
    else:
        slots, loop, loop_at, begin = {}, None, None, lowest
    copied = False
    for i in range(begin, index):
        event = events[i]
        kind = event.type_name
        if kind == _SLOT:
            if not copied:
                slots, copied = dict(slots), True
            # in the order of their latest setting, as the window's SlotSet events will be (a
            # policy may read which of two slots was set last: bot.policies.with_agents)
            slots.pop(event.key, None)  # type: ignore[attr-defined]
            slots[event.key] = event.value  # type: ignore[attr-defined]
        elif kind == _SLOTS_RESET:
            slots, copied = {}, True
        elif kind in _LOOP:
            loop, loop_at = event.name, i  # type: ignore[attr-defined]
    state = _State(lowest, index, events[index - 1] if index > lowest else None, slots, loop, loop_at)
    setattr(tracker, _STATE, state)
    return state


def _cut(tracker: DialogueStateTracker, events: List[Event], turns: int, lowest: int,
         loops: FrozenSet[str]) -> Optional[_State]:
    """The state at the `action_listen` before the `turns`-th last user message, moved back to
    before a loop active at that point; None when the session is not longer than that, or shows
    MemoizationPolicy fewer than `MEMORIZED_STATES` states (it then predicts on the whole
    tracker, not being skipped on a window: `install`)."""
    users = shown = 0
    cut = None
    later_shown: Optional[int] = None  # 1 if the action after this one (in time) is not hidden
    for i in range(len(events) - 1, lowest - 1, -1):
        event = events[i]
        kind = event.type_name
        if kind == _USER:
            users += 1
        elif kind == _FOLLOWUP:
            return None  # a follow-up changes which turns MemoizationPolicy hides: not counted
        elif kind == _ACTION:
            name = event.action_name  # type: ignore[attr-defined]
            if cut is None and users >= turns and name == ACTION_LISTEN_NAME:
                cut = i
            if cut is not None and shown >= MEMORIZED_STATES:
                break
            # Rasa (`Domain.states_for_tracker_history`): an action shows a state unless its turn
            # is hidden as rule-only; after a loop's action it inherits the hiding before (not
            # counted here: a lower bound).
            if later_shown is not None and name not in loops:
                shown += later_shown
            later_shown = 0 if event.hide_rule_turn else 1  # type: ignore[attr-defined]
    else:
        return None
    while cut is not None and cut > lowest:
        state = _state_at(tracker, events, cut, lowest)
        if state.loop is None:
            return state
        cut = _turn_start_before(events, state.loop_at, lowest)  # type: ignore[arg-type]
    return None


_SHARED = "_bolt_shared"  # on a tracker: a dict its copies share (`copy_tracker`), see `shared_memo`
_WINDOW = "window"  # in it: the window built last (`_Window`)
_IS_WINDOW = "_bolt_window"  # on a window


def shared_memo(tracker: DialogueStateTracker) -> Dict[str, Any]:
    """A dict kept on the tracker and shared with its copies (`copy_tracker`: Rasa copies the
    tracker before every action, and the NLG renders on that copy). What is kept in it must say
    which events it was computed from (their number and the last one), since a copy and its
    original may go on differently."""
    memo = tracker.__dict__.get(_SHARED)
    if memo is None:
        memo = tracker.__dict__[_SHARED] = {}
    return memo


@dataclasses.dataclass(frozen=True)
class _Window:
    turns: int
    lowest: int
    index: int  # the cut point: the window holds events[index:] of the tracker
    length: int  # the tracker's events when it was built
    last: Event  # events[length - 1]
    window: DialogueStateTracker


def _build(tracker: DialogueStateTracker, events: List[Event], state: _State) -> DialogueStateTracker:
    window = tracker.init_copy()
    window.sender_id = tracker.sender_id
    for name, value in state.slots.items():
        if name in window.slots:
            window.update(SlotSet(name, value))
    for event in events[state.index:]:
        window.update(event)
    window.clear_followup_action()  # cleared on the real tracker (not an event)
    setattr(window, _IS_WINDOW, True)
    return window


def recent(tracker: DialogueStateTracker, turns: int) -> DialogueStateTracker:
    """The tracker cut to its latest `turns` user turns (itself when not longer, or when a
    window could predict differently: see the module's docstring).

    A window is a tracker of its own, built once per state of the tracker's events (the session
    check, each prediction and the NLG of a message ask for it; its callers only read it), and
    built from the previous one when only events were appended since and the cut point is the
    same: a copy of it (`copy_tracker`) with the new events applied, the state a new window
    would replay (`tests/test_dialogue_window.py` compares both at every step). A window's own
    window is itself.
    """
    if turns <= 0 or tracker.followup_action or tracker.__dict__.get(_IS_WINDOW):
        return tracker
    if len(tracker.events) < 2 * turns + 2:  # too few events for more than `turns` turns
        return tracker
    events = list(tracker.events)
    memo = shared_memo(tracker)
    kept: Optional[_Window] = memo.get(_WINDOW)
    if kept is not None and kept.turns == turns and kept.length == len(events) and kept.last is events[-1]:
        return kept.window
    lowest, loops = _session_start(tracker, events)
    if lowest is None:
        return tracker
    state = _cut(tracker, events, turns, lowest, loops)
    if state is None:
        return tracker
    if kept is not None and (kept.turns, kept.lowest, kept.index) == (turns, lowest, state.index) and \
            kept.length < len(events) and events[kept.length - 1] is kept.last:
        window = copy_tracker(kept.window)
        window.__dict__.pop(_SHARED, None)
        for event in events[kept.length:]:
            window.update(event)
        window.clear_followup_action()
    else:
        window = _build(tracker, events, state)
    memo[_WINDOW] = _Window(turns, lowest, state.index, len(events), events[-1], window)
    return window


def copy_tracker(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """What `DialogueStateTracker.copy` returns, without replaying every event: the state the
    replay would rebuild, copied (Rasa copies the tracker before every action it runs)."""
    shared_memo(tracker)  # shared with the copy, as what follows
    duplicate = tracker.init_copy()
    duplicate.events.extend(tracker.events)
    for name, slot in tracker.slots.items():
        if name in duplicate.slots:
            duplicate.slots[name]._value = slot._value
            duplicate.slots[name]._has_been_set = slot._has_been_set
    duplicate._paused = tracker._paused
    duplicate.followup_action = tracker.followup_action
    duplicate.latest_action = dict(tracker.latest_action) if tracker.latest_action is not None else None
    duplicate.latest_message = tracker.latest_message
    duplicate.latest_bot_utterance = tracker.latest_bot_utterance
    duplicate.active_loop = dataclasses.replace(tracker.active_loop) if tracker.active_loop else tracker.active_loop
    for name, value in vars(tracker).items():  # what scans kept on it (immutable values, the shared memo)
        if name.startswith("_bolt_"):
            setattr(duplicate, name, value)
    return duplicate


# --------------------------------------------------------------------------- the patches

_ORIGINAL_ATTRIBUTE = "_bolt_original"


def _replace(owner: type, name: str, make: Any, enabled: bool) -> None:
    current = owner.__dict__.get(name)
    if current is None:
        raise RuntimeError(f"{owner.__module__}.{owner.__name__}.{name} is gone: "
                           "bot/dialogue_window.py needs updating for this Rasa version")
    original = getattr(current, _ORIGINAL_ATTRIBUTE, current)
    if not enabled:
        setattr(owner, name, original)
        return
    replacement = functools.wraps(original)(make(original))
    setattr(replacement, _ORIGINAL_ATTRIBUTE, original)
    setattr(owner, name, replacement)


def install(turns: int) -> None:
    """Patch Rasa (idempotent; `turns` 0: Rasa's own code again):
    - `MessageProcessor._predict_next_with_tracker` predicts on `recent(tracker, turns)`;
    - `MessageProcessor._has_session_expired` looks for the latest user message in that window
      too (Rasa scans the applied events of the whole session for it), and
      `MessageProcessor._update_tracker_session` returns at once for a session longer than the
      window that has not expired (Rasa first computes all applied events to see there are any);
    - `DialogueStateTracker.copy` copies the state instead of replaying all events;
    - `MemoizationPolicy.predict_action_probabilities` recalls nothing on a window (it would
      recall nothing on the whole tracker: `_cut`) without featurizing it.
    """
    from rasa.core.policies.memoization import MemoizationPolicy
    from rasa.core.processor import MessageProcessor

    def windowed(original: Any) -> Any:
        def on_window(self: Any, tracker: DialogueStateTracker) -> Any:
            return original(self, recent(tracker, turns))
        on_window.window_turns = turns  # type: ignore[attr-defined]
        return on_window

    def fast_copy(original: Any) -> Any:
        def copy(self: DialogueStateTracker) -> DialogueStateTracker:
            # subclasses (the training's TrackerWithCachedStates) hold more state: Rasa's way
            return copy_tracker(self) if type(self) is DialogueStateTracker else original(self)
        return copy

    def session_goes_on(original: Any) -> Any:
        async def update_session(self: Any, tracker: DialogueStateTracker, *args: Any, **kwargs: Any) -> Any:
            # Rasa: a new session when the session has no applied events or has expired. A
            # window exists only for a session longer than it, so its events are applied ones.
            window = recent(tracker, turns)
            if window is not tracker and not self._has_session_expired(window):
                return None
            return await original(self, tracker, *args, **kwargs)
        return update_session

    def nothing_memorized(original: Any) -> Any:
        def predict_action_probabilities(self: Any, tracker: DialogueStateTracker, domain: Any,
                                         rule_only_data: Optional[Dict[str, Any]] = None, **kwargs: Any) -> Any:
            # A window is cut only from a session showing MemoizationPolicy more states than its
            # longest memorized story (`_cut`): on the whole tracker it recalls nothing, so on
            # the window neither (its result when it recalls nothing, without its states).
            if type(self) is MemoizationPolicy and tracker.__dict__.get(_IS_WINDOW):
                return self._prediction(self._default_predictions(domain))
            return original(self, tracker, domain, rule_only_data=rule_only_data, **kwargs)
        return predict_action_probabilities

    enabled = turns > 0
    _replace(MemoizationPolicy, "predict_action_probabilities", nothing_memorized, enabled)
    _replace(MessageProcessor, "_update_tracker_session", session_goes_on, enabled)
    _replace(MessageProcessor, "_predict_next_with_tracker", windowed, enabled)
    _replace(MessageProcessor, "_has_session_expired", windowed, enabled)
    _replace(DialogueStateTracker, "copy", fast_copy, enabled)


def installed_turns() -> int:
    """The window size Rasa's prediction uses now (0: the whole tracker)."""
    from rasa.core.processor import MessageProcessor

    return getattr(MessageProcessor.__dict__.get("_predict_next_with_tracker"), "window_turns", 0)
