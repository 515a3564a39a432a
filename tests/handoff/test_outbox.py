"""The outbox itself: the promised retry schedule, claiming (one instance per row, in order per
conversation, leases), giving leases back at shutdown, and the settings that switch it on."""
from __future__ import annotations

import asyncio
import random

import pytest

from bot.settings import DEV_WEBHOOK_SECRET, InsecureSettings, from_environment
from handoff import outbox
from handoff.db import Database, make_engine
from handoff.outbox import DeliveryError, Outbox
from handoff.retry import Backoff

WEBHOOK_TIMEOUT = 10.0  # a try may take this long before the pause starts


def test_the_first_retry_comes_within_30_seconds():
    backoff = Backoff()
    assert all(backoff.delay(1, 0.0, random.Random(seed)) <= 30 for seed in range(500))


def test_no_more_than_60_seconds_between_tries_for_the_first_hour_then_less_often_then_given_up():
    backoff = Backoff()
    for seed in range(50):
        rng = random.Random(seed)
        age, failures, gaps = 0.0, 0, []
        while age < 3600:
            failures += 1
            pause = backoff.delay(failures, age, rng)
            gaps.append(WEBHOOK_TIMEOUT + pause)
            age += WEBHOOK_TIMEOUT + pause
        assert max(gaps) <= 60, gaps
        assert len(gaps) > 60  # it keeps trying all hour
    later = [backoff.delay(40, 2 * 3600, random.Random(seed)) for seed in range(20)]
    assert all(450 <= pause <= 900 for pause in later)
    assert backoff.delay(41, 24 * 3600) is None


def test_the_pauses_are_jittered():
    backoff = Backoff()
    pauses = {round(backoff.delay(3, 0.0, random.Random(seed)), 3) for seed in range(20)}
    assert len(pauses) > 15 and all(10 <= p <= 20 for p in pauses)


def deliveries(database_url: str) -> Database:
    return Database(make_engine(database_url), threads=2)


def test_one_claim_per_row_and_one_conversation_in_order(database_url):
    database = deliveries(database_url)
    try:
        for n, key in enumerate(["conversation:a", "conversation:a", "conversation:b", "ticket:T-1"]):
            database.write_sync(outbox.enqueue, "webhook", f"e{n}", key, {"n": n})
        database.write_sync(outbox.enqueue, "email", "transcript_email", "conversation:a", {"n": 9})
        first = database.write_sync(outbox.claim_due, ["webhook"], "one", 30, 10)
        assert [d["payload"]["n"] for d in first] == [0, 2, 3]  # the second of `a` waits for the first
        assert database.write_sync(outbox.claim_due, ["webhook"], "two", 30, 10) == []  # all leased or waiting
        database.write_sync(outbox.record_sent, first[0]["id"], "one", 204)
        assert [d["payload"]["n"] for d in database.write_sync(outbox.claim_due, ["webhook"], "two", 30, 10)] == [1]
        # Another channel has its own line, even for the same conversation.
        assert [d["payload"]["n"] for d in database.write_sync(outbox.claim_due, ["email"], "two", 30, 10)] == [9]
        # An instance that lost its lease (another took over) records nothing.
        database.write_sync(outbox.record_sent, first[1]["id"], "not-the-holder", 200)
        assert database.read_sync(outbox.get_delivery, first[1]["id"])["status"] == "pending"
    finally:
        database.close()


def test_a_permanent_failure_is_failed_at_once_and_a_temporary_one_retried(database_url):
    database = deliveries(database_url)
    try:
        for key in ("conversation:x", "conversation:y"):
            database.write_sync(outbox.enqueue, "email", "transcript_email", key, {})
        permanent, temporary = database.write_sync(outbox.claim_due, ["email"], "one", 30, 10)
        failed = database.write_sync(outbox.record_failure, permanent["id"], "one",
                                     DeliveryError("550 no such user", 550, permanent=True), Backoff())
        retried = database.write_sync(outbox.record_failure, temporary["id"], "one",
                                      DeliveryError("451 try later", 451), Backoff())
        assert failed["status"] == "failed" and failed["last_status"] == 550
        assert retried["status"] == "pending" and retried["retrying"] and retried["next_attempt_at"]
    finally:
        database.close()


async def test_stopping_gives_the_leases_of_unfinished_sends_back(database_url):
    class Stuck:
        channel = "webhook"

        async def send(self, delivery):
            await asyncio.sleep(60)

    database = deliveries(database_url)
    try:
        await database.write(outbox.enqueue, "webhook", "conversation.escalated", "conversation:s", {})
        worker = Outbox(database, [Stuck()], backoff=Backoff(), lease_seconds=30, poll_seconds=0.1, batch=5)
        worker.start()
        for _ in range(100):
            if worker._in_flight:
                break
            await asyncio.sleep(0.02)
        await worker.stop(grace_seconds=0.1)
        [row] = await database.read(outbox.list_deliveries, ["pending"], 10)
        assert row["attempts"] == 0 and row["last_error"] is None
        # Due again at once: another instance (or the next start) takes it right away.
        assert len(await database.write(outbox.claim_due, ["webhook"], "next", 30, 5)) == 1
    finally:
        database.close()


def test_the_integrations_are_off_by_default():
    settings = from_environment({})
    assert settings.webhook_url == "" and settings.smtp_url == "" and settings.support_inbox == ""
    assert settings.webhook_secret == DEV_WEBHOOK_SECRET


def test_production_refuses_the_development_webhook_secret_only_when_webhooks_are_on():
    real = {"BOT_ENV": "production", "BOT_IDENTITY_SECRET": "a", "HANDOFF_SERVICE_TOKEN": "b",
            "AGENT_TOKEN_SECRET": "c", "RASA_API_TOKEN": "d", "ACTION_SERVER_SECRET": "e"}
    from_environment(real).check()
    with pytest.raises(InsecureSettings, match="HANDOFF_WEBHOOK_SECRET"):
        from_environment({**real, "HANDOFF_WEBHOOK_URL": "https://helpdesk.example/hooks"}).check()
    from_environment({**real, "HANDOFF_WEBHOOK_URL": "https://helpdesk.example/hooks",
                      "HANDOFF_WEBHOOK_SECRET": "a-real-secret"}).check()


async def test_a_webhook_url_the_service_could_never_post_to_stops_the_start(start):
    with pytest.raises(ValueError, match="HANDOFF_WEBHOOK_URL"):
        await start(env={"HANDOFF_WEBHOOK_URL": "ftp://helpdesk.example/"})
    with pytest.raises(ValueError, match="SMTP_URL"):
        await start(env={"SMTP_URL": "mail.example.com:25"})


def test_old_deliveries_are_deleted_with_their_transcripts(database_url):
    database = deliveries(database_url)
    try:
        for key in ("conversation:old", "conversation:failed", "conversation:new"):
            database.write_sync(outbox.enqueue, "webhook", "conversation.resolved", key, {"transcript": ["..."]})
        old, failed, new = database.write_sync(outbox.claim_due, ["webhook"], "one", 30, 10)
        database.write_sync(outbox.record_sent, old["id"], "one", 200)
        database.write_sync(outbox.record_failure, failed["id"], "one", DeliveryError("gone", permanent=True), Backoff())
        assert database.write_sync(outbox.prune, 3600, 3600) == 0  # all young
        assert database.write_sync(outbox.prune, 0, 3600) == 1  # the delivered one
        assert database.write_sync(outbox.prune, 0, 0) == 1  # the failed one
        assert [d["about"] for d in database.read_sync(outbox.list_deliveries, [], 10)] == ["conversation:new"]
    finally:
        database.close()
