"""The help center's identity token (CONTRACT.md): a HS256 JWT with `sub`, `exp`, `iat`.

Whatever goes wrong with a token, the user counts as anonymous: the reason is logged, never
raised to the user.
"""
from __future__ import annotations

import logging
import time

import jwt

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"


def verify_token(token: object, secret: str) -> str | None:
    """Return the user id of a valid token, or None (anonymous) for anything else."""
    if not token:
        return None
    if not isinstance(token, str):
        logger.info("identity token is not a string: anonymous")
        return None
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        logger.info("identity token expired: anonymous")
        return None
    except jwt.InvalidTokenError as error:
        logger.warning("identity token rejected (%s): anonymous", error.__class__.__name__)
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        logger.warning("identity token without a usable sub: anonymous")
        return None
    return subject


def mint_token(user_id: str, secret: str, ttl_seconds: int = 3600) -> str:
    """Issue a token as the help center would (the demo page and the tests use this)."""
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + ttl_seconds}, secret, algorithm=ALGORITHM)
