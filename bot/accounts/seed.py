"""Loads the demo accounts and users (`bot/accounts/demo.yml`, a copy of the shared fixture).

Idempotent: running it again updates the same rows by id and never duplicates them, so
`make run` can call it on every start.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from bot.accounts import repository

DEMO_FIXTURE = Path(__file__).resolve().parent / "demo.yml"


@dataclass(frozen=True)
class SeedResult:
    accounts_created: int
    accounts_total: int
    users_created: int
    users_total: int


def load_fixture(path: Path = DEMO_FIXTURE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def seed(session: Session, data: dict[str, Any] | None = None) -> SeedResult:
    """Upsert the fixture's accounts (with their TAMs) and users."""
    data = load_fixture() if data is None else data
    accounts = data.get("accounts") or []
    users = data.get("users") or []
    accounts_created = users_created = 0
    for account in accounts:
        tam = account.get("technical_account_manager")
        accounts_created += repository.upsert_account(
            session, account["id"], account["name"], account["type"], account.get("plan", "standard"),
            tam=(tam["name"], tam["email"]) if tam else None,
        )
    for user in users:
        users_created += repository.upsert_user(
            session, user["id"], user["account"], user["role"], bool(user.get("licensed")),
            user["name"], user["email"],
        )
    return SeedResult(accounts_created, len(accounts), users_created, len(users))
