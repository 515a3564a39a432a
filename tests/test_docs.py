"""docs/architecture.md's "Where things live" table against the tree: every path it names exists,
and every tracked top-level folder, module of bot/ and actions/ and knowledge file is named."""
from __future__ import annotations

import re
import subprocess
from fnmatch import fnmatch

from bot.settings import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"
GENERATED = ("var/",)  # named as where things are made, not part of the tree


def _table_rows() -> list[tuple[str, str]]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("## Where things live", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 2:
            rows.append((cells[0], cells[1]))
    return rows


def _paths(cell: str) -> list[str]:
    """The backticked paths of a cell (with a folder or an extension); `<feature>` is a glob."""
    found = []
    for token in re.findall(r"`([^`\s]+)`", cell):
        if ("/" in token or re.search(r"\.(py|yml|md|js|sh)$", token)) and not token.startswith(("/", "{")):
            found.append(re.sub(r"<[a-z]+>", "*", token))
    return found


def _tracked() -> list[str]:
    listing = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return listing.stdout.split()


def _matches(pattern: str, files: list[str]) -> bool:
    if pattern.endswith("/"):
        return any(path.startswith(pattern) for path in files)
    return any(fnmatch(path, pattern) for path in files)


def test_the_table_has_rows():
    assert len(_table_rows()) >= 20


def test_every_path_the_table_names_exists():
    files = _tracked()
    missing = []
    for first, what in _table_rows():
        for pattern in _paths(first):
            if not _matches(pattern, files):
                missing.append(pattern)
        for pattern in _paths(what):
            if "/" in pattern and not pattern.startswith(GENERATED) and not _matches(pattern, files):
                missing.append(pattern)
    assert missing == []


def test_the_table_names_every_folder_module_and_knowledge_file():
    files = _tracked()
    named = [pattern for first, what in _table_rows() for pattern in _paths(first) + _paths(what)]
    knowledge_row = next(what for first, what in _table_rows() if first.startswith("`knowledge/"))
    unnamed = []
    for path in files:
        top = path.split("/")[0]
        if "/" in path and not path.startswith(".") and not any(p.startswith(top + "/") or p == top for p in named):
            unnamed.append(top + "/")
        module = path.startswith(("bot/", "actions/")) and path.endswith(".py") and not path.endswith("__init__.py")
        if module and not any(fnmatch(path, p) or (p.endswith("/") and path.startswith(p)) for p in named):
            unnamed.append(path)
        if path.startswith("knowledge/") and f"`{path.split('/')[-1]}`" not in knowledge_row:
            unnamed.append(path)
    assert sorted(set(unnamed)) == []
