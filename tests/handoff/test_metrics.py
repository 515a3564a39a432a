"""`/metrics` over the contract (the series, their values after a day's events, the same on every
instance) and the supervisors' `GET /api/stats/today`."""
from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import update

from bot.tracker_store import RedactingSQLTrackerStore
from handoff.db import Database, make_engine
from handoff.models import Conversation, utcnow
from tests.handoff.conftest import SERVICE_TOKEN, hello, identity, intake, login, receive


async def scrape(client) -> dict[tuple[str, tuple], float]:
    response = await client.get("/metrics")
    assert response.status == 200 and response.content_type == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_the_contract_series_are_there_from_the_start(client):
    samples = await scrape(client)
    for queue in ("tier1", "tier2"):
        for priority in ("P1", "P2", "P3", "P4"):
            assert value(samples, "bolt_queue_waiting", queue=queue, priority=priority) == 0
        assert value(samples, "bolt_agents_online", queue=queue) == 0
    for outcome in ("bot_only", "escalated", "resolved", "ticket"):
        assert value(samples, "bolt_conversations_total", outcome=outcome) == 0
    assert value(samples, "bolt_wait_seconds_count") == 0 and value(samples, "bolt_csat_score_count") == 0
    assert value(samples, "bolt_sla_breaches_total", priority="P1") == 0
    assert value(samples, "bolt_rasa_answer_seconds_count") == 0


async def test_the_series_follow_a_day_of_support(start, database_url, redis_url):
    # Two instances on one database, pushes between them through Redis (as `make cluster`).
    first, second = await start(env={"REDIS_URL": redis_url}), await start(env={"REDIS_URL": redis_url})
    anna = await login(first, "anna")
    agent_ws = await first.ws_connect("/ws/agent")
    await agent_ws.send_json({"type": "auth", "token": anna["Authorization"].split()[1]})
    await receive(agent_ws, "ready")
    # A conversation the bot handles alone, one escalated, answered, resolved and rated.
    bot_only, _ = await hello(first, locale="de")
    await bot_only.send_json({"type": "message", "text": "Welche Pläne gibt es?"})
    await receive(bot_only, "message")
    ws, welcome = await hello(second, token=identity(), locale="de")
    conversation_id = welcome["conversation_id"]
    await ws.send_json({"type": "message", "text": "Mitarbeiter bitte"})
    await receive(ws, "handoff")
    await intake(first, "c-p1-late", priority="P1", queue="tier2")
    samples = await scrape(first)
    assert value(samples, "bolt_queue_waiting", queue="tier1", priority="P3") == 1
    assert value(samples, "bolt_queue_waiting", queue="tier2", priority="P1") == 1
    assert value(samples, "bolt_agents_online", queue="tier1") == 1
    assert value(samples, "bolt_agents_online", queue="tier2") == 0
    assert value(samples, "bolt_rasa_answer_seconds_count") == 1  # this instance relayed one

    database = Database(make_engine(database_url), threads=1)
    try:  # as if the user had waited 90 s, and the P1 deadline had passed unanswered
        database.write_sync(lambda s: s.execute(update(Conversation).where(Conversation.id == conversation_id)
                                                .values(escalated_at=utcnow() - timedelta(seconds=90))))
        database.write_sync(lambda s: s.execute(update(Conversation).where(Conversation.id == "c-p1-late")
                                                .values(first_response_due=utcnow() - timedelta(minutes=1))))
    finally:
        database.close()
    await first.post(f"/api/conversations/{conversation_id}/claim", headers=anna)
    await first.post(f"/api/conversations/{conversation_id}/messages", headers=anna, json={"text": "Hallo"})
    await first.post(f"/api/conversations/{conversation_id}/resolve", headers=anna)
    await receive(ws, "csat_request")
    await ws.send_json({"type": "csat", "score": 4})
    await receive(ws, "csat")
    ticket = await first.post("/internal/tickets", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}, json={
        "ticket_id": "T-METR01", "user_id": "u-biz-admin", "email": "karl@example.com", "subject": "x",
        "description": "y", "language": "de", "transcript": []})
    assert ticket.status == 201

    one, other = await scrape(first), await scrape(second)
    for samples in (one, other):  # facts of rows: the same on every instance
        assert value(samples, "bolt_conversations_total", outcome="bot_only") == 1
        assert value(samples, "bolt_conversations_total", outcome="escalated") == 2
        assert value(samples, "bolt_conversations_total", outcome="resolved") == 1
        assert value(samples, "bolt_conversations_total", outcome="ticket") == 1
        assert value(samples, "bolt_wait_seconds_count") == 1
        assert 89 <= value(samples, "bolt_wait_seconds_sum") < 150
        assert value(samples, "bolt_wait_seconds_bucket", le="60.0") == 0
        assert value(samples, "bolt_wait_seconds_bucket", le="120.0") == 1
        assert value(samples, "bolt_csat_score_count") == 1 and value(samples, "bolt_csat_score_sum") == 4
        assert value(samples, "bolt_csat_score_bucket", le="3.0") == 0
        assert value(samples, "bolt_csat_score_bucket", le="4.0") == 1
        assert value(samples, "bolt_sla_breaches_total", priority="P1") == 1
        assert value(samples, "bolt_sla_breaches_total", priority="P3") == 0
        assert value(samples, "bolt_queue_waiting", queue="tier1", priority="P3") == 0
    assert value(other, "bolt_agents_online", queue="tier1") == 0  # anna's console is on the first
    assert value(other, "bolt_rasa_answer_seconds_count") == 1

    sara = await login(first, "sara")
    assert (await first.get("/api/stats/today", headers=anna)).status == 403
    today = await (await first.get("/api/stats/today", headers=sara)).json()
    assert today["volume"] == 3 and today["escalated"] == 2 and today["waiting"] == 1
    assert today["sla_breaches"] == 1 and 89 <= today["average_wait_seconds"] < 150
    assert today["csat"] == {"count": 1, "average": 4.0}
    assert today["bot_only"] == 1 and today["bot_only_share"] == 0.333 and today["tickets"] == 1
    for socket in (bot_only, ws, agent_ws):
        await socket.close()


async def test_the_fallback_rate_comes_from_rasas_tracker_events(client, database_url):
    store = RedactingSQLTrackerStore(domain=Domain.empty(), host=database_url)
    await store.save(DialogueStateTracker.from_events("s-1", [
        UserUttered("hallo", intent={"name": "greet", "confidence": 0.9}),
        UserUttered("blub", intent={"name": "nlu_fallback", "confidence": 0.3}),
        UserUttered("Tarife?", intent={"name": "ask_plan", "confidence": 0.8}),
        UserUttered("xyz", intent={"name": "nlu_fallback", "confidence": 0.2}),
    ]))
    samples = await scrape(client)
    assert value(samples, "bolt_bot_messages_total") == 4
    assert value(samples, "bolt_bot_fallbacks_total") == 2
    assert value(samples, "bolt_bot_fallback_ratio") == 0.5
