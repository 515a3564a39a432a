"""The console as a workplace and the widget while waiting, in Chromium: presence switch and
team, auto-assignment opening the conversation, "my conversations" across reload and a new
sign-in, typing both ways; the waiting user's place kept across reload, nobody online with
ticket-or-wait, leaving the queue. axe-core: no serious or critical violation on what is new.

The stack is shared by the whole session: every agent set online here is set away again."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.axe import axe_violations, describe
from tests.e2e.pages import PUSH_TIMEOUT_MS, Console, Widget

pytestmark = pytest.mark.e2e


def set_presence(console: Console, status: str) -> None:
    with console.page.expect_response(lambda r: r.url.endswith("/api/agents/me/status")) as response:
        console.page.get_by_label("Status").select_option(status)
    assert response.value.ok
    expect(console.page.locator('.team-item[data-agent="anna"]')).to_have_attribute("data-status", status)


def mine_item(console: Console, conversation_id: str):
    return console.page.locator(f'.mine-item[data-conversation-id="{conversation_id}"]')


def no_serious_violations(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_online_agent_gets_the_escalation_keeps_it_across_sign_in_and_sees_typing(base_url, new_page):
    anna = Console.sign_in(new_page(1360, 860), base_url, "anna", "anna-demo-pass")
    expect(anna.page.locator('.team-item[data-agent="anna"]')).to_have_attribute("data-status", "away")
    set_presence(anna, "online")
    conversation_id = None
    try:
        widget = Widget.visit(new_page(), base_url)
        widget.sign_in_as("u-biz-admin")
        widget.open()
        widget.escalate("Seit heute fehlen alle Cloud-Aufzeichnungen unserer Meetings.")
        conversation_id = widget.conversation_id
        # Assigned at once: the user sees Anna's name, her console opened the conversation.
        expect(widget.root).to_have_attribute("data-mode", "agent", timeout=PUSH_TIMEOUT_MS)
        expect(widget.page.locator(".bolt-banner-title")).to_contain_text("Anna")
        expect(anna.pane(conversation_id).locator(".status-mine")).to_be_attached(timeout=PUSH_TIMEOUT_MS)
        expect(mine_item(anna, conversation_id)).to_be_visible()
        expect(anna.page.locator("#mine-count")).to_have_text("1")
        load = anna.page.locator('.team-item[data-agent="anna"] .team-load')
        expect(load).to_have_text("1 von 3")

        # Typing both ways.
        widget.input.fill("Einen Moment, ich suche")
        note = anna.page.locator(f"#typing-{conversation_id}")
        anna.show(conversation_id)
        expect(note).to_have_text("Kunde schreibt …")
        anna.show(conversation_id).locator(".reply-input").fill("Ich sehe nach")
        expect(widget.page.locator(".bolt-typing")).to_be_visible()
        expect(widget.page.locator(".bolt-typing-text")).to_have_text("Mitarbeiter:in schreibt …")
        no_serious_violations(anna.page)

        # A reload, then a new sign-in (the session's tabs are gone): the list comes from the server.
        anna.page.reload()
        expect(mine_item(anna, conversation_id)).to_be_visible(timeout=PUSH_TIMEOUT_MS)
        anna.page.get_by_role("button", name="Abmelden").click()
        anna = Console.sign_in(anna.page, base_url, "anna", "anna-demo-pass")
        expect(anna.page.get_by_role("tab")).to_have_count(0)
        item = mine_item(anna, conversation_id)
        expect(item).to_be_visible(timeout=PUSH_TIMEOUT_MS)
        item.locator("button").click()
        expect(anna.pane(conversation_id).locator(".status-mine")).to_be_visible()
        anna.reply(conversation_id, "Ich bin wieder da.")
        expect(widget.bubbles("agent").last).to_have_text("Ich bin wieder da.")
        anna.act(conversation_id, "resolve")
        expect(widget.root).to_have_attribute("data-mode", "bot")
        expect(mine_item(anna, conversation_id)).to_have_count(0)
    finally:
        set_presence(anna, "away")


def test_waiting_with_nobody_online_keeps_the_place_across_reload_and_can_leave(base_url, new_page):
    widget = Widget.visit(new_page(), base_url)
    widget.sign_in_as("u-edu-admin")
    widget.open()
    widget.escalate("Unsere Breakout-Räume schließen sich seit gestern von selbst.")
    expect(widget.root).to_have_attribute("data-mode", "queued")
    system = widget.bubbles("system")
    expect(system.last).to_contain_text("kein Mitarbeiter online", timeout=PUSH_TIMEOUT_MS)
    detail = widget.page.locator(".bolt-banner-detail")
    expect(detail).to_contain_text(re.compile(r"Position \d+ in der Warteschlange"))
    place = detail.inner_text()
    no_serious_violations(widget.page)

    widget.page.get_by_role("button", name="Weiter warten").click()
    expect(system.last).to_contain_text("Sie bleiben in der Warteschlange")
    widget.page.reload()
    widget.open()
    expect(widget.root).to_have_attribute("data-mode", "queued", timeout=PUSH_TIMEOUT_MS)
    expect(detail).to_have_text(place)

    # A message while waiting is acknowledged, once.
    widget.send("Ich warte noch.")
    expect(system.last).to_contain_text("für den Mitarbeiter hinzugefügt")
    widget.send("Immer noch.")
    widget.page.wait_for_timeout(800)
    expect(widget.page.locator(".bolt-msg--system", has_text="hinzugefügt")).to_have_count(1)

    # Another user leaves the queue with the bot's button and is offered a ticket.
    other = Widget.visit(new_page(), base_url)
    other.sign_in_as("u-premier-member")
    other.open()
    other.escalate("Die Desktop-App meldet sich seit dem Update ständig ab.")
    other.page.get_by_role("button", name="Warteschlange verlassen").click()
    expect(other.bubbles("system").last).to_contain_text("Sie haben die Warteschlange verlassen")
    expect(other.page.get_by_role("button", name="Ticket anlegen")).to_be_visible()
    expect(other.root).to_have_attribute("data-mode", "bot")
    no_serious_violations(other.page)
