"""The pages' scripts as served: one script per entry, the shared modules in it, the facts from the
service's own definitions (handoff/assets.py)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from bot.entitlements import ACCOUNT_TYPES, PLANS
from bot.knowledge import PRIORITY_LEVELS, load_knowledge
from bot.settings import ROOT
from handoff.assets import ENTRY_SCRIPTS, AssetError, Scripts, page_facts
from handoff.config import HandoffConfig
from handoff.models import QUEUES

STATIC = ROOT / "handoff" / "static"
FACTS = re.compile(r"modules\['facts'\] = Object\.freeze\((\{.*?\})\);\n")


def served_facts(script: str) -> dict:
    match = FACTS.search(script)
    assert match, "no facts module in the script"
    return json.loads(match.group(1))


async def test_entry_scripts_carry_the_services_facts(start):
    client = await start(max_text_bytes=1234, sla_warning_minutes=7)
    for entry in ENTRY_SCRIPTS:
        response = await client.get(f"/static/{entry}")
        assert response.status == 200
        assert response.content_type == "application/javascript"
        facts = served_facts(await response.text())
        assert facts["max_text_bytes"] == 1234 and facts["sla_warning_minutes"] == 7


def test_facts_come_from_the_python_definitions(make_config):
    config: HandoffConfig = make_config()
    facts = page_facts(config)
    knowledge = load_knowledge(config.settings.knowledge_dir)
    assert [p["level"] for p in facts["priorities"]] == list(PRIORITY_LEVELS)
    for item in facts["priorities"]:
        level = knowledge.priorities[item["level"]]
        assert item["first_response_hours"] == level.first_response.hours
        assert item["summary"] == {"de": level.summary.de, "en": level.summary.en}
    assert [p["id"] for p in facts["plans"]] == list(PLANS)
    assert {p["id"]: p["name"]["de"] for p in facts["plans"]}["premier_plus"] == "Premier+"
    assert [a["id"] for a in facts["account_types"]] == list(ACCOUNT_TYPES)
    assert [q["id"] for q in facts["queues"]] == list(QUEUES)
    assert facts["max_text_bytes"] == config.max_text_bytes


async def test_widget_is_one_script_with_the_shared_renderer(client):
    widget = await (await client.get("/static/widget.js")).text()
    console = await (await client.get("/static/agent.js")).text()
    renderer = (STATIC / "lib" / "richtext.js").read_text(encoding="utf-8").rstrip()
    for script in (widget, console):
        assert script.count(renderer) == 1
        assert script.startswith("/* ") and script.rstrip().endswith("})();")
    # The sources themselves keep no copy of it: they require it.
    for entry in ("widget.js", "agent.js"):
        source = (STATIC / entry).read_text(encoding="utf-8")
        assert "require('./lib/richtext')" in source
        assert "LINK_RE" not in source and "function appendRichText" not in source


async def test_scripts_are_revalidated_with_an_etag(client):
    first = await client.get("/static/widget.js")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = await client.get("/static/widget.js", headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag
    assert "Content-Security-Policy" in again.headers


def test_a_changed_module_is_assembled_again(tmp_path):
    static = tmp_path / "static"
    shutil.copytree(STATIC, static)
    scripts = Scripts(static, {"max_text_bytes": 10})
    before = scripts.get("widget.js")
    assert scripts.get("widget.js") is before
    module = static / "lib" / "text.js"
    module.write_text(module.read_text(encoding="utf-8") + "\n// changed\n", encoding="utf-8")
    after = scripts.get("widget.js")
    assert "// changed" in after.text and after.etag != before.etag


def test_a_missing_or_circular_module_is_an_error(tmp_path):
    static = tmp_path / "static"
    (static / "lib").mkdir(parents=True)
    (static / "widget.js").write_text("var x = require('./lib/nope');", encoding="utf-8")
    with pytest.raises(AssetError, match="no module lib/nope.js"):
        Scripts(static, {}).get("widget.js")
    (static / "widget.js").write_text("require('./lib/a');", encoding="utf-8")
    (static / "lib" / "a.js").write_text("require('./b');", encoding="utf-8")
    (static / "lib" / "b.js").write_text("require('./a');", encoding="utf-8")
    with pytest.raises(AssetError, match="require each other"):
        Scripts(static, {}).get("widget.js")
    (static / "widget.js").write_text("require('./../secret');", encoding="utf-8")
    with pytest.raises(AssetError):
        Scripts(static, {}).get("widget.js")


def test_the_renderer_dials_every_seed_number_as_the_knowledge_does():
    """lib/richtext.js (node) and PhoneNumber.tel (Python) agree on every number of the seed."""
    node = shutil.which("node")
    assert node, "node is needed for the pages' tests (make js installs the tools)"
    numbers = [
        {"text": phone.text(language), "number": phone.number, "tel": phone.tel}
        for country in load_knowledge().countries.values() for phone in country.phones
        for language in ("de", "en")
    ]
    assert len(numbers) >= 36
    program = (
        "const { tokenize } = require(process.argv[1]);"
        "const numbers = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(numbers.map((n) => tokenize('Telefon: ' + n.text + '.')"
        ".filter((t) => t.kind === 'phone').map((t) => [t.text, t.href]))));"
    )
    found = json.loads(subprocess.run(
        [node, "-e", program, str(STATIC / "lib" / "richtext.js")], input=json.dumps(numbers),
        capture_output=True, text=True, check=True,
    ).stdout)
    for number, links in zip(numbers, found):
        assert links == [[number["number"], number["tel"]]], number
