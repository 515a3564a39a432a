"""Privacy over the contract: export and delete of a user's data by a supervisor only (Rasa's
tracker events included, through the project's real tracker store on the same database), the
retention purge once across instances, and the audit entries they leave."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select, text, update

from bot.tracker_store import RedactingSQLTrackerStore
from handoff import privacy
from handoff.db import Database, make_engine
from handoff.models import Conversation, Delivery, Job, Message, Ticket, utcnow
from tests.handoff.conftest import SERVICE_TOKEN, hello, identity, login, receive

USER = "u-biz-admin"


async def _conversation_of_user(client, anna) -> str:
    """A conversation of u-biz-admin: escalated, claimed, answered, resolved, rated."""
    ws, welcome = await hello(client, token=identity(USER), locale="de")
    conversation_id = welcome["conversation_id"]
    await ws.send_json({"type": "message", "text": "Mitarbeiter bitte"})
    await receive(ws, "handoff")
    await client.post(f"/api/conversations/{conversation_id}/claim", headers=anna)
    await client.post(f"/api/conversations/{conversation_id}/messages", headers=anna, json={"text": "Hallo!"})
    await client.post(f"/api/conversations/{conversation_id}/notes", headers=anna, json={"text": "Notiz"})
    await client.post(f"/api/conversations/{conversation_id}/resolve", headers=anna)
    await receive(ws, "csat_request")
    await ws.send_json({"type": "csat", "score": 5})
    await receive(ws, "csat")
    await ws.close()
    return conversation_id


async def _rasa_tracker(database_url: str, sender: str) -> RedactingSQLTrackerStore:
    store = RedactingSQLTrackerStore(domain=Domain.empty(), host=database_url)
    tracker = DialogueStateTracker.from_events(sender, [
        ActionExecuted("action_listen"),
        UserUttered("Mitarbeiter bitte", intent={"name": "request_agent", "confidence": 0.9}),
        UserUttered("blub", intent={"name": "nlu_fallback", "confidence": 0.3}),
    ])
    await store.save(tracker)
    return store


def _count(database_url: str, statement) -> int:
    database = Database(make_engine(database_url), threads=1)
    try:
        return database.read_sync(lambda s: s.scalar(statement))
    finally:
        database.close()


async def test_export_and_delete_are_for_supervisors_only(client):
    anna = await login(client, "anna")
    for method, path in (("GET", f"/api/users/{USER}/export"), ("DELETE", f"/api/users/{USER}/data")):
        assert (await client.request(method, path)).status == 401
        refused = await client.request(method, path, headers=anna)
        assert refused.status == 403 and (await refused.json())["error"]["code"] == "forbidden"
    sara = await login(client, "sara")
    assert (await client.get("/api/users/nobody/export", headers=sara)).status == 404
    assert (await client.delete("/api/users/nobody/data", headers=sara)).status == 404
    assert (await client.get("/api/users/" + "x" * 200 + "/export", headers=sara)).status == 400


async def test_a_users_data_is_exported_then_deleted_everywhere(client, database_url):
    anna, sara = await login(client, "anna"), await login(client, "sara")
    conversation_id = await _conversation_of_user(client, anna)
    other, _ = await hello(client, token=identity("u-biz-member"), locale="de")
    await other.send_json({"type": "message", "text": "hallo"})
    await receive(other, "message")
    ticket = await client.post("/internal/tickets", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}, json={
        "ticket_id": "T-PRIV01", "user_id": USER, "email": "karl@example.com", "subject": "Aufnahmen",
        "description": "fehlen", "language": "de", "conversation_id": conversation_id, "transcript": []})
    assert ticket.status in (200, 201), await ticket.text()
    store = await _rasa_tracker(database_url, conversation_id)
    await _rasa_tracker(database_url, "someone-else")

    exported = await client.get(f"/api/users/{USER}/export", headers=sara)
    data = await exported.json()
    assert exported.status == 200 and data["user_id"] == USER
    [conversation] = data["conversations"]
    assert conversation["id"] == conversation_id and conversation["csat"]["score"] == 5
    assert [n["text"] for n in conversation["notes"]] == ["Notiz"]
    assert any(m["text"] == "Hallo!" for m in conversation["transcript"])
    assert [t["ticket_id"] for t in data["tickets"]] == ["T-PRIV01"]

    deleted = await client.delete(f"/api/users/{USER}/data", headers=sara)
    body = await deleted.json()
    assert deleted.status == 200, body
    counts = body["deleted"]
    assert counts["conversations"] == 1 and counts["tickets"] == 1 and counts["notes"] == 1
    assert counts["csat"] == 1 and counts["messages"] >= 3 and counts["tracker_events"] >= 3
    assert (await client.get(f"/api/conversations/{conversation_id}", headers=sara)).status == 404
    assert (await client.get("/api/tickets/T-PRIV01", headers=sara)).status == 404
    assert (await client.get(f"/api/users/{USER}/export", headers=sara)).status == 404
    assert (await client.delete(f"/api/users/{USER}/data", headers=sara)).status == 404
    # Rasa's side: the tracker of that conversation is empty; another sender's is untouched.
    assert (await store.retrieve(conversation_id)) is None
    assert len((await store.retrieve("someone-else")).events) == 3
    assert _count(database_url, select(func.count()).select_from(Message).where(Message.conversation_id == conversation_id)) == 0
    assert _count(database_url, select(func.count()).select_from(Delivery).where(
        Delivery.ordering_key == f"conversation:{conversation_id}")) == 0
    # The other user keeps everything.
    assert _count(database_url, select(func.count()).select_from(Conversation).where(Conversation.user_id == "u-biz-member")) == 1
    audit = await (await client.get("/api/audit?action=export,delete", headers=sara)).json()
    assert [(a["agent"], a["action"], a["detail"]["user_id"]) for a in audit] == [("sara", "delete", USER), ("sara", "export", USER)]
    assert audit[0]["detail"]["tracker_events"] == counts["tracker_events"]
    await other.close()


async def test_deleting_with_webhook_deliveries_removes_their_rows(start, receiver, database_url):
    client = await start(env={"HANDOFF_WEBHOOK_URL": receiver.url})
    anna, sara = await login(client, "anna"), await login(client, "sara")
    conversation_id = await _conversation_of_user(client, anna)
    key = f"conversation:{conversation_id}"
    assert _count(database_url, select(func.count()).select_from(Delivery).where(Delivery.ordering_key == key)) >= 2
    body = await (await client.delete(f"/api/users/{USER}/data", headers=sara)).json()
    assert body["deleted"]["outbox"] >= 2
    assert _count(database_url, select(func.count()).select_from(Delivery).where(Delivery.ordering_key == key)) == 0


async def test_retention_purges_old_transcripts_once_across_instances(start, database_url):
    env = {"TRANSCRIPT_RETENTION_DAYS": "30"}
    first, second = await start(env=env), await start(env=env)
    anna = await login(first, "anna")
    old = await _conversation_of_user(first, anna)
    ws, welcome = await hello(first, token=identity("u-biz-member"), locale="de")
    await ws.send_json({"type": "message", "text": "hallo"})
    await receive(ws, "message")
    recent = welcome["conversation_id"]
    await ws.close()
    store = await _rasa_tracker(database_url, old)
    # Rasa-only trackers (the REST channel, no widget): a stale one goes whole, a live one stays.
    long_ago_ts = (utcnow() - timedelta(days=40)).timestamp()
    await store.save(DialogueStateTracker.from_events("rest-stale", [
        UserUttered("hallo", intent={"name": "greet"}, timestamp=long_ago_ts),
        UserUttered("tschüss", intent={"name": "goodbye"}, timestamp=long_ago_ts + 5)]))
    await store.save(DialogueStateTracker.from_events("rest-live", [
        UserUttered("hallo", intent={"name": "greet"}, timestamp=long_ago_ts),
        UserUttered("noch da", intent={"name": "greet"})]))
    database = Database(make_engine(database_url), threads=1)
    try:
        long_ago = utcnow() - timedelta(days=31)
        database.write_sync(lambda s: s.execute(update(Conversation).where(Conversation.id == old).values(updated_at=long_ago)))
        database.write_sync(lambda s: s.execute(update(Job).values(next_run_at=utcnow() - timedelta(seconds=1))))
        runs = await asyncio.gather(privacy.purge_round(first.server.app), privacy.purge_round(second.server.app))
        assert sorted(run is None for run in runs) == [False, True]  # exactly one instance ran it
        counts = next(run for run in runs if run is not None)
        assert counts["conversations"] == 1 and counts["tracker_events"] == 3 + 2 and counts["notes"] == 1
        assert await privacy.purge_round(first.server.app) is None  # not due again yet
        remaining = database.read_sync(lambda s: list(s.scalars(select(Conversation.id))))
        assert old not in remaining and recent in remaining
        events_of = text("SELECT COUNT(*) FROM events WHERE sender_id = :s")
        assert [database.read_sync(lambda s, who=who: s.scalar(events_of, {"s": who}))
                for who in (old, "rest-stale", "rest-live")] == [0, 0, 2]
    finally:
        database.close()
    sara = await login(first, "sara")
    purge = await (await first.get("/api/audit?action=purge", headers=sara)).json()
    assert purge[0]["agent"] == "system" and purge[0]["detail"]["conversations"] == 1


async def test_retention_keeps_conversations_with_the_agents_and_zero_keeps_all(start, database_url):
    client = await start(env={"TRANSCRIPT_RETENTION_DAYS": "1"})
    ws, welcome = await hello(client, token=identity(USER), locale="de")
    await ws.send_json({"type": "message", "text": "Mitarbeiter bitte"})
    await receive(ws, "handoff")
    await ws.close()
    database = Database(make_engine(database_url), threads=1)
    try:
        database.write_sync(lambda s: s.execute(update(Conversation).values(updated_at=utcnow() - timedelta(days=5))))
        database.write_sync(lambda s: s.execute(update(Job).values(next_run_at=utcnow() - timedelta(seconds=1))))
        counts = await privacy.purge_round(client.server.app)
        assert counts is not None and counts["conversations"] == 0  # waiting: kept
        keep_all = await start(env={"TRANSCRIPT_RETENTION_DAYS": "0"})
        database.write_sync(lambda s: s.execute(update(Conversation).values(status="resolved")))
        database.write_sync(lambda s: s.execute(update(Job).values(next_run_at=utcnow() - timedelta(seconds=1))))
        assert await privacy.purge_round(keep_all.server.app) is None
        assert database.read_sync(lambda s: s.scalar(select(func.count()).select_from(Conversation))) == 1
    finally:
        database.close()
