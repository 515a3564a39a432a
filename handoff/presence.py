"""Presence: agents set `online`/`away`; `offline` is no console socket seen on any instance.

`PUT /api/agents/me/status {"status"}`, `GET /api/agents` (CONTRACT.md, operations surface).
Every `/ws/agent` socket is a row in `handoff_agent_sockets` that its instance marks as seen
every `presence_heartbeat_seconds`; an agent none of whose sockets was seen for
`presence_timeout_seconds` is offline, so the sockets of a killed instance stop counting by
themselves and every instance answers the same. A console reload inside the timeout keeps the
agent's choice; coming back later starts `away`.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from typing import AsyncIterator

from aiohttp import web

from handoff import repository
from handoff.httputil import answer, choice_field, json_body, require_agent
from handoff.models import AGENT_STATUSES, ONLINE
from handoff.repository import AgentInfo
from handoff.state import CONFIG, DATABASE, HUB

logger = logging.getLogger(__name__)

# This instance's open agent sockets and their rows' ids.
SOCKETS = web.AppKey("presence_sockets", dict)
HEARTBEAT = web.AppKey("presence_heartbeat", asyncio.Task)


async def agent_online(app: web.Application, queue: str | None = None) -> bool:
    """Whether any agent (of `queue`) is online, on whichever instance their console is."""
    return bool(await online_agents(app, queue))


async def online_agents(app: web.Application, queue: str | None = None) -> list[str]:
    return await app[DATABASE].read(repository.online_usernames, app[CONFIG].presence_timeout_seconds, queue)


async def presence(app: web.Application, username: str) -> dict:
    config = app[CONFIG]
    return await app[DATABASE].read(
        repository.presence_of, username, config.presence_timeout_seconds, config.max_concurrent
    )


async def _announce(app: web.Application, username: str) -> dict:
    state = await presence(app, username)
    await app[HUB].to_agents({"type": "presence", "agent": state})
    return state


async def connected(app: web.Application, socket: web.WebSocketResponse, agent: AgentInfo) -> bool:
    """A console socket of `agent` is authenticated (called by `/ws/agent`); True when the
    agent is online (a reload within the timeout keeps the choice)."""
    socket_id = uuid.uuid4().hex
    app[SOCKETS][socket] = socket_id
    config = app[CONFIG]
    await app[DATABASE].write(
        repository.socket_connected, socket_id, agent.username,
        config.settings.instance or "handoff", config.presence_timeout_seconds,
    )
    return (await presence(app, agent.username))["status"] == ONLINE


async def disconnected(app: web.Application, socket: web.WebSocketResponse) -> None:
    socket_id = app[SOCKETS].pop(socket, None)
    if socket_id is None:
        return
    try:
        await app[DATABASE].write(repository.socket_closed, socket_id)
    except Exception:  # the heartbeat's cleanup removes the row later
        logger.exception("presence: could not remove socket %s", socket_id)


async def set_status(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    status = choice_field(await json_body(request), "status", AGENT_STATUSES, code="invalid_status")
    app = request.app
    await app[DATABASE].write(repository.set_status, agent.username, status)
    state = await _announce(app, agent.username)
    if status == ONLINE:
        from handoff import assignment

        await assignment.assign(app)
        state = await presence(app, agent.username)
    return answer(state)


async def list_agents(request: web.Request) -> web.Response:
    await require_agent(request)
    config = request.app[CONFIG]
    return answer(await request.app[DATABASE].read(
        repository.presence_list, config.presence_timeout_seconds, config.max_concurrent
    ))


async def _heartbeat(app: web.Application) -> None:
    config = app[CONFIG]
    while True:
        await asyncio.sleep(config.presence_heartbeat_seconds)
        try:
            await app[DATABASE].write(
                repository.sockets_seen, list(app[SOCKETS].values()), 10 * config.presence_timeout_seconds
            )
        except Exception:  # a busy database: the next beat comes soon, the timeout allows for it
            logger.exception("presence heartbeat failed")


async def presence_ctx(app: web.Application) -> AsyncIterator[None]:
    app[SOCKETS] = {}
    app[HEARTBEAT] = asyncio.create_task(_heartbeat(app), name="handoff-presence")
    yield
    app[HEARTBEAT].cancel()
    await asyncio.gather(app[HEARTBEAT], return_exceptions=True)
    for socket in list(app[SOCKETS]):
        await disconnected(app, socket)


def add_routes(app: web.Application) -> None:
    app.router.add_put("/api/agents/me/status", set_status)
    app.router.add_get("/api/agents", list_agents)
