"""The support priority levels P1..P4 (SPEC §1.3): the one definition the bot, the actions and
the live-agent service import.

What a level means and its SLA hours are knowledge data (`knowledge/priorities.yml`, checked on
load to list exactly these levels, in this order); the names and their order are code because
code branches on them.
"""
from __future__ import annotations

PRIORITY_LEVELS = ("P1", "P2", "P3", "P4")  # most urgent first
URGENT_LEVELS = PRIORITY_LEVELS[:2]  # Premier+ problem reports at these levels are escalated as urgent
# 1 for P1 ... 4 for P4: the queue orders by it (handoff/repository/queue.py).
PRIORITY_RANK = {level: rank for rank, level in enumerate(PRIORITY_LEVELS, start=1)}
