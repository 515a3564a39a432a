"""Browser fixtures for the end-to-end tests: Debian's Chromium through Playwright (sync API).

The services come from the session fixture `stack` (tests/conftest.py): `stack.handoff_url`,
`stack.rasa_url`, `stack.restart_handoff()`. Each test gets fresh browser contexts, so no
conversation, token or storage leaks from one test into another.
"""
from __future__ import annotations

from typing import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.pages import context_options, launch_chromium


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        try:
            browser = launch_chromium(playwright)
        except FileNotFoundError as error:
            pytest.fail(str(error))
        yield browser
        browser.close()


@pytest.fixture
def base_url(stack) -> str:
    return stack.handoff_url.rstrip("/")


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """`new_page(width, height)` or `new_page(phone=True)` (390x844, touch): a page in its own
    context; page errors fail the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def make(width: int = 1280, height: int = 860, phone: bool = False) -> Page:
        context = browser.new_context(**context_options(width, height, phone))
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        # A CSP violation means a page relies on something the service's policy forbids.
        page.on(
            "console",
            lambda msg: errors.append(f"{page.url}: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None,
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, "errors in the pages:\n" + "\n".join(errors)
