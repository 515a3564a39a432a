"""Agent passwords (argon2) and agent tokens (HS256 JWT, signed with AGENT_TOKEN_SECRET).

Every token carries a `jti`, its session id: signing out revokes that id, disabling an agent
revokes every token issued before (`handoff.repository.sessions`).
"""
from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

AGENT_TOKEN_AUDIENCE = "handoff-agent"
ALGORITHM = "HS256"

_hasher = PasswordHasher()
# Verifying against this when the username is unknown keeps the answer time the same.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class AgentSession:
    """What a valid agent token says: who, which session, issued and expiring when (unix s)."""

    username: str
    session_id: str
    issued_at: int
    expires_at: int


def mint_agent_token(username: str, secret: str, ttl_seconds: int) -> str:
    now = int(time.time())
    claims = {"sub": username, "aud": AGENT_TOKEN_AUDIENCE, "iat": now, "exp": now + ttl_seconds,
              "jti": secrets.token_hex(16)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def agent_from_token(token: str, secret: str) -> AgentSession | None:
    """The session of a validly signed, unexpired agent token, else None (revocation is the
    database's to say)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AGENT_TOKEN_AUDIENCE,
            options={"require": ["exp", "iat", "sub", "aud", "jti"]},
        )
    except jwt.InvalidTokenError:
        return None
    subject, session_id = claims.get("sub"), claims.get("jti")
    issued_at, expires_at = claims.get("iat"), claims.get("exp")
    if not (isinstance(subject, str) and subject and isinstance(session_id, str) and 0 < len(session_id) <= 64):
        return None
    if not (isinstance(issued_at, int) and isinstance(expires_at, int)):
        return None
    return AgentSession(subject, session_id, issued_at, expires_at)


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
