"""The agent console: several conversations in tabs, transfer to tier2, new escalations, text
limits, a bad sign-in."""
from __future__ import annotations

import re

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


def test_sign_out_ends_the_session_on_the_server(base_url, new_page):
    tom = Console.sign_in(new_page(), base_url, "tom", "tom-demo-pass")
    token = tom.page.evaluate("JSON.parse(sessionStorage.getItem('agent-console:v1')).token")
    status = "(t) => fetch('/api/queue', {headers: {Authorization: 'Bearer ' + t}}).then((r) => r.status)"
    assert tom.page.evaluate(status, token) == 200
    tom.page.locator("#logout").click()
    expect(tom.page.locator("#login-view")).to_be_visible()
    # Not only forgotten by the page: the server refuses the token (a copy of it is useless).
    for _ in range(50):
        if tom.page.evaluate(status, token) == 401:
            break
        tom.page.wait_for_timeout(100)
    assert tom.page.evaluate(status, token) == 401


def test_a_throttled_sign_in_says_when_to_try_again(base_url, new_page):
    page = new_page()
    page.goto(f"{base_url}/agent?lang=en")
    wrong = "() => fetch('/api/agents/login', {method: 'POST', headers: {'Content-Type': 'application/json'}, " \
            "body: JSON.stringify({username: 'mallory', password: 'guess'})}).then((r) => r.status)"
    assert [page.evaluate(wrong) for _ in range(20)] == [401] * 20
    page.get_by_label("Username").fill("mallory")
    page.get_by_label("Password").fill("guess")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"^Too many failed sign-ins\. Please try again in \d+ seconds\.$"))


NEW = re.compile(r"\bq-item--new\b")


def test_a_new_escalation_stays_highlighted_until_opened(base_url, new_page):
    anna = Console.sign_in(new_page(1360, 860), base_url, "anna", "anna-demo-pass")
    widget = escalated(new_page, base_url, "u-biz-admin", "Unsere Meetings brechen seit heute nach zehn Minuten ab.")
    item = anna.queue_item(widget.conversation_id)
    expect(item).to_have_class(NEW)
    expect(item.locator(".badge-new")).to_have_text("Neu")
    expect(anna.page.locator("#queue-new")).to_have_text("1 neu")
    # Longer than any toast, and across a reload of the console: still new.
    anna.page.wait_for_timeout(6000)
    expect(item).to_have_class(NEW)
    anna.page.reload()
    expect(anna.page.locator("#connection")).to_have_attribute("data-state", "online")
    expect(item).to_have_class(NEW)
    expect(anna.page).to_have_title(re.compile(r"^\(1\) Neue Eskalation"))

    anna.open(widget.conversation_id)
    expect(item).not_to_have_class(NEW)
    expect(item.locator(".badge-new")).to_have_count(0)
    expect(anna.page.locator("#queue-new")).to_be_hidden()
    anna.page.reload()
    expect(anna.page.locator("#connection")).to_have_attribute("data-state", "online")
    expect(item).to_be_visible()
    expect(item).not_to_have_class(NEW)
    expect(anna.pane(widget.conversation_id)).to_be_visible()  # the open tab comes back, in front

    # The tab list: Delete closes the focused tab, focus goes back to the queue.
    tab = anna.page.get_by_role("tab")
    expect(tab).to_have_count(1)
    tab.focus()
    anna.page.keyboard.press("Delete")
    expect(tab).to_have_count(0)
    expect(anna.page.locator("#queue-title")).to_be_focused()

    anna.open(widget.conversation_id)
    anna.claim(widget.conversation_id)
    anna.act(widget.conversation_id, "release")
    expect(widget.root).to_have_attribute("data-mode", "bot")


def test_text_limits_are_the_services_bytes_of_utf8(base_url, new_page):
    """The widget and the console refuse what the service would refuse, and only that."""
    anna = Console.sign_in(new_page(1360, 860), base_url, "anna", "anna-demo-pass")
    widget = escalated(new_page, base_url, "u-pro-owner", "Die Aufzeichnungen fehlen seit gestern in der Cloud.")
    anna.open(widget.conversation_id)
    anna.claim(widget.conversation_id)
    fits, too_long = "ä" * 2048, "ä" * 2049  # 4096 and 4098 bytes of UTF-8 (2049 characters)

    users = widget.bubbles("user").count()
    widget.send(too_long)
    expect(widget.bubbles("system").last).to_contain_text("zu lang")
    expect(widget.input).to_have_value(too_long)  # nothing lost
    assert widget.bubbles("user").count() == users
    widget.input.fill(fits)
    widget.input.press("Enter")
    expect(widget.bubbles("user")).to_have_count(users + 1)
    anna.wait_for_transcript_text(widget.conversation_id, fits)
    expect(widget.bubbles("system").last).not_to_contain_text("4096")  # no `too_long` from the service

    box = anna.show(widget.conversation_id).locator(".reply-input")
    box.fill(too_long)
    box.press("Enter")
    expect(anna.page.locator(".toast--error")).to_contain_text("zu lang")
    expect(box).to_have_value(too_long)
    box.fill(fits)
    box.press("Enter")
    expect(widget.bubbles("agent").last).to_have_text(fits)

    anna.act(widget.conversation_id, "resolve")
    expect(widget.root).to_have_attribute("data-mode", "bot")
