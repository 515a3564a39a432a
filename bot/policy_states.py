"""A tracker's past states computed once per tracker state, not once per policy call.

Rasa's policies featurize the conversation for every prediction (`tracker.past_states` ->
`Domain.states_for_tracker_history`, which replays the events into a fresh tracker): RulePolicy
twice right after a user message (once for the text, once for the intent), MemoizationPolicy
once more. Replaying was 11 % of the Rasa process's CPU under the closed-loop benchmark
(docs/benchmarks.md), and RulePolicy's second replay is the first one's result again.

`install()` (called from `bot.components`) keeps the states a tracker gave, per set of
arguments, on the tracker object, valid while its events are the same (their number and the
last one); the callers modify the states they get (`_choose_last_user_input` deletes the text or
the intent of the last state), so every caller gets its own copy of the states and of their
sub-states (their values are strings and tuples). `tests/test_policy_states.py` compares them
with Rasa's at every step of long conversations, and after the tracker changes.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.shared.core.trackers import DialogueStateTracker

_MEMO = "_bolt_past_states"  # on a tracker: (events seen, last event, {arguments: states})
_RASA_PAST_STATES = DialogueStateTracker.past_states

State = Dict[Text, Any]


def _copy(states: List[State]) -> List[State]:
    return [{key: dict(sub) if isinstance(sub, dict) else sub for key, sub in state.items()} for state in states]


def past_states(self: DialogueStateTracker, domain: Any, omit_unset_slots: bool = False,
                ignore_rule_only_turns: bool = False, rule_only_data: Optional[Dict[Text, Any]] = None) -> List[State]:
    """`DialogueStateTracker.past_states`, remembered while the tracker's events stay the same."""
    events = self.events
    last = events[-1] if events else None
    seen, seen_last, found = self.__dict__.get(_MEMO, (-1, None, None))
    if seen != len(events) or seen_last is not last or found is None:
        found = {}
        self.__dict__[_MEMO] = (len(events), last, found)
    key = (id(domain), omit_unset_slots, ignore_rule_only_turns, repr(rule_only_data))
    kept = found.get(key)
    if kept is not None and kept[0] is domain:
        return _copy(kept[1])
    states = _RASA_PAST_STATES(self, domain, omit_unset_slots=omit_unset_slots,
                               ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data)
    found[key] = (domain, _copy(states))
    return states


past_states._bolt_memo = True  # type: ignore[attr-defined]


def install() -> None:
    """Replace `DialogueStateTracker.past_states` (idempotent)."""
    if not getattr(DialogueStateTracker.past_states, "_bolt_memo", False):
        DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]
