"""Periodic work: SLA reminders to agents and retries of the agent_handled tracker event."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import AsyncIterator

from aiohttp import web

from handoff import repository, services
from handoff.models import utcnow
from handoff.state import BACKGROUND, CONFIG, DATABASE, HUB

logger = logging.getLogger(__name__)


async def run_once(app: web.Application) -> int:
    """One round; returns how many SLA warnings went out."""
    horizon = utcnow() + timedelta(minutes=app[CONFIG].sla_warning_minutes)
    warnings = await app[DATABASE].write(repository.due_sla_warnings, horizon)
    for warning in warnings:
        await app[HUB].to_agents(warning, queue=warning["queue"])
    await services.deliver_pending_tracker_events(app)
    return len(warnings)


async def _loop(app: web.Application) -> None:
    interval = app[CONFIG].sla_check_seconds
    while True:
        try:
            await run_once(app)
        except Exception:  # a failed round (database busy, Rasa odd) must not end the reminders
            logger.exception("background round failed")
        await asyncio.sleep(interval)


async def background_ctx(app: web.Application) -> AsyncIterator[None]:
    app[BACKGROUND] = asyncio.create_task(_loop(app), name="handoff-background")
    yield
    app[BACKGROUND].cancel()
    try:
        await app[BACKGROUND]
    except asyncio.CancelledError:
        pass
