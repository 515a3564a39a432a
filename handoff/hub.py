"""Who is connected to this instance, and pushes that reach every instance.

The sockets are local: each live-agent instance keeps its own widget sockets (per
conversation) and signed-in agent sockets. A push goes through the bus (`handoff.bus`): in
process with one instance, Redis pub/sub with several; each instance delivers what it
receives to its own sockets. Everything else the instances share lives in the database.

    await hub.to_conversation(conversation_id, frame)   # the user's widget(s), wherever they are
    await hub.to_agents(frame, queue="tier1")           # agents who may handle tier1
    await hub.to_agents(frame, agent="anna")            # one agent's consoles
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiohttp import WSCloseCode, web

from handoff.bus import AGENTS, Bus, MemoryBus, conversation_topic
from handoff.repository import AgentInfo

logger = logging.getLogger(__name__)


class Hub:
    def __init__(self, bus: Bus | None = None) -> None:
        self.bus = bus or MemoryBus()
        self.widgets: dict[str, set[web.WebSocketResponse]] = {}
        self.agents: dict[web.WebSocketResponse, AgentInfo] = {}

    async def start(self) -> None:
        await self.bus.start(self._deliver)

    async def add_widget(self, conversation_id: str, socket: web.WebSocketResponse) -> None:
        sockets = self.widgets.setdefault(conversation_id, set())
        sockets.add(socket)
        if len(sockets) == 1:
            await self.bus.watch(conversation_topic(conversation_id))

    async def remove_widget(self, conversation_id: str, socket: web.WebSocketResponse) -> None:
        sockets = self.widgets.get(conversation_id)
        if sockets is None:
            return
        sockets.discard(socket)
        if not sockets:
            del self.widgets[conversation_id]
            await self.bus.unwatch(conversation_topic(conversation_id))

    def add_agent(self, socket: web.WebSocketResponse, agent: AgentInfo) -> None:
        self.agents[socket] = agent

    def remove_agent(self, socket: web.WebSocketResponse) -> None:
        self.agents.pop(socket, None)

    async def to_conversation(self, conversation_id: str, frame: dict[str, Any]) -> int:
        """Push to the conversation's widget sockets on every instance.

        Returns how many instances hold at least one of them (0: the user is not connected).
        """
        return await self.bus.publish(conversation_topic(conversation_id), {"frame": frame})

    async def to_agents(self, frame: dict[str, Any], queue: str | None = None, agent: str | None = None) -> int:
        """Push to the signed-in agents who may handle `queue` (all when None), or to `agent` only."""
        return await self.bus.publish(AGENTS, {"frame": frame, "queue": queue, "agent": agent})

    async def _deliver(self, topic: str, payload: dict[str, Any]) -> int:
        """What the bus received: to this instance's sockets of `topic`."""
        frame = payload.get("frame")
        if not isinstance(frame, dict):
            return 0
        if topic == AGENTS:
            queue, username = payload.get("queue"), payload.get("agent")
            sockets = [
                s for s, info in self.agents.items()
                if (username is None or info.username == username) and info.can_handle(queue)
            ]
        else:
            sockets = list(self.widgets.get(topic.removeprefix("conversation:"), ()))
        return await self._send(sockets, frame)

    async def _send(self, sockets: list[web.WebSocketResponse], frame: dict[str, Any]) -> int:
        text = orjson.dumps(frame).decode()  # once for every socket it goes to

        async def send(socket: web.WebSocketResponse) -> bool:
            if socket.closed:
                return False
            try:
                await socket.send_str(text)
                return True
            except (ConnectionError, RuntimeError) as error:
                logger.info("push to a closing socket failed: %s", error)
                return False

        results = await asyncio.gather(*(send(s) for s in sockets))
        return sum(results)

    async def close_all(self) -> None:
        sockets = [s for group in self.widgets.values() for s in group] + list(self.agents)
        await asyncio.gather(
            *(s.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for s in sockets),
            return_exceptions=True,
        )
