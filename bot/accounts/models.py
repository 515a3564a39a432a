"""The accounts schema. Table names avoid the live-agent service's (same database, own migrations)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, JSON, String, Text
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class TechnicalAccountManager(Base):
    __tablename__ = "technical_account_managers"

    id = Column(Integer, primary_key=True, autoincrement=True)
    name = Column(String(200), nullable=False)
    email = Column(String(320), nullable=False, unique=True)

    accounts = relationship("Account", back_populates="technical_account_manager")


class Account(Base):
    __tablename__ = "accounts"

    id = Column(String(64), primary_key=True)
    name = Column(String(200), nullable=False)
    type = Column(String(32), nullable=False)  # bot.entitlements.ACCOUNT_TYPES
    plan = Column(String(32), nullable=False, default="standard")  # bot.entitlements.PLANS
    technical_account_manager_id = Column(
        Integer, ForeignKey("technical_account_managers.id", ondelete="SET NULL"), nullable=True
    )

    technical_account_manager = relationship("TechnicalAccountManager", back_populates="accounts")
    users = relationship("User", back_populates="account", order_by="User.id")


class User(Base):
    __tablename__ = "account_users"

    id = Column(String(64), primary_key=True)  # the identity token's `sub`
    account_id = Column(String(64), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    role = Column(String(16), nullable=False)  # bot.entitlements.ROLES
    licensed = Column(Boolean, nullable=False, default=False)
    name = Column(String(200), nullable=False)
    email = Column(String(320), nullable=False)

    account = relationship("Account", back_populates="users")


class OutboxEntry(Base):
    """A ticket the live-agent service could not take yet (service down).

    Kept until it was delivered, so nothing the user wrote is lost; `kind` is the endpoint
    (`ticket`: an escalation that could not be queued becomes a ticket too), `payload` the JSON
    body exactly as it will be sent. `claimed_until`: an action server is forwarding it.
    """

    __tablename__ = "action_outbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    kind = Column(String(16), nullable=False)
    ticket_id = Column(String(16), nullable=False, unique=True)
    conversation_id = Column(String(200), nullable=True, index=True)
    payload = Column(JSON, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text, nullable=True)
    delivered_at = Column(DateTime(timezone=True), nullable=True, index=True)
    claimed_until = Column(DateTime(timezone=True), nullable=True)
