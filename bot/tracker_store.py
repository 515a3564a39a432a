"""Rasa's tracker store for this project: SQL on the project's database, secrets redacted.

Configured in `endpoints.yml` (`tracker_store: type: bot.tracker_store.RedactingSQLTrackerStore`).
Without arguments it uses `DATABASE_URL` (`bot.settings`), so the bot's side of a conversation
lives in the same database as the accounts and the live-agent queue and survives a restart.
A user message that holds a host key, password or card number is stored with the secret
masked (`bot.redaction`): the NLU pipeline saw the original, nothing after it does.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, UserUttered
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.database import make_engine
from bot.redaction import contains_secret, redact
from bot.settings import get_settings


class RedactingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that masks secrets in user messages before they are written."""

    def __init__(self, domain: Any = None, host: Optional[str] = None, db: Optional[str] = None,
                 event_broker: Any = None, **kwargs: Any) -> None:
        if host is None and db is None:
            url = make_url(get_settings().database_url)
            kwargs.setdefault("dialect", url.get_backend_name())
            host, db = url.host, url.database
            kwargs.setdefault("port", url.port)
            kwargs.setdefault("username", url.username)
            kwargs.setdefault("password", url.password)
        super().__init__(domain=domain, host=host, db=db or "rasa.db", event_broker=event_broker, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # Rasa's own SQLite engine opens a connection per query and syncs every commit to
            # disk: the project's engine (pooled, WAL, synchronous=NORMAL) nearly halves the
            # time a message spends in the tracker store (docs/benchmarks.md).
            url = self.engine.url.render_as_string(hide_password=False)
            self.engine.dispose()
            self.engine = make_engine(url)
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
