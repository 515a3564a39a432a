"""Rasa's SQL tracker store on the project's database, with secrets masked before storage."""
from __future__ import annotations

from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import RedactingSQLTrackerStore


async def test_conversation_survives_a_new_store_and_secrets_are_masked(tmp_path, domain):
    url = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(url))
    secret = "Mein Hostschlüssel ist 739214, warum geht das nicht?"
    tracker = DialogueStateTracker.from_events("alice", [
        ActionExecuted("action_listen"),
        UserUttered(secret, {"name": "share_secret", "confidence": 1.0}, parse_data={"text": secret}),
        UserUttered("Hotline Schweiz", {"name": "ask_phone", "confidence": 0.9}),
    ], domain.slots)
    await store.save(tracker)

    reopened = RedactingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(url))
    restored = await reopened.retrieve("alice")
    texts = [event.text for event in restored.events if isinstance(event, UserUttered)]
    assert texts[1] == "Hotline Schweiz"
    assert "739214" not in texts[0] and "warum geht das nicht" in texts[0]
    assert "739214" not in url.read_bytes().decode("utf-8", "ignore")


async def test_default_configuration_comes_from_database_url(tmp_path, domain, monkeypatch):
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bolt.db'}")
    get_settings.cache_clear()
    try:
        store = RedactingSQLTrackerStore(domain=domain)
        assert store.engine.url.database == str(tmp_path / "bolt.db")
    finally:
        get_settings.cache_clear()


async def test_the_database_url_is_used_whole_query_included(postgres_url, domain, monkeypatch):
    """`sslmode`, `application_name` and the like reach the driver (they used to be dropped)."""
    from sqlalchemy import text

    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", f"{postgres_url}?application_name=bolt-tracker-test&connect_timeout=5")
    get_settings.cache_clear()
    try:
        store = RedactingSQLTrackerStore(domain=domain)
        assert dict(store.engine.url.query) == {"application_name": "bolt-tracker-test", "connect_timeout": "5"}
        with store.engine.connect() as connection:
            assert connection.execute(text("SHOW application_name")).scalar() == "bolt-tracker-test"
        store.engine.dispose()
    finally:
        get_settings.cache_clear()


# --------------------------------------------------------------------------- the tracker cache
# Each test runs on SQLite and PostgreSQL (`make_database`). A second store on the same database
# stands for another Rasa process (or this one after a restart: its cache is empty).

import pytest  # noqa: E402
from rasa.shared.core.events import BotUttered, SessionStarted, SlotSet  # noqa: E402


def _store(url, domain, cache_size=None):
    return RedactingSQLTrackerStore(domain=domain, host=url, cache_size=cache_size)


def _turn(tracker, text, domain, n):
    tracker.update_with_events([
        UserUttered(text, {"name": "ask_phone", "confidence": 0.9}, parse_data={"text": text}),
        ActionExecuted("utter_phone"),
        BotUttered(f"answer {n}"),
        ActionExecuted("action_listen"),
    ], domain)


def _dicts(tracker):
    """The events of the tracker's latest session (what Rasa reads from the database: from the
    last `session_started` on; the `action_session_start` before it belongs to the one before)."""
    events = [event.as_dict() for event in tracker.events]
    starts = [i for i, event in enumerate(events) if event["event"] == "session_started"]
    return events[starts[-1]:] if starts else events


async def _conversation(store, sender, domain, turns, start=0):
    """`turns` messages the way Rasa's processor has them: retrieve (or create), update, save."""
    for n in range(start, start + turns):
        tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
        if not tracker.events:
            tracker.update_with_events([ActionExecuted("action_session_start"), SessionStarted(),
                                        ActionExecuted("action_listen")], domain)
        _turn(tracker, f"message {n}", domain, n)
        await store.save(tracker)
    return tracker


@pytest.fixture
def tracker_db(make_database):
    return make_database()


