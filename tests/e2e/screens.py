"""The screens the accessibility checks look at, set up the way a person gets there.

`visit_screens(new_page, base_url)` yields `(name, page)`: the help-center page, the console's
sign-in, the open widget on a phone while waiting in the queue, the open widget on a desktop with
bot, system and agent messages (a phone number as a link, the agent banner), and the signed-in
console (a claimed conversation open, another one new in the queue). `new_page(width, height,
phone=False)` makes a page in a fresh context (the `new_page` fixture, or `scripts/axe_report.py`).
"""
from __future__ import annotations

import re
from typing import Callable, Iterator

from playwright.sync_api import Page, expect

from tests.e2e.pages import Console, Widget

PROBLEM = "Seit heute bricht in jedem Meeting die Bildschirmfreigabe nach wenigen Sekunden ab."
AGENT_REPLY = "Hallo Herr Brandt, hier ist Anna. Sie erreichen uns auch unter +49 30 80098621."


def visit_screens(new_page: Callable[..., Page], base_url: str) -> Iterator[tuple[str, Page]]:
    desktop = Widget.visit(new_page(), base_url)
    yield "helpcenter", desktop.page
    phone = Widget.visit(new_page(phone=True), base_url)
    yield "helpcenter-phone", phone.page

    login = new_page(1360, 860)
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
    yield "widget", desktop.page
    console.wait_for_transcript_text(conversation_id, "80098621")
    expect(console.queue_item(phone.conversation_id)).to_have_class(re.compile(r"\bq-item--new\b"))
    yield "console", console.page

    # Leave the demo tidy: both conversations go back to the bot.
    console.act(conversation_id, "release")
    expect(desktop.root).to_have_attribute("data-mode", "bot")
    console.open(phone.conversation_id)
    console.claim(phone.conversation_id)
    console.act(phone.conversation_id, "release")
    expect(phone.root).to_have_attribute("data-mode", "bot")
