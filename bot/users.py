"""Who the user of a conversation is, for the actions and the in-process NLG alike.

Identity comes only from the signed token in the message metadata (CONTRACT.md), never from
what the user typed; a missing, expired, forged or malformed token means anonymous. The account
lookup is cached for a short while per user id, so an FAQ answer that is tailored to the user
(the phone answer says "you may call") costs a database query at most once a minute and user.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from bot.accounts import repository
from bot.accounts.db import session_scope
from bot.accounts.repository import UserView
from bot.entitlements import Entitlements, entitlements
from bot.identity import verify_token
from bot.settings import get_settings

logger = logging.getLogger(__name__)

IDENTITY_TOKEN = "identity_token"
# How long an account lookup is reused: a licence assigned a minute ago may still read as
# unassigned, never longer.
CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class KnownUser:
    """A verified user, their account and their support rights (SPEC §2)."""

    user: UserView
    rights: Entitlements


def latest_identity_token(metadata: Iterable[Mapping[str, Any] | None]) -> str | None:
    """The token of the most recent message metadata that carries one (any message may)."""
    for item in reversed(list(metadata)):
        if isinstance(item, Mapping) and item.get(IDENTITY_TOKEN):
            return item[IDENTITY_TOKEN]
    return None


class _Cache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, KnownUser | None]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> tuple[bool, KnownUser | None]:
        with self._lock:
            entry = self._entries.get(user_id)
        if entry is None or time.monotonic() - entry[0] > CACHE_SECONDS:
            return False, None
        return True, entry[1]

    def put(self, user_id: str, known: KnownUser | None) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[user_id] = (time.monotonic(), known)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_CACHE = _Cache()


def clear_cache() -> None:
    """Forget every cached lookup (tests that change accounts)."""
    _CACHE.clear()


def _load(user_id: str) -> KnownUser | None:
    with session_scope() as session:
        user = repository.find_user(session, user_id)
    if user is None:
        logger.warning("identity token for unknown user %s: anonymous", user_id)
        return None
    account = user.account
    return KnownUser(user, entitlements(account.type, account.plan, user.role, user.licensed))


def lookup(token: str | None) -> KnownUser | None:
    """The verified user of `token` with their rights, or None (anonymous). Blocking: the
    database is asked when the cache has no fresh entry, so async callers use a thread."""
    user_id = verify_token(token, get_settings().identity_secret)
    if user_id is None:
        return None
    fresh, known = _CACHE.get(user_id)
    if fresh:
        return known
    known = _load(user_id)
    _CACHE.put(user_id, known)
    return known
