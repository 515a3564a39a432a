"""The pages' scripts as served: entry scripts assembled with shared modules and the service's facts.

`widget.js` must stay ONE embeddable script tag (docs/widget.md), the console shares the safe
renderer with it, and the pages must take limits and names from the server rather than from
copies in JavaScript. So an entry script (`widget.js`, `agent.js`, `helpcenter.js`) may say

    var richText = require('./lib/richtext');   // a CommonJS module in static/lib/
    var facts = require('./facts');             // page_facts(config), generated here

and `/static/<entry>` answers with one script: the modules it needs (their own `require`s
included, dependencies first), the facts as a JSON object, then the entry itself, in one
function scope so nothing but what the entry exports reaches the host page. There is no build
step: the files are read again when one of them changes. The modules stay plain CommonJS, so
`node --test tests/js/` loads them as they are.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.entitlements import ACCOUNT_TYPES
from bot.knowledge import load_knowledge
from handoff.config import HandoffConfig
from handoff.models import QUEUES

ENTRY_SCRIPTS = ("widget.js", "agent.js", "helpcenter.js")
FACTS_MODULE = "facts"
REQUIRE = re.compile(r"""\brequire\((['"])(\./[A-Za-z0-9_./-]+)\1\)""")

# How the pages name account types (the ids are bot.entitlements.ACCOUNT_TYPES).
ACCOUNT_TYPE_NAMES = {
    "basic": "Basic", "pro": "Pro", "business": "Business", "education": "Education",
    "enterprise": "Enterprise", "api": "API",
}


class AssetError(RuntimeError):
    """An entry script requires a module that does not exist, or modules require each other."""


def page_facts(config: HandoffConfig) -> dict[str, Any]:
    """What the pages must know the way the service knows it (served as `require('./facts')`)."""
    knowledge = load_knowledge(config.settings.knowledge_dir)
    return {
        # The widget and the console refuse a text the service would refuse (`too_long`).
        "max_text_bytes": config.max_text_bytes,
        # The console marks an SLA countdown as close this long before it is due.
        "sla_warning_minutes": config.sla_warning_minutes,
        "priorities": [
            {
                "level": level,
                "summary": {"de": p.summary.de, "en": p.summary.en},
                "first_response_hours": p.first_response.hours,
                "restoration_hours": p.restoration.hours if p.restoration else None,
            }
            for level, p in knowledge.priorities.items()
        ],
        "plans": [
            {"id": plan.id, "name": {"de": plan.name.de, "en": plan.name.en}} for plan in knowledge.plans.values()
        ],
        "account_types": [{"id": kind, "name": ACCOUNT_TYPE_NAMES[kind]} for kind in ACCOUNT_TYPES],
        "queues": [{"id": queue, "name": f"Tier {queue.removeprefix('tier')}"} for queue in QUEUES],
    }


@dataclass(frozen=True)
class Script:
    text: str
    etag: str
    files: tuple[Path, ...]  # what it was assembled from


def _stamp(files: tuple[Path, ...]) -> tuple:
    """Sizes and times of the files: a changed file means the script is assembled again."""
    stamp = []
    for path in files:
        try:
            info = path.stat()
        except OSError:
            return ()
        stamp.append((info.st_mtime_ns, info.st_size))
    return tuple(stamp)


class Scripts:
    """Assembles the entry scripts of `static_dir`, again whenever one of their files changes."""

    def __init__(self, static_dir: Path, facts: dict[str, Any]) -> None:
        self.root = static_dir.resolve()
        self.facts_json = json.dumps(facts, sort_keys=True, separators=(",", ":"))
        self._cache: dict[str, tuple[tuple, Script]] = {}

    @staticmethod
    def is_entry(relative: str) -> bool:
        return relative in ENTRY_SCRIPTS

    def get(self, entry: str) -> Script:
        cached = self._cache.get(entry)
        if cached and cached[0] == _stamp(cached[1].files):
            return cached[1]
        script = self._assemble(entry)
        self._cache[entry] = (_stamp(script.files), script)
        return script

    def _assemble(self, entry: str) -> Script:
        ordered: list[str] = []  # module ids, dependencies first
        sources: dict[str, str] = {}
        visiting: set[str] = set()

        def load(module_id: str) -> str:
            path = self.root / module_id
            if not path.resolve().is_relative_to(self.root) or not path.is_file():
                raise AssetError(f"no module {module_id} in {self.root}")
            source = path.read_text(encoding="utf-8")
            base = Path(module_id).parent

            def canonical(match: re.Match) -> str:
                wanted = match.group(2)
                if wanted == f"./{FACTS_MODULE}" and base == Path("."):
                    return f"require('{FACTS_MODULE}')"
                target = _normalise(base / wanted)
                visit(target)
                return f"require('{target}')"

            return REQUIRE.sub(canonical, source)

        def visit(module_id: str) -> None:
            if module_id in sources:
                return
            if module_id in visiting:
                raise AssetError(f"modules require each other: {module_id}")
            visiting.add(module_id)
            sources[module_id] = load(module_id)
            visiting.discard(module_id)
            ordered.append(module_id)

        entry_source = load(entry)
        parts = [
            f"/* {entry} as served by the live-agent service (handoff/assets.py): "
            f"{', '.join([*ordered, FACTS_MODULE, entry])}. */",
            "(function () {",
            "'use strict';",
            "var modules = {};",
            "function require(id) {",
            "  if (!Object.prototype.hasOwnProperty.call(modules, id)) throw new Error('no module ' + id);",
            "  return modules[id];",
            "}",
            f"modules['{FACTS_MODULE}'] = Object.freeze({self.facts_json});",
        ]
        for module_id in ordered:
            parts += [
                f"modules['{module_id}'] = (function () {{",
                "var module = { exports: {} }, exports = module.exports;",
                sources[module_id].rstrip(),
                "return module.exports;",
                "})();",
            ]
        parts += [entry_source.rstrip(), "})();", ""]
        text = "\n".join(parts)
        etag = '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20] + '"'
        return Script(text=text, etag=etag, files=tuple(self.root / m for m in (*ordered, entry)))


def _normalise(path: Path) -> str:
    """`lib/./richtext` -> `lib/richtext.js`; `..` may not leave the static folder."""
    parts: list[str] = []
    for part in path.parts:
        if part == ".":
            continue
        if part == "..":
            if not parts:
                raise AssetError(f"module outside the static folder: {path}")
            parts.pop()
        else:
            parts.append(part)
    name = "/".join(parts)
    return name if name.endswith(".js") else name + ".js"
