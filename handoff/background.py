"""Periodic work of every instance, each piece done once in all.

- SLA reminders to agents (every `sla_check_seconds`): the due rows are claimed with
  `FOR UPDATE SKIP LOCKED` (`claims.due_sla_warnings`), so two instances never warn twice.
- Retries (every `relay_retry_seconds`): `agent_handled` tracker events that could not reach
  Rasa, and user messages no Rasa process answered yet. Each conversation is taken only when
  its lock is free (`locks.try_hold`): a conversation someone is working on is skipped.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import AsyncIterator, Awaitable, Callable

from aiohttp import web

from handoff import claims, relay, services
from handoff.models import utcnow
from handoff.state import BACKGROUND, CONFIG, DATABASE, HUB, LOCKS

logger = logging.getLogger(__name__)


async def sla_round(app: web.Application) -> int:
    """One round of SLA reminders; returns how many went out from this instance."""
    horizon = utcnow() + timedelta(minutes=app[CONFIG].sla_warning_minutes)
    warnings = await app[DATABASE].write(claims.due_sla_warnings, horizon)
    for warning in warnings:
        await app[HUB].to_agents(warning, queue=warning["queue"])
    return len(warnings)


async def retry_round(app: web.Application) -> None:
    """Deliver pending tracker events and relay user messages still waiting for the bot."""
    database, locks = app[DATABASE], app[LOCKS]
    for conversation_id in await database.read(claims.unclaimed_tracker_events):
        async with locks.try_hold(conversation_id) as held:
            if held and not await services.deliver_tracker_event(app, conversation_id):
                break  # Rasa is still down; the next round tries again
    # A message younger than one round belongs to the request that stored it.
    stored_before = utcnow() - timedelta(seconds=app[CONFIG].relay_retry_seconds)
    for conversation_id in await database.read(claims.conversations_waiting_for_the_bot, stored_before):
        if not relay.may_retry(app, conversation_id):
            continue
        async with locks.try_hold(conversation_id) as held:
            if held:
                await relay.drain_held(app, conversation_id)


async def run_once(app: web.Application) -> int:
    """Both rounds once; returns how many SLA warnings went out."""
    warned = await sla_round(app)
    await retry_round(app)
    return warned


async def _every(seconds: float, work: Callable[[web.Application], Awaitable[object]], app: web.Application) -> None:
    while True:
        try:
            await work(app)
        except Exception:  # a failed round (database busy, Rasa odd) must not end the job
            logger.exception("background round %s failed", work.__name__)
        await asyncio.sleep(seconds)


async def background_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    app[BACKGROUND] = [
        asyncio.create_task(_every(config.sla_check_seconds, sla_round, app), name="handoff-sla"),
        asyncio.create_task(_every(config.relay_retry_seconds, retry_round, app), name="handoff-retry"),
    ]
    yield
    for task in app[BACKGROUND]:
        task.cancel()
    await asyncio.gather(*app[BACKGROUND], return_exceptions=True)
