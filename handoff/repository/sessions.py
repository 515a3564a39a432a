"""Agent sessions that can end, and the security events of the audit log.

A token (handoff/security.py) is valid while its agent is active, it was issued after the
agent's `sessions_revoked_at`, and its `jti` is not in `handoff_revoked_sessions`. The database
is the one record every instance reads on every request and agent socket, so a sign-out or a
disable holds everywhere at once.

Security events go into the audit log (`handoff_agent_actions`, the table of `audit`) with the
actions in `SECURITY_ACTIONS`; `security_events` reads them back for `GET /api/audit`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from handoff.errors import Conflict, NotFound
from handoff.models import Agent, AgentAction, RevokedSession, utcnow
from handoff.repository.agents import agent_info, audit
from handoff.repository.records import AgentInfo, iso
from handoff.security import AgentSession

# What the audit log records besides what agents do to conversations. `agent` of the row is:
# the username tried (login_failed, login_throttled: only names of existing agents, so the log
# cannot be filled with made-up names), the agent who signed out (logout), the supervisor who
# acted (agent_disabled, agent_enabled: `detail.target` is the agent concerned).
LOGIN_FAILED = "login_failed"
LOGIN_THROTTLED = "login_throttled"
LOGOUT = "logout"
AGENT_DISABLED = "agent_disabled"
AGENT_ENABLED = "agent_enabled"
SECURITY_ACTIONS = ("login", LOGIN_FAILED, LOGIN_THROTTLED, LOGOUT, AGENT_DISABLED, AGENT_ENABLED)


def _moment(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, tz=timezone.utc)


def session_agent(session: Session, token: AgentSession) -> AgentInfo | None:
    """The agent of a token that still holds, else None (disabled, revoked or signed out)."""
    agent = session.get(Agent, token.username)
    if agent is None or not agent.active:
        return None
    if agent.sessions_revoked_at is not None and _moment(token.issued_at) <= agent.sessions_revoked_at:
        return None
    if session.get(RevokedSession, token.session_id) is not None:
        return None
    return agent_info(agent)


def end_session(session: Session, token: AgentSession) -> None:
    """Sign out: the token's id is refused from now on; ids past their expiry are forgotten."""
    session.execute(delete(RevokedSession).where(RevokedSession.expires_at < utcnow()))
    if session.get(RevokedSession, token.session_id) is None:
        session.add(RevokedSession(session_id=token.session_id, agent=token.username,
                                   expires_at=_moment(token.expires_at)))
    audit(session, token.username, LOGOUT)


def set_agent_active(session: Session, supervisor: AgentInfo, username: str, active: bool) -> dict[str, Any]:
    """A supervisor disables (every session of the agent ends) or enables an agent."""
    agent = session.get(Agent, username, with_for_update=True)
    if agent is None:
        raise NotFound(f"no agent {username}")
    if not active and username == supervisor.username:
        raise Conflict("a supervisor cannot disable themselves", code="cannot_disable_self")
    changed = agent.active != active
    agent.active = active
    if not active:
        # Also the tokens issued in this very second: the agent signs in again after an enable.
        agent.sessions_revoked_at = utcnow()
    if changed:
        audit(session, supervisor.username, AGENT_DISABLED if not active else AGENT_ENABLED, target=username)
    return {**agent_info(agent).as_dict(), "active": agent.active}


def agent_exists(session: Session, username: str) -> bool:
    return session.get(Agent, username) is not None


def record_security_event(session: Session, username: str, action: str, **detail: Any) -> None:
    """A sign-in event for the audit log; only for existing agents (see SECURITY_ACTIONS)."""
    if agent_exists(session, username):
        audit(session, username, action, **detail)


def security_events(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """The newest security events, newest first: `{"agent", "action", "detail", "at"}`."""
    rows = session.scalars(
        select(AgentAction).where(AgentAction.action.in_(SECURITY_ACTIONS))
        .order_by(AgentAction.id.desc()).limit(limit)
    )
    return [{"agent": row.agent, "action": row.action, "detail": row.detail or {}, "at": iso(row.at)}
            for row in rows]
