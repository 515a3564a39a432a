"""The whole story in a real browser: a user, the bot, an agent, and back to the bot."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import GERMAN_PHONE_DIGITS, Console, Widget, digits

pytestmark = pytest.mark.e2e


def test_user_bot_agent_and_back(base_url, new_page):
    # The agent is signed in before the user escalates: the escalation must be pushed to them.
    console = Console.sign_in(new_page(1360, 860), base_url, "anna", "anna-demo-pass")

    # 1. The user opens the widget and asks for a phone number.
    widget = Widget.visit(new_page(), base_url)
    widget.sign_in_as("u-biz-admin")  # Business admin, licensed: live chat in tier1
    widget.open()
    expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    answer = widget.ask("Wie lautet die Telefonnummer des Supports in Deutschland?")
    assert GERMAN_PHONE_DIGITS in digits(" ".join(answer)), answer

    # 2. As an eligible demo user, they ask for a human.
    widget.escalate("Seit heute bricht in jedem Meeting die Bildschirmfreigabe nach wenigen Sekunden ab.")
    banner = widget.page.locator(".bolt-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Position")
    conversation_id = widget.conversation_id

    # 3. The agent sees the escalation pushed (no reload), with a title and account card.
    item = console.queue_item(conversation_id)
    expect(item).to_be_visible()
    expect(item).to_contain_text("Karl Brandt")
    expect(item.locator(".prio")).to_have_text(re.compile(r"^P[1-4]$"))
    expect(console.page).to_have_title(re.compile(r"^\(\d+\) "))  # the title notification
    pane = console.open(conversation_id)
    console.wait_for_transcript_text(conversation_id, "Telefonnummer")
    expect(pane.locator(".transcript .msg--bot").first).to_be_visible()
    expect(pane.locator(".account-card")).to_contain_text("Brandt Logistik GmbH")

    # 4. The agent claims it and replies; the user sees the reply as an agent message.
    console.claim(conversation_id)
    expect(widget.root).to_have_attribute("data-mode", "agent")
    # The user closed the widget meanwhile: the reply shows as an unread badge on the launcher.
    widget.close()
    console.reply(conversation_id, "Hallo Herr Brandt, hier ist Anna. Welche Version nutzen Sie?")
    badge = widget.page.locator(".bolt-badge")
    expect(badge).to_have_text("1")
    expect(widget.launcher).to_have_attribute("aria-label", re.compile("1 ungelesene Nachricht"))
    widget.open()
    expect(badge).to_be_hidden()
    expect(widget.bubbles("agent").last).to_have_text(
        "Hallo Herr Brandt, hier ist Anna. Welche Version nutzen Sie?"
    )
    # The user's answer reaches the agent, and the bot stays silent meanwhile.
    bot_before = widget.bubbles("bot").count()
    widget.send("Version 5.17 auf Windows.")
    console.wait_for_transcript_text(conversation_id, "Version 5.17 auf Windows.")
    widget.page.wait_for_timeout(1000)
    assert widget.bubbles("bot").count() == bot_before

    # 5. The agent hands back, and the bot answers again.
    console.act(conversation_id, "release")
    expect(widget.root).to_have_attribute("data-mode", "bot")
    expect(widget.page.locator(".bolt-banner")).to_be_hidden()
    again = widget.ask("Und wie lautet die Telefonnummer in Deutschland?")
    assert GERMAN_PHONE_DIGITS in digits(" ".join(again)), again


def test_keyboard_and_aria(base_url, new_page):
    widget = Widget.visit(new_page(), base_url, lang="en")
    page = widget.page
    launcher = widget.launcher
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_have_attribute("aria-label", "Open chat with Bolt")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(widget.input).to_be_focused()
    expect(page.locator(".bolt-log")).to_have_attribute("role", "log")
    expect(page.locator(".bolt-log")).to_have_attribute("aria-live", "polite")
    expect(page.locator(".bolt-footnote")).to_contain_text("passwords")  # English interface text
    page.keyboard.press("Escape")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_be_focused()
