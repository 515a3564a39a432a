"""Yes or no to "may <someone> use <a channel>?", decided by `bot.entitlements` (SPEC §2).

A question that names who it is about ("ein nicht lizenziertes Mitglied", "the owner of a Pro
account", "Basic-Konten") is a profile: the roles, licence, account types and plans it names
(`knowledge/roles.yml` for the words, the `plan` entity for plans). Every combination the
question leaves open is checked with the one entitlement function, so the answer is "yes" when
all of them may, "no" when none may, and otherwise says what it depends on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

import yaml

from bot import messages
from bot.answers.context import negated
from bot.entitlements import PAID_ACCOUNT_TYPES, PLANS, ROLES, Entitlements, entitlements
from bot.settings import get_settings

# Plan features (knowledge/features.yml) whose "who" SPEC §2 decides per user.
FEATURE_RIGHTS: Dict[str, Callable[[Entitlements], bool]] = {
    "tier1_phone": lambda rights: rights.phone,
    "tier1_chat": lambda rights: rights.live_chat,
    "prioritized_response": lambda rights: rights.prioritized,
    "direct_tier2": lambda rights: rights.queue == "tier2",
    "automatic_escalation": lambda rights: rights.automatic_escalation,
    "technical_account_manager": lambda rights: rights.tam,
}
YES, NO, DEPENDS = "yes", "no", "depends"


@dataclass(frozen=True)
class Profile:
    """Who a question is about; an empty set means the question leaves it open."""

    roles: FrozenSet[str] = frozenset()
    licensed: FrozenSet[bool] = frozenset()
    account_types: FrozenSet[str] = frozenset()
    plans: FrozenSet[str] = frozenset()

    @property
    def names_someone(self) -> bool:
        return bool(self.roles or self.licensed or self.account_types)


@dataclass(frozen=True)
class Verdict:
    outcome: str  # YES | NO | DEPENDS
    # For DEPENDS, when the allowed combinations are "these values of this dimension and those of
    # that one": dimension -> the values that allow it (only the dimensions that restrict).
    conditions: Tuple[Tuple[str, Tuple], ...] = ()


@dataclass(frozen=True)
class _Term:
    dimension: str
    value: object
    pattern: re.Pattern


@lru_cache(maxsize=4)
def _terms(directory: Path) -> Tuple[_Term, ...]:
    data = yaml.safe_load((directory / "roles.yml").read_text(encoding="utf-8"))
    entries: List[Tuple[int, _Term]] = []
    groups = (("roles", data["roles"]), ("licence", data["licence"]), ("account_types", data["account_types"]))
    for dimension, values in groups:
        for value, words in values.items():
            for word in words:
                case_sensitive = word.startswith("=")
                word = word.lstrip("=")
                prefix = word.endswith("*")
                body = re.escape(word.rstrip("*")).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]?")
                tail = r"[\w-]*" if prefix else ""
                regex = rf"(?<![\w-]){body}{tail}(?![\w])"
                flags = 0 if case_sensitive else re.IGNORECASE
                stored = {"licensed": True, "unlicensed": False}.get(value, value) if dimension == "licence" else value
                entries.append((len(word), _Term(dimension, stored, re.compile(regex, flags))))
    entries.sort(key=lambda item: -item[0])
    return tuple(term for _, term in entries)


def profile(text: str, plans: Sequence[str] = ()) -> Profile:
    """The profile a question names; longer phrases win, negated words ("kein Admin") don't count."""
    taken: List[Tuple[int, int]] = []
    found: Dict[str, set] = {"roles": set(), "licence": set(), "account_types": set()}
    for term in _terms(get_settings().knowledge_dir):
        for match in term.pattern.finditer(text or ""):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            taken.append((match.start(), match.end()))
            if not negated(text, match.start()):
                found[term.dimension].add(term.value)
    return Profile(
        roles=frozenset(found["roles"]), licensed=frozenset(found["licence"]),
        account_types=frozenset(found["account_types"]), plans=frozenset(p for p in plans if p in PLANS),
    )


def verdict(feature: str, who: Profile) -> Optional[Verdict]:
    """Whether everyone, no one, or only some of `who` get `feature` (None: not a per-user right)."""
    allows = FEATURE_RIGHTS.get(feature)
    if allows is None:
        return None
    # Unnamed account types range over the paid ones: support plans belong to paid accounts.
    dimensions = {
        "account_types": sorted(who.account_types) or sorted(PAID_ACCOUNT_TYPES),
        "plans": sorted(who.plans) or list(PLANS),
        "roles": sorted(who.roles) or list(ROLES),
        "licensed": sorted(who.licensed) or [True, False],
    }
    names = list(dimensions)
    outcomes = {}
    for combination in product(*(dimensions[name] for name in names)):
        values = dict(zip(names, combination))
        rights = entitlements(values["account_types"], values["plans"], values["roles"], values["licensed"])
        outcomes[combination] = allows(rights)
    if all(outcomes.values()):
        return Verdict(YES)
    if not any(outcomes.values()):
        return Verdict(NO)
    allowed = {combination for combination, ok in outcomes.items() if ok}
    per_dimension = [sorted({combination[index] for combination in allowed}, key=dimensions[name].index)
                     for index, name in enumerate(names)]
    if set(product(*per_dimension)) != allowed:
        return Verdict(DEPENDS)
    conditions = tuple(
        (name, tuple(values)) for name, values in zip(names, per_dimension)
        if len(values) < len(dimensions[name])
    )
    return Verdict(DEPENDS, conditions)


def lead(verdict: Verdict, lang: str) -> str:
    """The answer's first words: "Ja.", "Nein.", "Ja, mit Premier oder Premier+." ..."""
    if verdict.outcome == YES:
        return messages.render("rights_yes", lang)
    if verdict.outcome == NO:
        return messages.render("rights_no", lang)
    if verdict.conditions:
        key = "rights_yes_if" if len(verdict.conditions) == 1 else "rights_only_if"
        return messages.render(key, lang, conditions=conditions_text(verdict, lang))
    return messages.render("rights_depends", lang)


def conditions_text(verdict: Verdict, lang: str) -> str:
    """ "mit Premier oder Premier+ und mit Lizenz" for a DEPENDS verdict with conditions."""
    return f" {messages.render('rights_and', lang)} ".join(
        _condition(name, values, lang) for name, values in verdict.conditions)


def _condition(dimension: str, values, lang: str) -> str:
    if dimension == "licensed":
        return messages.render("rights_licensed" if values == (True,) else "rights_unlicensed", lang)
    if dimension == "plans":
        names = [messages.render(f"account_plan_{plan}", lang) for plan in values]
        return messages.render("rights_on_plans", lang, plans=_either(names, lang))
    if dimension == "roles":
        names = [messages.render(f"role_{role}_plural", lang) for role in values]
        return messages.render("rights_as_roles", lang, roles=_either(names, lang))
    names = [messages.render(f"account_type_{account_type}", lang) for account_type in values]
    return messages.render("rights_with_account_types", lang, account_types=_either(names, lang))


def _either(names: List[str], lang: str) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {messages.render('phone_or', lang)} " + names[-1]
