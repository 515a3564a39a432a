"""SLA deadlines of prioritized conversations (SPEC §1.3), from `knowledge/priorities.yml`.

The hours are the knowledge data's (one source of truth with the bot's answers about P-levels),
read through `bot.knowledge`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Mapping

from bot.knowledge import load_knowledge


@dataclass(frozen=True)
class SlaHours:
    first_response: float | None
    restoration: float | None


SlaTable = Mapping[str, SlaHours]


def load_sla_table(knowledge_dir: Path) -> dict[str, SlaHours]:
    priorities = load_knowledge(knowledge_dir).priorities
    return {
        level: SlaHours(
            first_response=priority.first_response.hours,
            restoration=priority.restoration.hours if priority.restoration else None,
        )
        for level, priority in priorities.items()
    }


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
