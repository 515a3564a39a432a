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
