"""Two Rasa internals that cost every message without need, done the same way for less.

Profiled under the closed-loop benchmark (docs/benchmarks.md, "Rasa's cost per message"):
- `MessageProcessor._check_for_unseen_features` (a warning about intents the domain lacks) first
  asks `Domain.is_empty()`, which serializes the whole domain and builds an empty one to compare
  with: 1.5 % of the Rasa process's CPU. A loaded domain is not changed afterwards (Rasa makes a
  new one to change anything: `merge`, `load`), so the answer is kept on the domain object.
- Every tracker Rasa makes (`init_copy`: each prior state the policies featurize, each tracker
  copy) copies each slot of the domain with `copy.copy`, whose reduce protocol costs several
  times the copy itself: 2.4 %. `rasa.shared.core.trackers` gets a `copy` whose `copy` does for
  a plain object what `copy.copy` does for it (a new instance of its class with its `__dict__`
  updated from the original's), and falls back to `copy.copy` for anything else.

`install()` is called from `bot.components` (like `bot.dialogue_window`); `tests/test_hot_path.py`
compares both with Rasa's own on the project's domain.
"""
from __future__ import annotations

import copy as _copy
import copyreg
from typing import Any, Dict

from rasa.shared.core import trackers
from rasa.shared.core.domain import Domain

_RASA_IS_EMPTY = Domain.__dict__["is_empty"]
_EMPTY = "_bolt_is_empty"
_PLAIN: Dict[type, bool] = {}


def is_empty(self: Domain) -> bool:
    """`Domain.is_empty`, computed once per domain object."""
    known = self.__dict__.get(_EMPTY)
    if known is None:
        known = self.__dict__[_EMPTY] = _RASA_IS_EMPTY(self)
    return known


is_empty._bolt_memo = True  # type: ignore[attr-defined]


def _is_plain(cls: type) -> bool:
    """True when `copy.copy` of an instance is `cls.__new__(cls)` with the instance's `__dict__`:
    no copy hooks of its own, the default reduce and state, no (non-empty) `__slots__`."""
    plain = _PLAIN.get(cls)
    if plain is None:
        plain = _PLAIN[cls] = (
            cls not in _copy._copy_dispatch and cls not in copyreg.dispatch_table  # type: ignore[attr-defined]
            and not hasattr(cls, "__copy__") and not hasattr(cls, "__setstate__")
            and cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__
            and cls.__getstate__ is object.__getstate__ and cls.__new__ is object.__new__
            and not any(vars(base).get("__slots__") for base in cls.__mro__)  # (abc.ABC's are empty)
            and not issubclass(cls, type)
        )
    return plain


def shallow_copy(value: Any) -> Any:
    """`copy.copy(value)`, without the reduce protocol for plain objects."""
    cls = type(value)
    if _is_plain(cls) and value.__dict__:
        duplicate = object.__new__(cls)
        duplicate.__dict__.update(value.__dict__)
        return duplicate
    return _copy.copy(value)


class _TrackerCopy:
    """The `copy` module as `rasa.shared.core.trackers` sees it."""

    copy = staticmethod(shallow_copy)
    deepcopy = staticmethod(_copy.deepcopy)

    def __getattr__(self, name: str) -> Any:
        return getattr(_copy, name)


def install() -> None:
    """Both replacements (idempotent)."""
    if not getattr(Domain.__dict__["is_empty"], "_bolt_memo", False):
        Domain.is_empty = is_empty  # type: ignore[method-assign]
    if not isinstance(trackers.copy, _TrackerCopy):
        trackers.copy = _TrackerCopy()  # type: ignore[assignment]