async def test_cached_conversation_is_exactly_what_the_database_holds(tracker_db, domain):
    store = _store(tracker_db, domain)
    in_memory = await _conversation(store, "carol", domain, 12)
    assert store.cached("carol")
    # The next message gets the very object back (no database read, no replay) …
    assert await store.retrieve("carol") is in_memory
    await store.save(in_memory)
    # … and a process with an empty cache (a restart, another process) reads the same events,
    # none lost, none doubled, in order.
    fresh = await _store(tracker_db, domain, cache_size=0).retrieve("carol")
    assert _dicts(fresh) == _dicts(in_memory)
    texts = [e.text for e in fresh.events if isinstance(e, UserUttered)]
    assert texts == [f"message {n}" for n in range(12)]


async def test_events_written_by_another_process_invalidate_the_copy(tracker_db, domain):
    ours, other = _store(tracker_db, domain), _store(tracker_db, domain)
    await _conversation(ours, "dave", domain, 3)
    assert ours.cached("dave")
    # A failover: the other process answers two messages of the conversation.
    await _conversation(other, "dave", domain, 2, start=3)
    # Back here: the copy in memory is stale, the database's version is used and continued.
    tracker = await _conversation(ours, "dave", domain, 1, start=5)
    texts = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert texts == [f"message {n}" for n in range(6)]
    fresh = await _store(tracker_db, domain, cache_size=0).retrieve("dave")
    assert _dicts(fresh) == _dicts(tracker)


async def test_a_tracker_changed_and_not_saved_is_not_reused(tracker_db, domain):
    store = _store(tracker_db, domain)
    await _conversation(store, "erin", domain, 2)
    tracker = await store.retrieve("erin")
    before = _dicts(tracker)
    tracker.update(SlotSet("country", "CH"))  # a message that failed before Rasa saved it
    again = await store.retrieve("erin")
    assert again is not tracker and _dicts(again) == before
    assert again.get_slot("country") is None


async def test_a_foreign_tracker_is_saved_the_way_rasa_does_and_the_copy_dropped(tracker_db, domain):
    store = _store(tracker_db, domain)
    cached = await _conversation(store, "fay", domain, 2)
    # Another object for the same conversation (e.g. events posted through the HTTP API):
    other = DialogueStateTracker.from_dict("fay", _dicts(cached), domain.slots)
    other.update(SlotSet("country", "AT"))
    await store.save(other)
    assert not store.cached("fay")
    restored = await store.retrieve("fay")
    assert _dicts(restored) == _dicts(other)
    # The stale object saved late appends nothing it shouldn't.
    cached.update(BotUttered("late"))
    await store.save(cached)
    fresh = await _store(tracker_db, domain, cache_size=0).retrieve("fay")
    assert [e.as_dict() for e in fresh.events][: len(other.events)] == _dicts(other)


async def test_a_new_session_drops_the_copy_so_it_stays_bounded(tracker_db, domain):
    store = _store(tracker_db, domain)
    tracker = await _conversation(store, "gus", domain, 3)
    tracker = await store.retrieve("gus")
    tracker.update_with_events([ActionExecuted("action_session_start"), SessionStarted(),
                                ActionExecuted("action_listen")], domain)
    _turn(tracker, "after the break", domain, 99)
    await store.save(tracker)
    assert not store.cached("gus")
    latest = await store.retrieve("gus")
    texts = [e.text for e in latest.events if isinstance(e, UserUttered)]
    assert texts == ["after the break"]


async def test_a_masked_secret_does_not_stay_in_memory(tracker_db, domain):
    store = _store(tracker_db, domain)
    await _conversation(store, "hal", domain, 1)
    tracker = await store.retrieve("hal")
    secret = "Mein Hostschlüssel ist 739214"
    tracker.update(UserUttered(secret, {"name": "share_secret", "confidence": 1.0}, parse_data={"text": secret}))
    await store.save(tracker)
    restored = await store.retrieve("hal")
    assert restored is not tracker
    assert all("739214" not in (e.text or "") for e in restored.events if isinstance(e, UserUttered))


async def test_the_cache_keeps_at_most_its_size(tracker_db, domain):
    store = _store(tracker_db, domain, cache_size=2)
    for sender in ("ida", "jon", "kim"):
        await _conversation(store, sender, domain, 1)
    assert [store.cached(s) for s in ("ida", "jon", "kim")] == [False, True, True]
    # Evicted is not lost: it comes from the database.
    tracker = await store.retrieve("ida")
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["message 0"]
