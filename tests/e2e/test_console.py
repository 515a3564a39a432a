"""The agent console: several conversations in tabs, transfer to tier2, a bad sign-in."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import Console, Widget

pytestmark = pytest.mark.e2e


def escalated(new_page, base_url, user_id: str, problem: str) -> Widget:
    widget = Widget.visit(new_page(), base_url)
    widget.sign_in_as(user_id)
    widget.open()
    widget.escalate(problem)
    return widget


def test_tabs_and_transfer_to_tier2(base_url, new_page):
    anna = Console.sign_in(new_page(1360, 860), base_url, "anna", "anna-demo-pass")
    tom = Console.sign_in(new_page(1360, 860), base_url, "tom", "tom-demo-pass")
    first = escalated(new_page, base_url, "u-edu-admin", "Der Ton fällt in Webinaren seit heute immer wieder aus.")
    second = escalated(new_page, base_url, "u-api-owner", "Unsere Webhooks kommen seit gestern doppelt an.")

    # Two conversations open at once, each in its own tab with its own transcript.
    for widget in (first, second):
        expect(anna.queue_item(widget.conversation_id)).to_be_visible()
        anna.open(widget.conversation_id)
        anna.claim(widget.conversation_id)
    tabs = anna.page.get_by_role("tab")
    expect(tabs).to_have_count(2)
    tabs.first.click()
    expect(anna.pane(first.conversation_id)).to_be_visible()
    expect(anna.pane(second.conversation_id)).to_be_hidden()
    anna.reply(first.conversation_id, "Hallo, ich schaue mir den Ton gleich an.")
    expect(first.bubbles("agent").last).to_have_text("Hallo, ich schaue mir den Ton gleich an.")
    expect(second.bubbles("agent")).to_have_count(0)

    # Transfer to tier2: Tom (tier2) gets it pushed; Anna can no longer act on it.
    anna.act(first.conversation_id, "transfer")
    expect(tom.queue_item(first.conversation_id)).to_be_visible()
    expect(tom.queue_item(first.conversation_id)).to_contain_text("Tier 2")
    expect(anna.pane(first.conversation_id).locator("button[data-action]")).to_have_count(0)
    expect(first.root).to_have_attribute("data-mode", "queued")
    tom.open(first.conversation_id)
    tom.claim(first.conversation_id)
    tom.reply(first.conversation_id, "Hier ist Tom aus Tier 2.")
    expect(first.bubbles("agent").last).to_have_text("Hier ist Tom aus Tier 2.")

    for console, widget in ((tom, first), (anna, second)):
        console.act(widget.conversation_id, "resolve")
        expect(widget.root).to_have_attribute("data-mode", "bot")


def test_wrong_password_is_refused(base_url, new_page):
    page = new_page()
    page.goto(f"{base_url}/agent?lang=en")
    page.get_by_label("Username").fill("anna")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.locator("#app")).to_be_hidden()
