"""Typed keys of the application's shared state (no module globals)."""
from __future__ import annotations

from aiohttp import web

from handoff.config import HandoffConfig
from handoff.db import Database
from handoff.hub import Hub
from handoff.locks import MemoryLocks, RedisLocks
from handoff.ratelimit import RedisSenderLimits, SenderLimits
from handoff.rasa import RasaClient
from handoff.sla import SlaTable
from handoff.throttle import MemorySignInThrottle, RedisSignInThrottle

CONFIG = web.AppKey("config", HandoffConfig)
DATABASE = web.AppKey("database", Database)
HUB = web.AppKey("hub", Hub)
RASA = web.AppKey("rasa", RasaClient)
SLA_TABLE = web.AppKey("sla_table", SlaTable)
SENDER_LIMITS = web.AppKey("sender_limits", SenderLimits | RedisSenderLimits)
SIGNIN_THROTTLE = web.AppKey("signin_throttle", MemorySignInThrottle | RedisSignInThrottle)
# One holder per conversation (across instances with Redis) while its turns go to Rasa.
LOCKS = web.AppKey("locks", MemoryLocks | RedisLocks)
# Conversations whose last relay timed out: not retried before the monotonic time given.
RELAY_BACKOFF = web.AppKey("relay_backoff", dict)
BACKGROUND = web.AppKey("background", list)
