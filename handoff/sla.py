"""SLA deadlines of prioritized conversations (SPEC §1.3), from the knowledge data.

The hours live in `knowledge/priorities.yml` (one source of truth, shared with the bot's
answers). The loader is tolerant about that file's exact layout: for each of P1..P4 it takes
the first number under a key naming the first response and the one naming the restoration.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Mapping

import yaml

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlaHours:
    first_response: float | None
    restoration: float | None


SlaTable = Mapping[str, SlaHours]


def _hours(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Mapping):
        for key in ("hours", "value", "h"):
            if key in value:
                return _hours(value[key])
    return None


def _find(entry: Mapping[str, Any], words: tuple[str, ...]) -> float | None:
    for key, value in entry.items():
        name = str(key).lower()
        if any(word in name for word in words):
            hours = _hours(value)
            if hours is not None:
                return hours
            if isinstance(value, Mapping):
                nested = _find(value, ("hours",)) or _hours(next(iter(value.values()), None))
                if nested is not None:
                    return nested
    return None


def _entries(data: Any) -> dict[str, Mapping[str, Any]]:
    """P-level -> its mapping, whether the file is a mapping by level or a list of levels."""
    if isinstance(data, Mapping):
        for key in ("priorities", "levels"):
            if key in data:
                return _entries(data[key])
        return {str(k).upper(): v for k, v in data.items() if isinstance(v, Mapping)}
    if isinstance(data, list):
        found = {}
        for item in data:
            if isinstance(item, Mapping):
                level = item.get("id") or item.get("priority") or item.get("level") or item.get("code")
                if level:
                    found[str(level).upper()] = item
        return found
    return {}


def load_sla_table(knowledge_dir: Path) -> dict[str, SlaHours]:
    path = knowledge_dir / "priorities.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        logger.warning("%s is missing: prioritized conversations get no SLA deadlines", path)
        return {}
    table = {}
    for level, entry in _entries(data).items():
        table[level] = SlaHours(
            first_response=_find(entry, ("first", "response", "antwort", "reaction")),
            restoration=_find(entry, ("restor", "wiederherstell", "resolution")),
        )
    if not table:
        logger.warning("%s has no priority levels this service understands", path)
    return table


def deadlines(
    table: SlaTable, priority: str | None, prioritized: bool, since: datetime
) -> tuple[datetime | None, datetime | None]:
    """(first response due, restoration due); SLA deadlines apply to prioritized users only."""
    if not prioritized or not priority or priority not in table:
        return None, None
    hours = table[priority]
    first = since + timedelta(hours=hours.first_response) if hours.first_response else None
    restore = since + timedelta(hours=hours.restoration) if hours.restoration else None
    return first, restore
