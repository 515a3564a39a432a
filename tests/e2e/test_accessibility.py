"""axe-core (npm, injected by Playwright) finds no serious or critical violation on any screen:
the help-center page, the open widget and the signed-in console, on a desktop and a phone.

The same screens from a running stack: `.venv/bin/python scripts/axe_report.py --base-url URL`.
"""
from __future__ import annotations

import pytest

from tests.e2e.axe import axe_violations, describe
from tests.e2e.pages import Widget
from tests.e2e.screens import visit_screens

pytestmark = pytest.mark.e2e

SCREENS = ["helpcenter", "helpcenter-phone", "console-login", "widget-phone", "widget", "console"]


def test_no_serious_or_critical_violation_on_any_screen(base_url, new_page):
    checked, failures = [], {}
    for name, page in visit_screens(new_page, base_url):
        checked.append(name)
        violations = axe_violations(page)
        if violations:
            failures[name] = describe(violations)
    assert checked == SCREENS
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())


def test_the_check_sees_a_violation_when_there_is_one(base_url, new_page):
    """Guards the test above against passing because axe did not run."""
    page = Widget.visit(new_page(), base_url).page
    assert axe_violations(page) == []
    page.evaluate(
        """() => {
            const p = document.createElement('p');
            p.textContent = 'light grey on white';
            p.style.color = '#c0c0c0';
            p.style.background = '#ffffff';
            document.querySelector('main').appendChild(p);
        }"""
    )
    assert [v["id"] for v in axe_violations(page)] == ["color-contrast"]
