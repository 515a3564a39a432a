"""axe-core over every screen of the pages, from a running stack: what `tests/e2e/test_accessibility.py` checks.

    .venv/bin/python scripts/axe_report.py [--base-url http://localhost:8080] [--all-impacts]

Plays the demo conversation (a phone question, an escalation, an agent's reply), then runs axe on
the help-center page, the open widget and the signed-in console, on a desktop and on a 390x844
touch screen, and prints the violations per screen. Exit status 1 when a screen has a serious or
critical one. Needs `npm ci` (axe-core) and Debian's Chromium (CHROMIUM_PATH).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.axe import BLOCKING_IMPACTS, axe_violations  # noqa: E402
from tests.e2e.pages import context_options, launch_chromium  # noqa: E402
from tests.e2e.screens import visit_screens  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://localhost:8080", help="the live-agent service")
    parser.add_argument("--all-impacts", action="store_true", help="also minor and moderate violations")
    parser.add_argument("--elements", action="store_true", help="list the elements of each violation")
    args = parser.parse_args(argv)
    impacts = ("minor", "moderate", *BLOCKING_IMPACTS) if args.all_impacts else BLOCKING_IMPACTS
    failed = False
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        contexts = []

        def new_page(width: int = 1280, height: int = 860, phone: bool = False):
            contexts.append(browser.new_context(**context_options(width, height, phone)))
            return contexts[-1].new_page()

        try:
            for name, page in visit_screens(new_page, args.base_url.rstrip("/")):
                violations = axe_violations(page, impacts=impacts)
                blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
                failed = failed or bool(blocking)
                elements = sum(len(v["nodes"]) for v in violations)
                print(f"{name:<18} {len(violations):>2} rules, {elements:>3} elements")
                for v in violations:
                    print(f"    {v['impact']:<9} {v['id']:<28} {len(v['nodes']):>3}  {v['help']}")
                    for node in v["nodes"] if args.elements else ():
                        print(f"        {node['target']}: {node['summary'].splitlines()[-1].strip()}")
        finally:
            for context in contexts:
                context.close()
            browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
