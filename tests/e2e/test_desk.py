"""The desk in Chromium: canned answers by the "/" shortcut and by click, internal notes that the
user never sees, the transcript download, the CSAT rating in the widget and in the console, and
the supervisors' overview; axe-core finds no serious or critical violation on these screens."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.knowledge import load_knowledge
from tests.e2e.axe import axe_violations, describe
from tests.e2e.pages import PUSH_TIMEOUT_MS, Console, Widget, digits

pytestmark = pytest.mark.e2e

NOTE = "Kunde hat schon neu installiert – nicht noch einmal vorschlagen."


def test_canned_answers_notes_export_and_csat(base_url, new_page):
    knowledge = load_knowledge()
    germany = knowledge.country("DE")
    anna = Console.sign_in(new_page(1360, 900), base_url, "anna", "anna-demo-pass")
    widget = Widget.visit(new_page(), base_url)
    widget.sign_in_as("u-biz-admin")
    widget.open()
    widget.escalate("Die Aufzeichnungen unserer Meetings fehlen seit gestern in der Cloud.")
    conversation_id = widget.conversation_id
    expect(anna.queue_item(conversation_id)).to_be_visible()
    pane = anna.open(conversation_id)
    anna.claim(conversation_id)
    reply = pane.locator(".reply-input")

    # "/" + letters: a listbox of matches; Enter inserts the answer with Germany's numbers.
    reply.fill("")
    reply.press_sequentially("/phone-d")
    options = pane.locator(".canned-list [role=option]")
    expect(options.first).to_have_attribute("data-key", "phone-de")
    expect(reply).to_have_attribute("aria-activedescendant", re.compile("canned-"))
    axe_with_list = axe_violations(anna.page)
    reply.press("Enter")
    expect(pane.locator(".canned-list")).to_be_hidden()
    inserted = reply.input_value()
    assert all(number.digits in digits(inserted) for number in germany.phones), inserted
    reply.press("Enter")
    expect(widget.bubbles("agent").last).to_contain_text("Telefon-Support in Deutschland")
    assert all(number.digits in digits(widget.texts("agent")[-1]) for number in germany.phones)

    # By click: the button shows every answer; a click inserts P1's times.
    pane.locator(".canned-btn").click()
    expect(pane.locator(".canned-btn")).to_have_attribute("aria-expanded", "true")
    pane.locator('.canned-list [data-key="p1"]').click()
    p1 = knowledge.priorities["P1"]
    expect(reply).to_have_value(re.compile(re.escape(p1.first_response.text("de"))))
    reply.fill("")

    # A note: in the console, never in the widget.
    pane.locator(".note-input").fill(NOTE)
    pane.locator(".note-form button[type=submit]").click()
    expect(pane.locator(".notes-list .note-text")).to_have_text(NOTE)
    widget.page.wait_for_timeout(500)
    assert NOTE not in widget.page.content()

    # The transcript download (text), as the service renders it: redacted, with the agent's reply.
    with anna.page.expect_download() as download:
        pane.locator('[data-export="txt"]').click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith(f"Gesprächsverlauf {conversation_id}") and "Telefon-Support in Deutschland" in text
    assert NOTE not in text
    with anna.page.expect_download() as download:
        pane.locator('[data-export="json"]').click()
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert exported["id"] == conversation_id and exported["transcript"]

    assert not axe_with_list, describe(axe_with_list)
    console_violations = axe_violations(anna.page)
    assert not console_violations, describe(console_violations)

    # Resolve: the widget asks for a rating; 4 stars and a comment reach the console.
    anna.act(conversation_id, "resolve")
    rating = widget.page.locator(".bolt-csat")
    expect(rating).to_be_visible(timeout=PUSH_TIMEOUT_MS)
    widget_violations = axe_violations(widget.page)
    assert not widget_violations, describe(widget_violations)
    rating.locator("button[type=submit]").click()
    expect(rating.locator(".bolt-csat-hint")).to_have_text("Bitte wählen Sie 1 bis 5 Sterne.")
    rating.locator("label", has_text="4 Sterne").click()
    expect(rating.get_by_label("4 Sterne")).to_be_checked()
    rating.locator("textarea").fill("Schnell und freundlich.")
    rating.locator("button[type=submit]").click()
    expect(widget.page.locator(".bolt-csat")).to_have_count(0)
    expect(widget.bubbles("system").last).to_have_text("Vielen Dank für Ihre Bewertung!")
    expect(pane.locator(".csat-box")).to_contain_text("4 von 5 Sternen", timeout=PUSH_TIMEOUT_MS)
    expect(pane.locator(".csat-comment")).to_have_text("Schnell und freundlich.")
    # A reload shows no second request.
    widget.page.reload()
    widget.open()
    widget.page.wait_for_timeout(800)
    expect(widget.page.locator(".bolt-csat")).to_have_count(0)


def test_the_supervisors_overview(base_url, new_page):
    anna = Console.sign_in(new_page(1360, 900), base_url, "anna", "anna-demo-pass")
    expect(anna.page.locator("#supervisor-toggle")).to_be_hidden()
    sara = Console.sign_in(new_page(1360, 900), base_url, "sara", "sara-demo-pass")
    toggle = sara.page.locator("#supervisor-toggle")
    expect(toggle).to_have_text("Übersicht")
    toggle.click()
    view = sara.page.locator("#supervisor-view")
    expect(view).to_be_visible()
    expect(sara.page.locator(".layout")).to_be_hidden()
    expect(view.get_by_role("heading", name="Übersicht für Supervisor")).to_be_focused()
    for stat in ("volume", "waiting", "slaBreaches", "averageWait", "csat", "botOnly"):
        expect(view.locator(f'[data-stat="{stat}"] .stat-value')).not_to_be_empty()
    expect(view.locator('[data-stat="volume"] .stat-value')).to_have_text(re.compile(r"^\d+$"))
    expect(view.locator(".sup-audit tbody tr").first).to_contain_text("sara")  # her sign-in
    # A user's data: the export downloads it, the delete asks once more, then nothing is left.
    widget = Widget.visit(new_page(), base_url)
    widget.sign_in_as("u-basic-owner")
    widget.open()
    widget.ask("Welche Support-Pläne gibt es?")
    view.get_by_label("Benutzer-ID").fill("u-basic-owner")
    with sara.page.expect_download() as download:
        view.locator('[data-privacy="export"]').click()
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert exported["user_id"] == "u-basic-owner" and exported["conversations"][0]["id"] == widget.conversation_id
    view.locator('[data-privacy="delete"]').click()
    expect(view.locator('[data-privacy="confirm"]')).to_be_focused()
    violations = axe_violations(sara.page)
    assert not violations, describe(violations)
    view.locator('[data-privacy="confirm"]').click()
    expect(view.locator(".sup-result")).to_contain_text("Gelöscht (u-basic-owner): 1 Gespräch(e)")
    expect(view.locator(".sup-audit tbody tr").first).to_contain_text("Daten gelöscht")
    view.get_by_label("Benutzer-ID").fill("u-basic-owner")
    view.locator('[data-privacy="export"]').click()
    expect(view.locator(".sup-result")).to_have_text("Zu u-basic-owner sind keine Daten gespeichert.")
    view.get_by_role("button", name="Zurück zur Warteschlange").click()
    expect(sara.page.locator(".layout")).to_be_visible()
    expect(toggle).to_be_focused()
