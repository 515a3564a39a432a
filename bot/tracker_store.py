"""Rasa's tracker store for this project: SQL on the project's database, secrets redacted, hot
trackers kept in memory.

Configured in `endpoints.yml` (`tracker_store: type: bot.tracker_store.RedactingSQLTrackerStore`).
Without arguments it uses `DATABASE_URL` (`bot.settings`) exactly as given, query included
(`sslmode`, `application_name`, …), so the bot's side of a conversation lives in the same
database as the accounts and the live-agent queue and survives a restart. A user message that
holds a host key, password or card number is stored with the secret masked (`bot.redaction`):
the NLU pipeline saw the original, nothing after it does.

The database is the durable copy; the process keeps the trackers it saved last in memory
(`TRACKER_CACHE_SIZE` conversations, least recently used first out). Rasa's SQL store reads,
decodes and replays a conversation's whole session for every message and counts its rows again
to know which events are new; with the cache a message costs one indexed query (the
conversation's row count and highest row id, its *stamp*) and the insert of the new events.

Why a copy in memory is safe here:
- Each conversation is routed to one Rasa process (`handoff.rasa`, consistent hashing), so
  normally nobody else writes it. When somebody did (a failover to another process and back,
  an event posted through another process, a restart of the database), its stamp differs from
  the copy's and the copy is thrown away: the tracker is read from the database again.
- A tracker is handed out by `retrieve` and taken back only by `save` of that very object.
  One that is mutated and never saved (a message that failed half-way) never returns to the
  cache; the next message reads the database.
- A tracker saved that is not the copy handed out (an API call replacing events, a second
  reader) is saved Rasa's way (counting the session's rows) and the copy is dropped.
- A new session (`session_config`) in a cached tracker drops it too, so a conversation's copy
  never holds more than its latest session, like the database read; so does a masked secret
  (the copy would still hold it, and later turns see only the masked text).
- A restarted process starts with an empty cache. Nothing is written only to memory.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Optional, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker

from bot.database import make_engine, migration_lock
from bot.redaction import contains_secret, redact
from bot.settings import get_settings

SQLEvent = SQLTrackerStore.SQLEvent
# The stamp query (count and highest id of one conversation) reads this index only. Rasa's
# table has an index on sender_id alone; created with the table on a new database, and on
# an existing one at start.
SENDER_ORDER_INDEX = sa.Index("ix_events_sender_id_id", SQLEvent.sender_id, SQLEvent.id)

Stamp = Tuple[int, Optional[int]]  # (rows of the conversation, highest row id)
STAMP_QUERY = sa.select(sa.func.count(SQLEvent.id), sa.func.max(SQLEvent.id)).where(
    SQLEvent.sender_id == sa.bindparam("sender_id"))


@dataclass
class _Copy:
    tracker: DialogueStateTracker
    stored: int  # tracker.events[:stored] are in the database
    stamp: Stamp  # the conversation's stamp when they were


class RedactingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that masks secrets before they are written and caches hot trackers."""

    def __init__(self, domain: Any = None, host: Optional[str] = None, db: Optional[str] = None,
                 event_broker: Any = None, cache_size: Optional[int] = None, **kwargs: Any) -> None:
        settings = get_settings()
        if host is None and db is None:
            # Rasa takes a `host` holding "://" as the whole URL: nothing of it is rebuilt or lost.
            host = settings.database_url
        url = host if host and "://" in host else None
        # Rasa creates its table at start; processes starting together take turns (its own
        # retry would wait 5 s after the loser's UniqueViolation).
        with migration_lock(url) if url else nullcontext():
            super().__init__(domain=domain, host=host, db=db or "rasa.db", event_broker=event_broker, **kwargs)
            SENDER_ORDER_INDEX.create(self.engine, checkfirst=True)
        # Rasa's engine opens a SQLite connection per query and syncs every commit to disk, and
        # sizes a PostgreSQL pool from its own variables: the project's engine (SQLite: pooled,
        # WAL, synchronous=NORMAL, docs/benchmarks.md; PostgreSQL: the pool of docs/scaling.md).
        rendered = self.engine.url.render_as_string(hide_password=False)
        self.engine.dispose()
        self.engine = make_engine(rendered, settings.database_pool_size, settings.database_max_overflow)
        self.sessionmaker = sessionmaker(bind=self.engine)
        self.cache_size = settings.tracker_cache_size if cache_size is None else int(cache_size)
        self._idle: "OrderedDict[str, _Copy]" = OrderedDict()  # saved, in no one's hands
        self._out: Dict[str, _Copy] = {}  # handed out by retrieve, back with save

    # ------------------------------------------------------------------ cache

    @property
    def caching(self) -> bool:
        # With an event broker Rasa's save reads the old tracker to stream the difference.
        return self.cache_size > 0 and self.event_broker is None

    @property
    def domain(self):  # type: ignore[override]
        return self._domain

    @domain.setter
    def domain(self, domain: Any) -> None:
        # A new model's domain: trackers made with the old one's slots are not reused.
        SQLTrackerStore.domain.fset(self, domain)  # type: ignore[attr-defined]
        self.forget_all()

    def forget(self, sender_id: str) -> None:
        """Drop the memory copy of one conversation (the database keeps it)."""
        self._idle.pop(sender_id, None)
        self._out.pop(sender_id, None)

    def forget_all(self) -> None:
        if hasattr(self, "_idle"):
            self._idle.clear()
            self._out.clear()

    def cached(self, sender_id: str) -> bool:
        """True when the next `retrieve` of the conversation may come from memory."""
        return sender_id in self._idle

    @staticmethod
    def _stamp(connection: Any, sender_id: str) -> Stamp:
        count, last_id = connection.execute(STAMP_QUERY, {"sender_id": sender_id}).one()
        return int(count or 0), last_id

    def _hand_out(self, sender_id: str, copy: _Copy) -> None:
        self._out.pop(sender_id, None)
        self._out[sender_id] = copy
        while len(self._out) > self.cache_size:  # handed out and never saved (read-only uses)
            self._out.pop(next(iter(self._out)))

    def _keep(self, sender_id: str, copy: _Copy) -> None:
        self._idle[sender_id] = copy
        self._idle.move_to_end(sender_id)
        while len(self._idle) > self.cache_size:
            self._idle.popitem(last=False)

    # ------------------------------------------------------------------ TrackerStore

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        if not self.caching:
            return await super().retrieve(sender_id)
        copy = self._idle.pop(sender_id, None)
        with self.engine.connect() as connection:
            stamp = self._stamp(connection, sender_id)
        if copy is not None and copy.stamp == stamp:
            self._hand_out(sender_id, copy)
            return copy.tracker
        with self.session_scope() as session:
            # (a row written between the two reads makes the stamp older than the events: the
            # next save notices and saves Rasa's way)
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            events = [json.loads(row.data) for row in rows]
        if not events or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        self._hand_out(sender_id, _Copy(tracker, len(tracker.events), stamp))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        if not self.caching:
            await super().save(tracker)
            return
        handed = self._out.pop(sender_id, None)
        kept = self._idle.pop(sender_id, None)
        copy = next((c for c in (handed, kept) if c is not None and c.tracker is tracker), None)
        events = list(tracker.events)
        # SQLite: a write transaction from the start (BEGIN IMMEDIATE, bot.database), else a
        # write after the stamp's read could fail at once when another writer came between.
        with self.engine.connect() as connection, \
                connection.execution_options(sqlite_immediate=True).begin():
            stamp = self._stamp(connection, sender_id)
            if copy is not None and copy.stamp == stamp:
                start, ours = copy.stored, True
            elif stamp[0] == 0:
                start, ours = 0, True  # a new conversation: everything is new
            else:
                # Not the tracker this process handed out, or the database changed since: Rasa's
                # own rule (the events beyond the count of the latest session's rows).
                with self.session_scope() as session:
                    start = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
                ours = False
            stored = [redacted(event) for event in events[start:]]
            if stored:
                connection.execute(SQLEvent.__table__.insert(), [_row(sender_id, event) for event in stored])
                # The stamp with our rows: in the same transaction, so it is what we wrote.
                stamp = self._stamp(connection, sender_id)
        restarted = start > 0 and any(isinstance(event, SessionStarted) for event in stored)
        # A masked secret: the copy in memory still holds it, and no later turn may see it.
        masked = any(event is not original for event, original in zip(stored, events[start:]))
        if ours and events and not restarted and not masked:
            self._keep(sender_id, _Copy(tracker, len(events), stamp))

    def _additional_events(self, session: Any, tracker: Any) -> Iterator[Event]:
        for event in super()._additional_events(session, tracker):
            yield redacted(event)


def _row(sender_id: str, event: Event) -> Dict[str, Any]:
    """The events table's row of one event (as Rasa's `SQLTrackerStore.save` writes it)."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


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
