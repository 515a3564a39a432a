"""RulePolicy's rule lookup through an index of the rules' last states: the same rules, found faster.

For every prediction (several a message) Rasa 3.6's `RulePolicy._get_possible_keys` tests every
rule it learned (212 here, and the loops' unhappy paths) against the conversation's latest
state, each test decoding the rule's states again (`_is_rule_applicable`): RulePolicy was 16-21 %
of the Rasa process's CPU under the closed-loop benchmark (docs/benchmarks.md), nearly all of
it in that first filter, which leaves a handful of rules.

A rule can match the latest state only if its own last state names the same previous action
and the same intent (where it names them; `_does_rule_match_state`). `install()` (called from
`bot.components`) keeps, per lookup table, the rules by those two names, and lets the first
filter test only the rules of the latest state's two names (and the rules that name neither);
every other rule fails that filter anyway. The filter still walks the table in Rasa's order and
keeps what `_is_rule_applicable` accepts, so the resulting set is built exactly as before (the
same members inserted in the same order: the same iteration order, on which Rasa's choice among
rules of equal length depends). A latest state without a previous action (a conversation's
start, where Rasa accepts rules without looking at the intent) is filtered as before.
`tests/test_rule_lookup.py` compares the kept rules and the predictions with Rasa's own method.
"""
from __future__ import annotations

import json
from typing import Any, Dict, FrozenSet, List, Optional, Set, Text, Tuple

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.nlu.constants import ACTION_NAME, INTENT

_INDEXES = "_bolt_rule_indexes"  # on a policy: {id(lookup): (lookup, size, index)}
_RASA_GET_POSSIBLE_KEYS = RulePolicy._get_possible_keys
ANY = None  # the index's name for "the rule does not name it"

Index = Dict[Tuple[Optional[Text], Optional[Text]], FrozenSet[Text]]


def _named(sub_state: Any, key: Text) -> Optional[Text]:
    """The value a rule's state requires for `key`: a name it must equal, or ANY."""
    value = sub_state.get(key) if isinstance(sub_state, dict) else None
    return value if isinstance(value, str) and value and value != SHOULD_NOT_BE_SET else ANY


def build_index(lookup: Dict[Text, Text]) -> Index:
    """The rule keys of a lookup table by (previous action, intent) of their last state."""
    found: Dict[Tuple[Optional[Text], Optional[Text]], Set[Text]] = {}
    for key in lookup:
        states = json.loads(key)
        last = states[-1] if states else {}
        names = (_named(last.get(PREVIOUS_ACTION), ACTION_NAME), _named(last.get(USER), INTENT)) if states else (ANY, ANY)
        found.setdefault(names, set()).add(key)
    return {names: frozenset(keys) for names, keys in found.items()}


def candidates(index: Index, state: Dict[Text, Any]) -> FrozenSet[Text]:
    """The rules that may match `state` as the latest: those naming its previous action and
    intent or not naming them."""
    action = (state.get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
    intent = (state.get(USER) or {}).get(INTENT)
    empty: FrozenSet[Text] = frozenset()
    return (index.get((action, intent), empty) | index.get((action, ANY), empty)
            | index.get((ANY, intent), empty) | index.get((ANY, ANY), empty))


def _index_for(policy: RulePolicy, lookup: Dict[Text, Text]) -> Index:
    indexes = policy.__dict__.setdefault(_INDEXES, {})
    kept = indexes.get(id(lookup))
    if kept is None or kept[0] is not lookup or kept[1] != len(lookup):
        kept = indexes[id(lookup)] = (lookup, len(lookup), build_index(lookup))
    return kept[2]


def get_possible_keys(self: RulePolicy, lookup: Dict[Text, Text], states: List[Dict[Text, Any]]) -> Set[Text]:
    """`RulePolicy._get_possible_keys` with the first filter through the index."""
    if not states or not states[-1].get(PREVIOUS_ACTION):
        return _RASA_GET_POSSIBLE_KEYS(self, lookup, states)
    may = candidates(_index_for(self, lookup), states[-1])
    possible_keys = set(lookup.keys())
    for i, state in enumerate(reversed(states)):
        if i == 0:
            possible_keys = set(filter(lambda _key: _key in may and self._is_rule_applicable(_key, 0, state),
                                       possible_keys))
        else:
            possible_keys = set(filter(lambda _key: self._is_rule_applicable(_key, i, state), possible_keys))
    return possible_keys


get_possible_keys._bolt_indexed = True  # type: ignore[attr-defined]


def install() -> None:
    """Replace `RulePolicy._get_possible_keys` (idempotent)."""
    if not getattr(RulePolicy._get_possible_keys, "_bolt_indexed", False):
        RulePolicy._get_possible_keys = get_possible_keys  # type: ignore[method-assign]
