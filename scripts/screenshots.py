"""Screenshots of the widget and the agent console for the docs, from a running stack.

    .venv/bin/python scripts/screenshots.py [--base-url http://localhost:8080] [--out docs/img]

Plays the demo conversation of `tests/e2e/screens.py` (a phone question, an escalation, an agent's
reply; someone else waiting on a phone) and writes `widget.png`, `widget-phone.png` and
`console.png`. The end-to-end suite runs the same code (tests/e2e/test_screenshots.py).
Needs Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402

from tests.e2e.pages import context_options, launch_chromium  # noqa: E402
from tests.e2e.screens import visit_screens  # noqa: E402

# screen name -> file; phones are saved in CSS pixels (390x844), not in device pixels.
SHOTS = {"widget": "widget.png", "widget-phone": "widget-phone.png", "console": "console.png"}


def capture(browser: Browser, base_url: str, out_dir: Path) -> list[Path]:
    """Play the demo conversation and save the screenshots; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    contexts: list[BrowserContext] = []

    def new_page(width: int = 1280, height: int = 860, phone: bool = False) -> Page:
        contexts.append(browser.new_context(**context_options(width, height, phone)))
        return contexts[-1].new_page()

    paths = []
    try:
        for name, page in visit_screens(new_page, base_url):
            if name in SHOTS:
                paths.append(out_dir / SHOTS[name])
                page.screenshot(path=str(paths[-1]), scale="css")
        return paths
    finally:
        for context in contexts:
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
