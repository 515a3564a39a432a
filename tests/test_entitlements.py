"""SPEC §2 over every account type × plan × role × licensed combination.

The oracle below is the SPEC's wording, written independently of `bot.entitlements`' tables,
so a mistake in the table shows up as a disagreement here.
"""
from __future__ import annotations

import itertools

import pytest
import yaml

from bot.accounts.seed import DEMO_FIXTURE
from bot.entitlements import ACCOUNT_TYPES, PLANS, ROLES, UnknownValue, entitlements

PAID = {"pro", "business", "education", "enterprise", "api"}
PREMIER_OR_PLUS = {"premier", "premier_plus"}
PHONE_TYPES = {"business", "education", "enterprise", "api"}


def spec(account_type: str, plan: str, role: str, licensed: bool) -> dict:
    """SPEC §2, sentence by sentence."""
    paid = account_type in PAID
    owner_or_admin = role in ("owner", "admin")
    # Live chat: paid AND (owner/admin OR licensed) on Standard; licensed on Premier/Premier+
    # (owners/admins keep their Standard right).
    live_chat = paid and (owner_or_admin or licensed)
    # Phone: licensed owner/admin of business/education/enterprise/api; or licensed member on Premier/+.
    phone = paid and licensed and (
        (owner_or_admin and account_type in PHONE_TYPES) or plan in PREMIER_OR_PLUS
    )
    # Prioritized response: Premier and Premier+ (a free account has no plan benefits).
    prioritized = paid and plan in PREMIER_OR_PLUS
    # Queue: tier2 for licensed owners/admins on Premier/Premier+, else tier1.
    queue = None
    if live_chat:
        queue = "tier2" if (licensed and owner_or_admin and plan in PREMIER_OR_PLUS) else "tier1"
    reason = None if live_chat else ("free_account" if not paid else "unlicensed")
    return {
        "live_chat": live_chat,
        "ticket": True,  # every identified user
        "phone": phone,
        "prioritized": prioritized,
        "queue": queue,
        "automatic_escalation": live_chat and plan == "premier_plus",
        "tam": paid and plan == "premier_plus",
        "reason": reason,
    }


COMBINATIONS = list(itertools.product(ACCOUNT_TYPES, PLANS, ROLES, (False, True)))


def test_the_combinations_cover_the_spec_vocabulary():
    assert set(ACCOUNT_TYPES) == PAID | {"basic"}
    assert set(PLANS) == {"standard", "premier", "premier_plus"}
    assert set(ROLES) == {"owner", "admin", "member"}
    assert len(COMBINATIONS) == 6 * 3 * 3 * 2


@pytest.mark.parametrize("account_type,plan,role,licensed", COMBINATIONS)
def test_every_combination_follows_the_spec(account_type, plan, role, licensed):
    rights = entitlements(account_type, plan, role, licensed)
    expected = spec(account_type, plan, role, licensed)
    actual = {key: getattr(rights, key) for key in expected}
    assert actual == expected


@pytest.mark.parametrize("account_type,plan,role,licensed", COMBINATIONS)
def test_who_may_not_chat_gets_a_reason_and_offers(account_type, plan, role, licensed):
    rights = entitlements(account_type, plan, role, licensed)
    if rights.live_chat:
        assert rights.reason is None and rights.offers == ()
    else:
        assert rights.reason in ("free_account", "unlicensed")
        assert "ticket" in rights.offers
        assert set(rights.offers) <= {"ticket", "community", "help_center", "billing"}


# SPEC §2's table of expected outcomes per demo user.
DEMO_TABLE = {
    #                    live chat, queue,  prioritized, phone, TAM
    "u-basic-owner":     (False, None,    False, False, False),
    "u-pro-owner":       (True,  "tier1", False, False, False),
    "u-biz-admin":       (True,  "tier1", False, True,  False),
    "u-biz-member":      (True,  "tier1", False, False, False),
    "u-biz-unlicensed":  (False, None,    False, False, False),
    "u-edu-admin":       (True,  "tier1", False, True,  False),
    "u-api-owner":       (True,  "tier1", False, True,  False),
    "u-premier-member":  (True,  "tier1", True,  True,  False),
    "u-premier-admin":   (True,  "tier2", True,  True,  False),
    "u-plus-admin":      (True,  "tier2", True,  True,  True),
    "u-plus-member":     (True,  "tier1", True,  True,  True),
}


def _demo_users():
    data = yaml.safe_load(DEMO_FIXTURE.read_text(encoding="utf-8"))
    accounts = {account["id"]: account for account in data["accounts"]}
    return [(user, accounts[user["account"]]) for user in data["users"]]


@pytest.mark.parametrize("user,account", _demo_users(), ids=lambda value: value.get("id", ""))
def test_demo_users_match_the_spec_table(user, account):
    rights = entitlements(account["type"], account["plan"], user["role"], user["licensed"])
    assert (rights.live_chat, rights.queue, rights.prioritized, rights.phone, rights.tam) == DEMO_TABLE[user["id"]]


def test_demo_reasons():
    assert entitlements("basic", "standard", "owner", False).reason == "free_account"
    assert entitlements("business", "standard", "member", False).reason == "unlicensed"


@pytest.mark.parametrize("args", [("gold", "standard", "owner", True), ("pro", "platinum", "owner", True),
                                  ("pro", "standard", "superuser", True)])
def test_unknown_values_are_refused(args):
    with pytest.raises(UnknownValue):
        entitlements(*args)
