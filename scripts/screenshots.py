"""Screenshots of the widget and the agent console for the docs, from a running stack.

    .venv/bin/python scripts/screenshots.py [--base-url http://localhost:8080] [--out docs/img]

Plays a short conversation (a phone question, an escalation, an agent's reply) and writes
`widget.png` and `console.png`. The end-to-end suite runs the same code (tests/e2e/test_screenshots.py).
Needs Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, expect, sync_playwright  # noqa: E402

from tests.e2e.pages import Console, Widget, launch_chromium  # noqa: E402


def capture(browser: Browser, base_url: str, out_dir: Path) -> list[Path]:
    """Play the demo conversation and save the two screenshots; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    agent_context = browser.new_context(viewport={"width": 1360, "height": 820}, locale="de-DE")
    user_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE")
    other_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE")
    try:
        console = Console.sign_in(agent_context.new_page(), base_url, "anna", "anna-demo-pass")
        # Someone else waits too, so the queue shows a prioritized entry with its SLA countdown.
        other = Widget.visit(other_context.new_page(), base_url, lang="de")
        other.sign_in_as("u-premier-member")
        other.open()
        other.escalate("Seit dem Update stürzt die Desktop-App beim Beitreten zu Meetings ab.")
        widget = Widget.visit(user_context.new_page(), base_url, lang="de")
        widget.sign_in_as("u-biz-admin")
        widget.open()
        widget.ask("Wie lautet die Telefonnummer des Supports in Deutschland?")
        widget.escalate("Seit heute bricht in jedem Meeting die Bildschirmfreigabe nach wenigen Sekunden ab.")
        conversation_id = widget.conversation_id

        expect(console.queue_item(conversation_id)).to_be_visible()
        console.open(conversation_id)
        console.claim(conversation_id)
        console.reply(
            conversation_id,
            "Hallo Herr Brandt, hier ist Anna vom Support. Welche Version nutzen Sie, "
            "und passiert es auch im Browser?",
        )
        expect(widget.bubbles("agent").last).to_be_visible()
        widget.send("Version 5.17 unter Windows, im Browser passiert es auch.")
        console.wait_for_transcript_text(conversation_id, "Version 5.17")
        widget.page.wait_for_timeout(600)  # let the last animations settle
        expect(console.page.locator(".toast")).to_have_count(0, timeout=10_000)

        widget_png = out_dir / "widget.png"
        console_png = out_dir / "console.png"
        widget.page.screenshot(path=str(widget_png))
        console.page.screenshot(path=str(console_png))
        # Leave the demo tidy: the conversation goes back to the bot.
        console.act(conversation_id, "release")
        expect(widget.root).to_have_attribute("data-mode", "bot")
        console.open(other.conversation_id)
        console.claim(other.conversation_id)
        console.act(other.conversation_id, "release")
        expect(other.root).to_have_attribute("data-mode", "bot")
        return [widget_png, console_png]
    finally:
        for context in (agent_context, user_context, other_context):
            context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://localhost:8080", help="the live-agent service")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for path in capture(browser, args.base_url.rstrip("/"), args.out):
                print(f"wrote {path}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
