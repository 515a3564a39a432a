"""The widget keeps its conversation across a reload and a restart of the live-agent service."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import GERMAN_PHONE_DIGITS, Console, Widget, digits

pytestmark = pytest.mark.e2e

RECONNECT_TIMEOUT_MS = 60_000  # restart time plus the widget's backoff


def test_reload_restores_the_conversation(base_url, new_page):
    widget = Widget.visit(new_page(), base_url)
    widget.open()
    question = "Wie erreiche ich den Telefon-Support in Deutschland?"
    answer = widget.ask(question)
    assert GERMAN_PHONE_DIGITS in digits(" ".join(answer)), answer
    conversation_id = widget.conversation_id

    widget.page.reload()
    widget.open()
    widget.wait_online()
    assert widget.conversation_id == conversation_id
    expect(widget.bubbles("user").first).to_have_text(question)
    expect(widget.bubbles("bot").filter(has_text="80098621").first).to_be_visible()
    # Replayed history is not "unread".
    expect(widget.page.locator(".bolt-badge")).to_be_hidden()


def test_survives_a_restart_of_the_service(stack, base_url, new_page):
    console = Console.sign_in(new_page(1360, 860), base_url, "tom", "tom-demo-pass")
    widget = Widget.visit(new_page(), base_url)
    widget.open()
    first = "Telefonnummer Deutschland?"
    widget.ask(first)
    conversation_id = widget.conversation_id

    stack.restart_handoff()

    # Both pages notice, reconnect on their own and carry on.
    widget.wait_online(timeout=RECONNECT_TIMEOUT_MS)
    expect(console.page.locator("#connection")).to_have_attribute("data-state", "online", timeout=RECONNECT_TIMEOUT_MS)
    assert widget.conversation_id == conversation_id
    expect(widget.bubbles("user").first).to_have_text(first)
    answer = widget.ask("Wie war noch einmal die Telefonnummer in Deutschland?")
    assert GERMAN_PHONE_DIGITS in digits(" ".join(answer)), answer

    # Nothing was lost: a fresh page load shows the whole conversation from the server.
    widget.page.reload()
    widget.open()
    widget.wait_online()
    expect(widget.bubbles("user")).to_have_count(2)
    assert widget.conversation_id == conversation_id
