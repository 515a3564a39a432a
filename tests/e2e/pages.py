"""Page objects for the help-center widget and the agent console, driven by Playwright (sync).

Shared by the end-to-end tests and `scripts/screenshots.py`. Chromium is Debian's (`CHROMIUM_PATH`,
default /usr/bin/chromium): Playwright's own browser download is not used.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterable

from playwright.sync_api import Browser, Locator, Page, Playwright, expect

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The Rasa model answers in well under a second; the first message may load caches.
BOT_TIMEOUT_MS = 30_000
PUSH_TIMEOUT_MS = 15_000
# Digits of the first German support number in the seed (+49.30.80098621).
GERMAN_PHONE_DIGITS = "493080098621"
XSS_PAYLOADS = (
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=2</script>",
    '<svg onload="window.__xss=3"></svg>',
)


# A phone: the 390x844 touch screen (an iPhone 12-14 in CSS pixels).
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}


def context_options(width: int = 1280, height: int = 860, phone: bool = False) -> dict:
    """Playwright's browser-context options: a desktop window, or the phone above."""
    screen = PHONE if phone else {"viewport": {"width": width, "height": height}}
    return {**screen, "locale": "de-DE"}


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def launch_chromium(playwright: Playwright) -> Browser:
    path = chromium_path()
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"no Chromium at {path}: install Debian's package (apt-get install -y chromium) "
            "or set CHROMIUM_PATH"
        )
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@dataclass
class Widget:
    """The chat widget on the help-center page, used the way a person would."""

    page: Page

    @classmethod
    def visit(cls, page: Page, base_url: str, lang: str = "de") -> "Widget":
        page.goto(f"{base_url}/?lang={lang}")
        expect(page.locator(".bolt-launcher")).to_be_visible()
        return cls(page)

    # --- the page around it ------------------------------------------------------------------

    def sign_in_as(self, user_id: str) -> None:
        """Pick a demo user in the page's DEMO picker (the page fetches a signed token)."""
        picker = self.page.locator("#demo-user")
        expect(picker.locator(f'option[value="{user_id}"]')).to_be_attached()
        with self.page.expect_response(lambda r: r.url.endswith("/demo/token")) as response:
            picker.select_option(user_id)
        assert response.value.ok, f"demo token for {user_id}: HTTP {response.value.status}"

    # --- the widget --------------------------------------------------------------------------

    @property
    def launcher(self) -> Locator:
        return self.page.locator(".bolt-launcher")

    @property
    def input(self) -> Locator:
        return self.page.locator("#bolt-input")

    @property
    def root(self) -> Locator:
        return self.page.locator(".bolt-widget")

    def open(self) -> None:
        if self.launcher.get_attribute("aria-expanded") != "true":
            self.launcher.click()
        expect(self.input).to_be_focused()

    def close(self) -> None:
        self.page.keyboard.press("Escape")
        expect(self.launcher).to_have_attribute("aria-expanded", "false")

    def wait_online(self, timeout: float = PUSH_TIMEOUT_MS) -> None:
        expect(self.root).to_have_attribute("data-connection", "online", timeout=timeout)

    @property
    def conversation_id(self) -> str:
        value = self.root.get_attribute("data-conversation-id") or ""
        assert value, "the widget has no conversation yet"
        return value

    def bubbles(self, sender: str) -> Locator:
        return self.page.locator(f".bolt-log .bolt-msg--{sender} .bolt-bubble")

    def texts(self, sender: str) -> list[str]:
        return self.bubbles(sender).all_inner_texts()

    def send(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def ask(self, text: str, timeout: float = BOT_TIMEOUT_MS) -> list[str]:
        """Send `text` and return the bot's new messages once it stopped typing."""
        before = self.bubbles("bot").count()
        self.send(text)
        return self.wait_for_new("bot", before, timeout)

    def wait_for_new(self, sender: str, before: int, timeout: float = BOT_TIMEOUT_MS) -> list[str]:
        self.page.wait_for_function(
            "([selector, n]) => document.querySelectorAll(selector).length > n",
            arg=[f".bolt-log .bolt-msg--{sender}", before],
            timeout=timeout,
        )
        # A reply may come as several messages in a row: give the rest a moment to arrive.
        self.page.wait_for_timeout(400)
        return self.texts(sender)[before:]

    @property
    def mode(self) -> str:
        return self.root.get_attribute("data-mode") or "bot"

    def escalate(self, problem: str) -> None:
        """Ask for a person; describe the problem if the bot asks for it; wait for the queue."""
        turns: Iterable[str] = (
            "Ich möchte bitte mit einem Mitarbeiter sprechen.",
            problem,
            "Ja",
            "Bitte verbinden Sie mich mit einem Mitarbeiter.",
        )
        for text in turns:
            self.ask(text)
            if self.mode in ("queued", "agent"):
                return
        raise AssertionError(f"not queued; the bot said: {self.texts('bot')[-4:]}")


@dataclass
class Console:
    """The agent console at /agent."""

    page: Page

    @classmethod
    def sign_in(cls, page: Page, base_url: str, username: str, password: str, lang: str = "de") -> "Console":
        page.goto(f"{base_url}/agent?lang={lang}")
        page.locator("#username").fill(username)
        page.locator("#password").fill(password)
        page.locator("#login-form button[type=submit]").click()
        expect(page.locator("#app")).to_be_visible()
        expect(page.locator("#connection")).to_have_attribute("data-state", "online", timeout=PUSH_TIMEOUT_MS)
        return cls(page)

    def queue_item(self, conversation_id: str) -> Locator:
        return self.page.locator(f'.q-item[data-conversation-id="{conversation_id}"]')

    def pane(self, conversation_id: str) -> Locator:
        return self.page.locator(f'.conv[data-conversation-id="{conversation_id}"]')

    def transcript(self, conversation_id: str) -> Locator:
        return self.pane(conversation_id).locator(".transcript")

    def open(self, conversation_id: str) -> Locator:
        self.queue_item(conversation_id).locator("button").click()
        pane = self.pane(conversation_id)
        expect(pane).to_be_visible()
        expect(pane.locator(".transcript .msg").first).to_be_visible()
        return pane

    def claim(self, conversation_id: str) -> None:
        pane = self.pane(conversation_id)
        pane.locator("button[data-action=claim]").click()
        expect(pane.locator(".status-mine")).to_be_visible()
        expect(pane.locator(".reply-input")).to_be_enabled()

    def reply(self, conversation_id: str, text: str) -> None:
        box = self.show(conversation_id).locator(".reply-input")
        box.fill(text)
        box.press("Enter")

    def show(self, conversation_id: str) -> Locator:
        """Bring the conversation's tab to the front."""
        pane = self.pane(conversation_id)
        if not pane.is_visible():
            self.page.locator(f'[role=tab][aria-controls="pane-{conversation_id}"]').click()
        expect(pane).to_be_visible()
        return pane

    def act(self, conversation_id: str, action: str) -> None:
        self.show(conversation_id).locator(f"button[data-action={action}]").click()

    def wait_for_transcript_text(self, conversation_id: str, text: str, timeout: float = PUSH_TIMEOUT_MS) -> None:
        expect(self.transcript(conversation_id)).to_contain_text(text, timeout=timeout)

