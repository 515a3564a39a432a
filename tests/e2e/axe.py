"""axe-core (the npm package, `npm ci` installs it into node_modules/) run inside a Playwright page.

    violations = axe_violations(page)            # serious and critical ones, as axe reports them
    assert not violations, describe(violations)

The script is evaluated through the DevTools protocol, so the pages' strict CSP stays as it is
(no inline script is added to the page).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

from playwright.sync_api import Page

from bot.settings import ROOT

AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


@lru_cache(maxsize=1)
def _axe_source() -> str:
    if not AXE_SCRIPT.exists():
        raise FileNotFoundError(f"no axe-core at {AXE_SCRIPT}: run `npm ci` (make test does)")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def axe_results(page: Page, context: str | None = None) -> list[dict[str, Any]]:
    """Every violation axe finds in the page (or in the elements matching `context`)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    return page.evaluate(
        """async (context) => {
            const results = await axe.run(context || document, {
                resultTypes: ['violations'],
                runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
            });
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
            }));
        }""",
        context,
    )


def axe_violations(
    page: Page, context: str | None = None, impacts: Iterable[str] = BLOCKING_IMPACTS
) -> list[dict[str, Any]]:
    """The violations of the given impacts (serious and critical by default)."""
    wanted = set(impacts)
    return [v for v in axe_results(page, context) if v["impact"] in wanted]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['impact']}: {v['id']} ({len(v['nodes'])} elements) - {v['help']}")
        for node in v["nodes"][:6]:
            lines.append(f"    {node['target']}: {node['summary'].splitlines()[-1].strip()}")
    return "\n".join(lines)
