"""HTML in user and agent messages is shown as text on both pages and never runs."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import XSS_PAYLOADS, Console, Widget

pytestmark = pytest.mark.e2e


def assert_inert(page: Page, container: str) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined", f"a payload ran on {page.url}"
    tags = ", ".join(f"{container} {tag}" for tag in ("img", "script", "svg", "iframe"))
    assert page.locator(tags).count() == 0, f"chat text became markup on {page.url}"
    assert page.locator("a[href^='javascript:' i]").count() == 0


def test_html_in_messages_is_text_on_both_pages(base_url, new_page):
    console = Console.sign_in(new_page(1360, 860), base_url, "anna", "anna-demo-pass")
    widget = Widget.visit(new_page(), base_url)
    widget.sign_in_as("u-pro-owner")  # Pro owner, licensed: live chat in tier1
    widget.open()

    # While the bot has the conversation.
    widget.ask(XSS_PAYLOADS[0])
    expect(widget.bubbles("user").last).to_have_text(XSS_PAYLOADS[0])
    assert_inert(widget.page, ".bolt-log")

    widget.escalate("Die Aufzeichnung in der Cloud startet seit gestern nicht mehr.")
    conversation_id = widget.conversation_id
    expect(console.queue_item(conversation_id)).to_be_visible()
    console.open(conversation_id)
    console.claim(conversation_id)

    # User → agent.
    for payload in XSS_PAYLOADS:
        widget.send(payload)
        console.wait_for_transcript_text(conversation_id, payload)
    # Agent → user, including a javascript: "link" that must stay plain text.
    agent_payloads = (
        *XSS_PAYLOADS, "javascript:window.__xss=4", '"><img src=x onerror=window.__xss=5>',
        # A phone number next to markup: a tel: link of its digits, the markup stays text.
        '+49 30 1234567"><img src=x onerror=window.__xss=6>',
    )
    for payload in agent_payloads:
        console.reply(conversation_id, payload)
        expect(widget.bubbles("agent").last).to_have_text(payload)

    console.page.wait_for_timeout(500)  # time for an image error handler to fire, were there one
    transcript = console.transcript(conversation_id)
    for payload in (*XSS_PAYLOADS, *agent_payloads):
        expect(transcript).to_contain_text(payload)
    assert_inert(widget.page, ".bolt-log")
    assert_inert(console.page, ".transcript")
    for page, container in ((widget.page, ".bolt-log"), (console.page, ".transcript")):
        tel = page.locator(f'{container} a[href^="tel:"]')
        expect(tel).to_have_count(1)
        expect(tel).to_have_attribute("href", "tel:+49301234567")
        expect(tel).to_have_text("+49 30 1234567")

    # The page was reloaded with the payloads in its history: still text.
    widget.page.reload()
    widget.open()
    expect(widget.bubbles("agent").last).to_have_text(agent_payloads[-1])
    assert_inert(widget.page, ".bolt-log")

    console.act(conversation_id, "resolve")
    expect(widget.root).to_have_attribute("data-mode", "bot")
