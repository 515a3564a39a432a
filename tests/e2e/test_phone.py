"""The help-center page and the widget on a 390x844 touch screen, and the panel as a dialog."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import PHONE, Widget

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = PHONE["viewport"]["width"], PHONE["viewport"]["height"]


def page_width(page: Page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def inside_screen(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box, f"{selector} is not shown"
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT, (selector, box)


def focus_path(page: Page, key: str, presses: int) -> list[str]:
    """Where focus is after each of `presses` presses of `key`: inside the panel or not."""
    where = []
    for _ in range(presses):
        page.keyboard.press(key)
        where.append(page.evaluate(
            "() => document.activeElement.closest('.bolt-panel') ? 'panel:' + "
            "(document.activeElement.getAttribute('aria-label') || document.activeElement.className)"
            " : 'page:' + document.activeElement.tagName"
        ))
    return where


def test_page_and_widget_fit_a_phone(base_url, new_page):
    widget = Widget.visit(new_page(phone=True), base_url)
    page = widget.page
    # No sideways scroll, although the plans table is wider than the screen: it scrolls in its box,
    # which a keyboard can reach.
    assert page_width(page) <= WIDTH, f"the page is {page_width(page)} px wide"
    plans = page.locator("#plans .table-wrap")
    assert plans.evaluate("el => el.scrollWidth > el.clientWidth")
    expect(plans).to_have_attribute("tabindex", "0")
    inside_screen(page, ".bolt-launcher")

    widget.launcher.tap()
    expect(widget.input).to_be_focused()
    inside_screen(page, ".bolt-panel")
    panel = page.locator(".bolt-panel").bounding_box()
    assert (panel["width"], panel["height"]) == (WIDTH, HEIGHT), "the open panel covers the screen"
    # 16 px or more, or iOS Safari zooms into the page when the text box gets focus.
    assert float(widget.input.evaluate("el => getComputedStyle(el).fontSize").rstrip("px")) >= 16

    answer = widget.ask("Wie lautet die Telefonnummer des Supports in Deutschland?")
    assert "80098621" in " ".join(answer)
    link = page.locator('.bolt-msg--bot a[href="tel:+493080098621"]').last
    expect(link).to_be_visible()
    expect(link).to_have_text("+49 30 80098621")  # the seed's digits, grouped by spaces (bot/answers/phone.py)
    assert page.locator(".bolt-log").evaluate("el => el.scrollWidth <= el.clientWidth")
    assert page_width(page) <= WIDTH


def test_the_open_panel_is_a_modal_dialog_on_a_phone(base_url, new_page):
    widget = Widget.visit(new_page(phone=True), base_url, lang="en")
    page = widget.page
    widget.launcher.tap()
    dialog = page.get_by_role("dialog", name="Support chat with Bolt")
    expect(dialog).to_have_attribute("aria-modal", "true")
    # The page behind neither scrolls nor takes focus: Tab and Shift+Tab go round inside.
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") == "hidden"
    forward = focus_path(page, "Tab", 8)
    backward = focus_path(page, "Shift+Tab", 8)
    assert all(step.startswith("panel:") for step in forward + backward), forward + backward
    assert "panel:Close chat" in forward and "panel:Send" in forward
    assert len(set(forward)) >= 3, forward
    # Focus that lands outside (a script, a screen reader) comes back to the text box.
    page.evaluate("document.querySelector('.search input').focus()")
    expect(widget.input).to_be_focused()

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(widget.launcher).to_be_focused()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    inside_screen(page, ".bolt-launcher")
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") != "hidden"


def test_a_phone_on_its_side_gets_the_whole_screen_too(base_url, new_page):
    page = new_page(HEIGHT, WIDTH)  # 844x390
    widget = Widget.visit(page, base_url)
    widget.open()
    panel = page.locator(".bolt-panel").bounding_box()
    assert (panel["width"], panel["height"]) == (HEIGHT, WIDTH)
    expect(page.locator(".bolt-panel")).to_have_attribute("aria-modal", "true")


def test_on_a_desktop_the_panel_leaves_the_page_usable(base_url, new_page):
    widget = Widget.visit(new_page(), base_url, lang="en")
    page = widget.page
    widget.open()
    panel = page.locator(".bolt-panel")
    expect(panel).to_have_attribute("aria-modal", "false")
    assert panel.bounding_box()["width"] < 500
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") != "hidden"
    # Not a trap: the page can take focus while the panel is open.
    page.locator(".search input").focus()
    expect(page.locator(".search input")).to_be_focused()
    widget.input.focus()
    page.keyboard.press("Escape")
    expect(widget.launcher).to_be_focused()
