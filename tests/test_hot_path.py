"""bot/hot_path.py: the same answers as Rasa's own, on the project's domain."""
from __future__ import annotations

import copy

import pytest
from rasa.shared.core import trackers
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

import bot.components  # noqa: F401  (installs the patches, as loading the model does)
from bot import hot_path


def test_installed():
    assert Domain.is_empty is hot_path.is_empty
    assert trackers.copy.copy is hot_path.shallow_copy and trackers.copy.deepcopy is copy.deepcopy


def test_is_empty_is_rasas_answer_kept(domain):
    assert domain.is_empty() is False and hot_path._RASA_IS_EMPTY(domain) is False
    assert Domain.empty().is_empty() is True
    assert domain.is_empty() is False  # kept


def test_every_slot_copies_as_copy_copy_does(domain):
    assert domain.slots
    for slot in domain.slots:
        slot.value = "x" if slot.type_name in ("text", "categorical", "any") else slot.value
        fast, rasa = hot_path.shallow_copy(slot), copy.copy(slot)
        assert hot_path._is_plain(type(slot)), type(slot)
        assert type(fast) is type(rasa) and fast is not slot
        assert vars(fast) == vars(rasa) and vars(fast) is not vars(slot)
        slot.reset()


class _Hooked:
    def __init__(self):
        self.copied = False

    def __copy__(self):
        duplicate = _Hooked()
        duplicate.copied = True
        return duplicate


class _Slotted:
    __slots__ = ("a",)

    def __init__(self):
        self.a = 1


@pytest.mark.parametrize("value", [_Hooked(), _Slotted(), [1, 2], {"a": 1}, 3, "s"])
def test_anything_else_is_copy_copy(value):
    fast = hot_path.shallow_copy(value)
    assert type(fast) is type(value)
    if isinstance(value, _Hooked):
        assert fast.copied
    elif isinstance(value, _Slotted):
        assert fast.a == 1 and fast is not value
    else:
        assert fast == value


def test_a_tracker_holds_its_own_slots(domain):
    tracker = DialogueStateTracker.from_events("copy", [ActionExecuted("action_listen"), UserUttered("hi")], domain.slots)
    other = tracker.init_copy()
    name = next(iter(tracker.slots))
    tracker.update(SlotSet(name, "DE"))
    assert tracker.get_slot(name) == "DE" and other.get_slot(name) != "DE"
    assert all(tracker.slots[n] is not other.slots[n] for n in tracker.slots)
