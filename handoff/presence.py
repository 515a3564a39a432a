"""Whether an agent is there to answer: the one question the integrations ask about presence.

Today "online" means an agent console socket is connected to this instance. When agents get an
online/away status (CONTRACT.md, operations surface) and pushes cross instances, replace this
function; its callers stay as they are.
"""
from __future__ import annotations

from aiohttp import web

from handoff.state import HUB


async def agent_online(app: web.Application) -> bool:
    return bool(app[HUB].agents)
