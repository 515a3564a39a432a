"""The real action server (`python -m actions`) when the accounts database is down: the user
gets a clear message in their language, not HTTP 500 and silence."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Iterator

import pytest

from bot.messages import render
from bot.settings import get_settings
from scripts.runtime import free_port, stop_process
from tests.actions.conftest import TRACKERS, start_action_server, token_for


@pytest.fixture(scope="module")
def action_server_without_database(tmp_path_factory) -> Iterator[str]:
    """The action server on a PostgreSQL URL nobody listens on."""
    log = tmp_path_factory.mktemp("outage") / "actions.log"
    process, port = start_action_server(
        log, DATABASE_URL=f"postgresql://bolt@127.0.0.1:{free_port()}/bolt?connect_timeout=2")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process, grace=20)


def call(url: str, lang: str, domain_dict) -> tuple[int, dict]:
    raw = (TRACKERS / "ask_my_support.json").read_text(encoding="utf-8")
    text = "Darf ich den Support anrufen?" if lang == "de" else "May I call your support line?"
    raw = raw.replace('"$TOKEN"', json.dumps(token_for("u-biz-admin"))).replace('"$TEXT"', json.dumps(text))
    tracker = json.loads(raw.replace('"$LANG"', json.dumps(lang)))
    tracker["latest_message"] = tracker["events"][-1]
    body = {"next_action": "action_my_support", "sender_id": tracker["sender_id"], "tracker": tracker,
            "domain": domain_dict, "version": "3.6.2"}
    request = urllib.request.Request(f"{url}/webhook", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "X-Bolt-Action-Secret": get_settings().action_server_secret})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_database_down_gives_a_clear_message(action_server_without_database, domain_dict, lang):
    get_settings.cache_clear()
    status, body = call(action_server_without_database, lang, domain_dict)
    assert status == 200, body
    assert body["responses"] == [{"text": render("accounts_unavailable", lang)}]
    assert body["events"] == []


def test_the_message_says_sie():
    german = render("accounts_unavailable", "de")
    assert "Sie" in german and " du " not in f" {german.lower()} "
