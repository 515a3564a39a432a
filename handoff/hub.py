"""Who is connected: widget sockets per conversation and signed-in agent sockets; push to them.

In-process only: one live-agent service process holds the sockets (several processes would need
a broker such as Redis pub/sub here; the database already is the shared state).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSCloseCode, web

from handoff.repository import AgentInfo

logger = logging.getLogger(__name__)


class Hub:
    def __init__(self) -> None:
        self.widgets: dict[str, set[web.WebSocketResponse]] = {}
        self.agents: dict[web.WebSocketResponse, AgentInfo] = {}

    def add_widget(self, conversation_id: str, socket: web.WebSocketResponse) -> None:
        self.widgets.setdefault(conversation_id, set()).add(socket)

    def remove_widget(self, conversation_id: str, socket: web.WebSocketResponse) -> None:
        sockets = self.widgets.get(conversation_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self.widgets[conversation_id]

    def add_agent(self, socket: web.WebSocketResponse, agent: AgentInfo) -> None:
        self.agents[socket] = agent

    def remove_agent(self, socket: web.WebSocketResponse) -> None:
        self.agents.pop(socket, None)

    async def _send(self, sockets: list[web.WebSocketResponse], frame: dict[str, Any]) -> int:
        async def send(socket: web.WebSocketResponse) -> bool:
            if socket.closed:
                return False
            try:
                await socket.send_json(frame)
                return True
            except (ConnectionError, RuntimeError) as error:
                logger.info("push to a closing socket failed: %s", error)
                return False

        results = await asyncio.gather(*(send(s) for s in sockets))
        return sum(results)

    async def to_conversation(self, conversation_id: str, frame: dict[str, Any], *, skip: Any = None) -> int:
        """Push to every widget socket of the conversation; returns how many got it."""
        sockets = [s for s in self.widgets.get(conversation_id, ()) if s is not skip]
        return await self._send(sockets, frame)

    async def to_agents(self, frame: dict[str, Any], queue: str | None = None) -> int:
        """Push to the signed-in agents who may handle `queue` (all of them when None)."""
        sockets = [s for s, agent in self.agents.items() if queue is None or agent.can_handle(queue)]
        return await self._send(sockets, frame)

    async def close_all(self) -> None:
        sockets = [s for group in self.widgets.values() for s in group] + list(self.agents)
        await asyncio.gather(
            *(s.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for s in sockets),
            return_exceptions=True,
        )
