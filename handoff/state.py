"""Typed keys of the application's shared state (no module globals)."""
from __future__ import annotations

import asyncio
from weakref import WeakValueDictionary

from aiohttp import web

from handoff.config import HandoffConfig
from handoff.db import Database
from handoff.hub import Hub
from handoff.ratelimit import SenderLimits
from handoff.rasa import RasaClient
from handoff.sla import SlaTable

CONFIG = web.AppKey("config", HandoffConfig)
DATABASE = web.AppKey("database", Database)
HUB = web.AppKey("hub", Hub)
RASA = web.AppKey("rasa", RasaClient)
SLA_TABLE = web.AppKey("sla_table", SlaTable)
SENDER_LIMITS = web.AppKey("sender_limits", SenderLimits)
# One lock per conversation while the bot answers, so two tabs don't interleave Rasa turns.
CONVERSATION_LOCKS = web.AppKey("conversation_locks", WeakValueDictionary)
BACKGROUND = web.AppKey("background", asyncio.Task)


def conversation_lock(app: web.Application, conversation_id: str) -> asyncio.Lock:
    locks = app[CONVERSATION_LOCKS]
    lock = locks.get(conversation_id)
    if lock is None:
        lock = locks[conversation_id] = asyncio.Lock()
    return lock
