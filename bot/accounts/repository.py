"""Queries on the accounts database (2.0-style `select()`), returning plain snapshots.

Callers get frozen dataclasses, not ORM objects, so nothing lazy-loads after the session closed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.accounts.models import Account, OutboxEntry, TechnicalAccountManager, User


@dataclass(frozen=True)
class AccountView:
    id: str
    name: str
    type: str
    plan: str
    tam_name: str | None
    tam_email: str | None


@dataclass(frozen=True)
class UserView:
    id: str
    role: str
    licensed: bool
    name: str
    email: str
    account: AccountView


def _account_view(account: Account) -> AccountView:
    tam = account.technical_account_manager
    return AccountView(
        id=account.id, name=account.name, type=account.type, plan=account.plan,
        tam_name=tam.name if tam else None, tam_email=tam.email if tam else None,
    )


def _user_view(user: User) -> UserView:
    return UserView(
        id=user.id, role=user.role, licensed=bool(user.licensed), name=user.name,
        email=user.email, account=_account_view(user.account),
    )


def find_user(session: Session, user_id: str) -> UserView | None:
    """The user with this id and their account, or None."""
    statement = (
        select(User)
        .where(User.id == user_id)
        .options(selectinload(User.account).selectinload(Account.technical_account_manager))
    )
    user = session.execute(statement).scalar_one_or_none()
    return _user_view(user) if user else None


def list_accounts(session: Session) -> list[AccountView]:
    statement = select(Account).order_by(Account.id).options(selectinload(Account.technical_account_manager))
    return [_account_view(a) for a in session.execute(statement).scalars()]


def list_users(session: Session, account_id: str | None = None) -> list[UserView]:
    statement = (
        select(User)
        .order_by(User.account_id, User.id)
        .options(selectinload(User.account).selectinload(Account.technical_account_manager))
    )
    if account_id:
        statement = statement.where(User.account_id == account_id)
    return [_user_view(u) for u in session.execute(statement).scalars()]


def upsert_tam(session: Session, name: str, email: str) -> TechnicalAccountManager:
    tam = session.execute(
        select(TechnicalAccountManager).where(TechnicalAccountManager.email == email)
    ).scalar_one_or_none()
    if tam is None:
        tam = TechnicalAccountManager(name=name, email=email)
        session.add(tam)
    else:
        tam.name = name
    session.flush()
    return tam


def upsert_account(
    session: Session, account_id: str, name: str, type: str, plan: str,
    tam: tuple[str, str] | None = None,
) -> bool:
    """Create or update an account; True when it was created."""
    account = session.get(Account, account_id)
    created = account is None
    if created:
        account = Account(id=account_id)
        session.add(account)
    account.name, account.type, account.plan = name, type, plan
    account.technical_account_manager = upsert_tam(session, *tam) if tam else None
    session.flush()
    return created


def upsert_user(
    session: Session, user_id: str, account_id: str, role: str, licensed: bool, name: str, email: str
) -> bool:
    """Create or update a user; True when it was created."""
    if session.get(Account, account_id) is None:
        raise LookupError(f"no account {account_id!r}")
    user = session.get(User, user_id)
    created = user is None
    if created:
        user = User(id=user_id)
        session.add(user)
    user.account_id, user.role, user.licensed, user.name, user.email = (
        account_id, role, bool(licensed), name, email,
    )
    session.flush()
    return created


# --- outbox: calls to the live-agent service that wait for it to come back --------------------

def add_outbox_entry(
    session: Session, kind: str, ticket_id: str, conversation_id: str | None, payload: dict[str, Any]
) -> None:
    session.add(OutboxEntry(kind=kind, ticket_id=ticket_id, conversation_id=conversation_id, payload=payload))
    session.flush()


def claim_outbox(session: Session, limit: int, lease_seconds: float) -> list[tuple[int, str, dict[str, Any]]]:
    """Take up to `limit` undelivered entries no other action server is forwarding.

    `FOR UPDATE SKIP LOCKED` (PostgreSQL) passes over rows another server is claiming at this
    moment; the conditional UPDATE of the lease (`claimed_until`) is what makes a claim
    exclusive on any database, and keeps the rows off the others while they are sent.
    Returns (id, kind, payload), oldest first.
    """
    now = datetime.now(timezone.utc)
    free = or_(OutboxEntry.claimed_until.is_(None), OutboxEntry.claimed_until < now)
    candidates = list(session.execute(
        select(OutboxEntry)
        .where(OutboxEntry.delivered_at.is_(None), free)
        .order_by(OutboxEntry.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars())
    claimed = []
    for entry in candidates:
        taken = session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == entry.id, OutboxEntry.delivered_at.is_(None), free)
            .values(claimed_until=now + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        if taken:
            claimed.append((entry.id, entry.kind, entry.payload))
    return claimed


def release_outbox(session: Session, entry_ids: list[int]) -> None:
    """Give up the lease of entries that were claimed but not tried."""
    if entry_ids:
        session.execute(
            update(OutboxEntry).where(OutboxEntry.id.in_(entry_ids)).values(claimed_until=None)
        )


def mark_outbox(session: Session, entry_id: int, error: str | None) -> None:
    entry = session.get(OutboxEntry, entry_id)
    if entry is None:
        return
    entry.attempts += 1
    entry.claimed_until = None
    if error is None:
        entry.delivered_at = datetime.now(timezone.utc)
        entry.last_error = None
    else:
        entry.last_error = error[:500]
