"""Rasa's tracker store for this project: SQL on the project's database, secrets redacted.

Configured in `endpoints.yml` (`tracker_store: type: bot.tracker_store.RedactingSQLTrackerStore`).
Without arguments it uses `DATABASE_URL` (`bot.settings`) exactly as given, query included
(`sslmode`, `application_name`, …), so the bot's side of a conversation lives in the same
database as the accounts and the live-agent queue and survives a restart. A user message that
holds a host key, password or card number is stored with the secret masked (`bot.redaction`):
the NLU pipeline saw the original, nothing after it does.
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Iterator, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, UserUttered
from sqlalchemy.orm import sessionmaker

from bot.database import make_engine, migration_lock
from bot.redaction import contains_secret, redact
from bot.settings import get_settings


class RedactingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that masks secrets in user messages before they are written."""

    def __init__(self, domain: Any = None, host: Optional[str] = None, db: Optional[str] = None,
                 event_broker: Any = None, **kwargs: Any) -> None:
        settings = get_settings()
        if host is None and db is None:
            # Rasa takes a `host` holding "://" as the whole URL: nothing of it is rebuilt or lost.
            host = settings.database_url
        url = host if host and "://" in host else None
        # Rasa creates its table at start; processes starting together take turns (its own
        # retry would wait 5 s after the loser's UniqueViolation).
        with migration_lock(url) if url else nullcontext():
            super().__init__(domain=domain, host=host, db=db or "rasa.db", event_broker=event_broker, **kwargs)
        # Rasa's engine opens a SQLite connection per query and syncs every commit to disk, and
        # sizes a PostgreSQL pool from its own variables: the project's engine (SQLite: pooled,
        # WAL, synchronous=NORMAL, docs/benchmarks.md; PostgreSQL: the pool of docs/scaling.md).
        rendered = self.engine.url.render_as_string(hide_password=False)
        self.engine.dispose()
        self.engine = make_engine(rendered, settings.database_pool_size, settings.database_max_overflow)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _additional_events(self, session: Any, tracker: Any) -> Iterator[Event]:
        for event in super()._additional_events(session, tracker):
            yield redacted(event)


def redacted(event: Event) -> Event:
    """The event itself, or for a user message holding a secret a copy with the secret masked."""
    if not isinstance(event, UserUttered) or not event.text or not contains_secret(event.text):
        return event
    data = event.as_dict()
    data["text"] = redact(event.text)
    parse_data = dict(data.get("parse_data") or {})
    parse_data["text"] = data["text"]
    data["parse_data"] = parse_data
    return Event.from_parameters(data)
