"""Acceptance check of the help-center widget and the agent console, used as a person would.

    .venv/bin/python scripts/acceptance_browser.py [--base-url http://localhost:8080]

Needs the stack running (`make run`) and Debian's Chromium (CHROMIUM_PATH, default
/usr/bin/chromium). It knows nothing of the widget's internals: it looks for a button that opens
the chat, then a text box, and reads what the page shows. Exit status 0 when every check passes.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import Locator, Page, sync_playwright  # noqa: E402

from tests.e2e.pages import context_options, launch_chromium  # noqa: E402

# The seed's numbers for Germany: +49.30.80098621 and +49 0800.0010429 (extension 2).
GERMANY = ("493080098621", "4908000010429")
QUESTION = "Wie lautet die Telefonnummer des Supports in Deutschland?"
HTML = '<img src=x onerror="window.__acceptance_xss=1"><b>fett</b>'
LAUNCHER_NAME = re.compile(r"chat|bolt|hilfe|help|support|assist", re.I)
ANSWER_TIMEOUT = 30.0


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def first_visible(candidates: Locator) -> Locator | None:
    for i in range(candidates.count()):
        item = candidates.nth(i)
        if item.is_visible():
            return item
    return None


def chat_text_box(page: Page) -> Locator | None:
    """The chat's text box; opens the chat with its launcher button when it is not showing."""
    for _ in range(2):
        box = first_visible(page.get_by_role("dialog").get_by_role("textbox")) or first_visible(
            page.get_by_role("textbox")
        )
        if box is not None:
            return box
        launcher = first_visible(page.get_by_role("button", name=LAUNCHER_NAME))
        if launcher is None:
            return None
        launcher.click()
        page.wait_for_timeout(300)
    return None


def conversation_text(page: Page) -> str:
    log = first_visible(page.get_by_role("log"))
    return log.inner_text() if log is not None else page.inner_text("body")


class Checks:
    def __init__(self) -> None:
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        print(f"{'PASS' if ok else 'FAIL'}  {what}" + (f"  ({detail})" if detail and not ok else ""))
        self.failed += 0 if ok else 1
        return ok


def run(base_url: str, screenshot_dir: str | None) -> int:
    checks = Checks()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(**context_options())
        page = context.new_page()
        try:
            page.goto(base_url + "/")

            launcher = first_visible(page.get_by_role("button", name=LAUNCHER_NAME))
            checks.check(launcher is not None, "the help-center page has a button that opens the chat")
            box = chat_text_box(page)
            if not checks.check(box is not None, "the chat has a text box"):
                return 1

            box.fill(QUESTION)
            box.press("Enter")
            answered = wait_for(lambda: any(d in digits(conversation_text(page)) for d in GERMANY), ANSWER_TIMEOUT)
            checks.check(answered, "the widget answers with the support number for Germany",
                         conversation_text(page)[-300:])

            box = chat_text_box(page)
            box.fill(HTML)
            box.press("Enter")
            shown = wait_for(lambda: HTML in conversation_text(page), 10)
            page.wait_for_timeout(1000)  # an image error handler would have fired by now
            executed = page.evaluate("typeof window.__acceptance_xss !== 'undefined'")
            log = first_visible(page.get_by_role("log"))
            markup = log.locator("img, b, script").count() if log is not None else -1
            checks.check(shown, "HTML sent to the chat is shown as text")
            checks.check(not executed and markup == 0, "HTML sent to the chat does not run or render",
                         f"executed={executed}, elements={markup}")

            page.reload()
            box = chat_text_box(page)
            kept = box is not None and wait_for(lambda: QUESTION in conversation_text(page), 15)
            checks.check(kept, "the conversation is still there after a reload")

            page.goto(base_url + "/agent")
            username = first_visible(page.get_by_role("textbox", name=re.compile(r"user|benutzer|name", re.I)))
            password = first_visible(page.locator("input[type=password]"))
            submit = first_visible(page.locator("form").get_by_role("button"))
            checks.check(username is not None and password is not None and submit is not None,
                         "the agent console shows its sign-in form")
        except PlaywrightError as error:
            checks.check(False, "the pages could be used", str(error).splitlines()[0])
        finally:
            if screenshot_dir:
                os.makedirs(screenshot_dir, exist_ok=True)
                page.screenshot(path=os.path.join(screenshot_dir, "acceptance-last.png"))
            browser.close()
    print("all checks passed" if not checks.failed else f"{checks.failed} check(s) failed")
    return 1 if checks.failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("HANDOFF_URL", "http://localhost:8080"))
    parser.add_argument("--screenshot-dir", help="save the last page here (for debugging a failure)")
    args = parser.parse_args(argv)
    return run(args.base_url.rstrip("/"), args.screenshot_dir)


if __name__ == "__main__":
    sys.exit(main())
