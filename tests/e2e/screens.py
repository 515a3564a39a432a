"""The screens of the pages, set up the way a person gets there: what the accessibility checks
look at (tests/e2e/test_accessibility.py, scripts/axe_report.py) and what the docs' screenshots
show (scripts/screenshots.py).

`visit_screens(new_page, base_url)` yields `(name, page)`: the help-center page, the console's
sign-in, the open widget on a phone while waiting in the queue, the open widget on a desktop with
bot, system and agent messages (a phone number as a link, the agent banner), and the signed-in
console (a claimed conversation open, another one new in the queue). `new_page(width, height,
phone=False)` makes a page in a fresh context (the `new_page` fixture, or the scripts' own).
"""
from __future__ import annotations

import re
from typing import Callable, Iterator

from playwright.sync_api import Page, expect

from tests.e2e.pages import Console, Widget

PROBLEM = "Seit heute bricht in jedem Meeting die Bildschirmfreigabe nach wenigen Sekunden ab."
AGENT_REPLY = ("Hallo Herr Brandt, hier ist Anna vom Support. Welche Version nutzen Sie, und passiert "
               "es auch im Browser? Telefonisch erreichen Sie uns unter +49 30 80098621.")
USER_REPLY = "Version 5.17 unter Windows, im Browser passiert es auch."


def visit_screens(new_page: Callable[..., Page], base_url: str) -> Iterator[tuple[str, Page]]:
    desktop = Widget.visit(new_page(1280, 800), base_url)
    yield "helpcenter", desktop.page
    phone = Widget.visit(new_page(phone=True), base_url)
    yield "helpcenter-phone", phone.page

    login = new_page(1360, 820)
    login.goto(f"{base_url}/agent")
    expect(login.locator("#login-form")).to_be_visible()
    yield "console-login", login
    console = Console.sign_in(login, base_url, "anna", "anna-demo-pass")

    phone.sign_in_as("u-premier-member")
    phone.open()
    phone.escalate("Seit dem Update stürzt die Desktop-App beim Beitreten zu Meetings ab.")
    yield "widget-phone", phone.page

    desktop.sign_in_as("u-biz-admin")
    desktop.open()
    desktop.ask("Wie lautet die Telefonnummer des Supports in Deutschland?")
    desktop.escalate(PROBLEM)
    conversation_id = desktop.conversation_id
    expect(console.queue_item(conversation_id)).to_be_visible()
    console.open(conversation_id)
    console.claim(conversation_id)
    console.reply(conversation_id, AGENT_REPLY)
    expect(desktop.bubbles("agent").last).to_be_visible()
    desktop.send(USER_REPLY)
    console.wait_for_transcript_text(conversation_id, USER_REPLY)
    desktop.page.wait_for_timeout(600)  # let the last animations settle
    yield "widget", desktop.page
    expect(console.queue_item(phone.conversation_id)).to_have_class(re.compile(r"\bq-item--new\b"))
    expect(console.page.locator(".toast")).to_have_count(0, timeout=10_000)
    yield "console", console.page

    # Leave the demo tidy: both conversations go back to the bot.
    console.act(conversation_id, "release")
    expect(desktop.root).to_have_attribute("data-mode", "bot")
    console.open(phone.conversation_id)
    console.claim(phone.conversation_id)
    console.act(phone.conversation_id, "release")
    expect(phone.root).to_have_attribute("data-mode", "bot")
