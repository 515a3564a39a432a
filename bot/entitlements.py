"""Who gets which support channel: SPEC §2 as data plus one pure function.

`entitlements(account_type, plan, role, licensed)` is the only entry point the actions and the
live-agent service need. It knows nothing about databases or tokens: the caller passes the
verified user's account data (anonymous users never reach it, see `ANONYMOUS_OFFERS`).

Reading of SPEC §2 where it is terse, and why:
- A free (`basic`) account gets no agent channel whatever its plan or role: Bolt forwards
  only *users of paid accounts*. Its plan therefore grants nothing (no prioritized response,
  no automatic escalation, no TAM).
- On Premier/Premier+ the seed's "licensed members" means licensed users of any role, so a
  licensed owner of a `pro` account on Premier gets phone support like a licensed member does.
- Prioritized response, automatic escalation and the TAM belong to the account's plan; the
  queue tier and automatic escalation only matter for users who may chat with an agent.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ACCOUNT_TYPES = ("basic", "pro", "business", "education", "enterprise", "api")
PAID_ACCOUNT_TYPES = frozenset(ACCOUNT_TYPES) - {"basic"}
# Phone support on the Standard plan: only these account types (seed footnote (*)).
PHONE_ACCOUNT_TYPES = frozenset({"business", "education", "enterprise", "api"})
PLANS = ("standard", "premier", "premier_plus")
ROLES = ("owner", "admin", "member")
ADMIN_ROLES = frozenset({"owner", "admin"})
QUEUES = ("tier1", "tier2")

# Where the user may turn instead of a live agent (CONTRACT.md `offers`).
OFFERS = ("ticket", "community", "help_center", "billing")
ANONYMOUS_OFFERS = ("ticket", "community", "help_center")

# Not-eligible reason codes (CONTRACT.md `reason`) and what each one offers instead.
FREE_ACCOUNT = "free_account"
UNLICENSED = "unlicensed"
REASON_OFFERS: dict[str, tuple[str, ...]] = {
    # billing: upgrading the account is how a free user gets live chat
    FREE_ACCOUNT: ("ticket", "community", "help_center", "billing"),
    # billing: a licence is bought through the account's billing admin
    UNLICENSED: ("ticket", "community", "help_center", "billing"),
}


@dataclass(frozen=True)
class PlanFeatures:
    """What a support plan adds on top of the rules every paid account shares."""

    licensed_users_chat: bool  # Frontline Tier 1 chat/ticket for licensed users of any role
    licensed_users_phone: bool  # Frontline Tier 1 phone for licensed users of any account type
    prioritized: bool
    direct_tier2: bool  # licensed owners/admins go straight to tier2
    automatic_escalation: bool
    tam: bool


# The seed's first table, cumulative (SPEC §1.1). Standard's own chat/phone rights for
# owners/admins are account-type rules (see `entitlements`), kept on every plan.
PLAN_FEATURES: dict[str, PlanFeatures] = {
    "standard": PlanFeatures(
        licensed_users_chat=True, licensed_users_phone=False, prioritized=False,
        direct_tier2=False, automatic_escalation=False, tam=False,
    ),
    "premier": PlanFeatures(
        licensed_users_chat=True, licensed_users_phone=True, prioritized=True,
        direct_tier2=True, automatic_escalation=False, tam=False,
    ),
    "premier_plus": PlanFeatures(
        licensed_users_chat=True, licensed_users_phone=True, prioritized=True,
        direct_tier2=True, automatic_escalation=True, tam=True,
    ),
}


@dataclass(frozen=True)
class Entitlements:
    """One user's support rights. `reason`/`offers` explain a missing live chat."""

    live_chat: bool
    ticket: bool
    phone: bool
    prioritized: bool
    queue: str | None  # "tier1" | "tier2" when live_chat, else None
    automatic_escalation: bool
    tam: bool
    reason: str | None = None
    offers: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["offers"] = list(self.offers)
        return data


class UnknownValue(ValueError):
    """An account type, plan or role outside the SPEC's vocabulary."""


def _check(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise UnknownValue(f"unknown {what} {value!r}; expected one of {allowed}")
    return value


def entitlements(account_type: str, plan: str, role: str, licensed: bool) -> Entitlements:
    """SPEC §2 for one identified user."""
    _check(account_type, ACCOUNT_TYPES, "account type")
    _check(plan, PLANS, "plan")
    _check(role, ROLES, "role")
    licensed = bool(licensed)

    if account_type not in PAID_ACCOUNT_TYPES:
        return Entitlements(
            live_chat=False, ticket=True, phone=False, prioritized=False, queue=None,
            automatic_escalation=False, tam=False,
            reason=FREE_ACCOUNT, offers=REASON_OFFERS[FREE_ACCOUNT],
        )

    features = PLAN_FEATURES[plan]
    is_admin = role in ADMIN_ROLES
    live_chat = is_admin or (licensed and features.licensed_users_chat)
    phone = (licensed and is_admin and account_type in PHONE_ACCOUNT_TYPES) or (
        licensed and features.licensed_users_phone
    )
    queue = None
    if live_chat:
        queue = "tier2" if (features.direct_tier2 and licensed and is_admin) else "tier1"
    reason = None if live_chat else UNLICENSED
    return Entitlements(
        live_chat=live_chat,
        ticket=True,
        phone=phone,
        prioritized=features.prioritized,
        queue=queue,
        automatic_escalation=features.automatic_escalation and live_chat,
        tam=features.tam,
        reason=reason,
        offers=REASON_OFFERS[reason] if reason else (),
    )
