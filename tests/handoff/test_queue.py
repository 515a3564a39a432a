"""Queue order and positions, computed by the database, against the order handoff/README.md
documents, on random queues; and the number of queries they cost."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.levels import PRIORITY_LEVELS
from handoff import repository
from handoff.db import make_engine
from handoff.models import BOT, CLAIMED, WAITING, Conversation, Message
from handoff.repository import AgentInfo

START = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
# Few distinct moments, so that ties (which the later keys break) are common.
MOMENTS = st.sampled_from([START + timedelta(minutes=n) for n in range(4)])


def documented_order(conversation: Conversation) -> tuple:
    """handoff/README.md: prioritized first, then P1..P4 (no level after P4), then the
    first-response deadline (none after any), then waiting since, then the id."""
    waiting_since = conversation.escalated_at or conversation.created_at
    levels = list(PRIORITY_LEVELS)
    return (
        not conversation.prioritized,
        levels.index(conversation.priority) if conversation.priority in levels else len(levels),
        conversation.first_response_due is None,
        conversation.first_response_due or START,
        waiting_since,
        conversation.id,
    )


conversations = st.builds(
    dict,
    status=st.sampled_from([WAITING, WAITING, WAITING, CLAIMED, BOT]),
    queue=st.sampled_from(["tier1", "tier2"]),
    priority=st.sampled_from([*PRIORITY_LEVELS, None]),
    prioritized=st.booleans(),
    first_response_due=st.none() | MOMENTS,
    escalated_at=st.none() | MOMENTS,
    created_at=MOMENTS,
    messages=st.integers(0, 3),
)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@contextmanager
def queue_of(engine, rows: list[dict]) -> Iterator[tuple[Session, list[Conversation]]]:
    """A session in which `rows` are the conversations (ids c00, c01, ...); rolled back afterwards."""
    with Session(engine, future=True) as session:
        created = []
        for n, row in enumerate(rows):
            row = dict(row)
            messages = row.pop("messages")
            created.append(Conversation(id=f"c{n:02d}", **row))
            session.add(created[-1])
            session.add_all(Message(conversation_id=f"c{n:02d}", sender="user", text="hi") for _ in range(messages))
        session.flush()
        try:
            yield session, created
        finally:
            session.rollback()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(conversations, min_size=2, max_size=16))
def test_queue_order_and_positions_are_the_documented_ones(engine, rows):
    with queue_of(engine, rows) as (session, created):
        waiting = sorted((c for c in created if c.status == WAITING), key=documented_order)
        expected_positions = {}
        for queue in ("tier1", "tier2"):
            in_queue = [c.id for c in waiting if c.queue == queue]
            expected_positions.update({cid: n for n, cid in enumerate(in_queue, start=1)})
            assert repository.queue_positions(session, queue) == [(cid, expected_positions[cid]) for cid in in_queue]
        for conversation in waiting:
            assert repository.position_of(session, conversation) == expected_positions[conversation.id]

        view = repository.queue_view(session, AgentInfo("tom", "Tom", ("tier1", "tier2")), 4)
        assert [item["id"] for item in view] == [c.id for c in waiting]
        assert [item["position"] for item in view] == [expected_positions[c.id] for c in waiting]
        assert [item["estimated_wait_minutes"] for item in view] == [4 * expected_positions[c.id] for c in waiting]
        counts = {f"c{n:02d}": row["messages"] for n, row in enumerate(rows)}
        assert [item["message_count"] for item in view] == [counts[c.id] for c in waiting]
        tier1 = repository.queue_view(session, AgentInfo("anna", "Anna", ("tier1",)), 4)
        assert [item["id"] for item in tier1] == [c.id for c in waiting if c.queue == "tier1"]


def test_a_conversation_that_is_not_waiting_comes_after_the_queue(engine):
    rows = [dict(status=WAITING, queue="tier1", priority="P3", prioritized=False, first_response_due=None,
                 escalated_at=START, created_at=START, messages=0)] * 2
    rows.append({**rows[0], "status": CLAIMED})
    with queue_of(engine, rows) as (session, created):
        assert repository.position_of(session, created[2]) == 3


def test_the_queue_costs_one_query_however_long_it_is(engine):
    row = dict(status=WAITING, queue="tier1", priority="P2", prioritized=True, first_response_due=START,
               escalated_at=START, created_at=START, messages=2)
    with queue_of(engine, [row] * 30) as (session, created):
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        view = repository.queue_view(session, AgentInfo("tom", "Tom", ("tier1", "tier2")), 4)
        positions = repository.queue_positions(session, "tier1")
        position = repository.position_of(session, created[-1])
        assert len(view) == len(positions) == 30 and position == 30
        assert len(statements) == 3, statements
        assert all("ROW_NUMBER() OVER" in statement.upper() for statement in statements)
