"""`GET /ws/chat`: the help-center widget's websocket (CONTRACT.md, widget protocol).

Frames in: `hello` (first), then `message`. Frames out: `welcome`, `history` (on resume),
`message` (bot/agent/system), `handoff` (the bot's marker), `mode` (bot or agent now answers),
`error`. While the bot has the conversation, each user message goes to Rasa's REST channel and
every reply is relayed; while an agent has it (waiting or claimed), it goes to the agents only.
"""
from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from bot.identity import verify_token
from bot.levels import PRIORITY_LEVELS
from handoff import integrations, repository, services
from handoff.errors import HandoffError
from handoff.models import AGENT_MODE
from handoff.ratelimit import TokenBucket
from handoff.rasa import RasaUnavailable
from handoff.repository import Escalation
from handoff.state import CONFIG, DATABASE, HUB, RASA, SENDER_LIMITS, conversation_lock
from handoff.texts import language_of, system_text

logger = logging.getLogger(__name__)

LOCALES = ("de", "en")
MAX_CONVERSATION_ID = 128


class FrameError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ChatConnection:
    """One widget socket: its identity, its conversation and its rate limit."""

    def __init__(self, request: web.Request, socket: web.WebSocketResponse) -> None:
        self.app = request.app
        self.config = self.app[CONFIG]
        self.socket = socket
        self.conversation_id: str | None = None
        self.token: str | None = None
        self.locale: str | None = None
        self.user_id: str | None = None
        self.bucket = TokenBucket(self.config.connection_burst, self.config.connection_rate)

    async def error(self, code: str, message: str) -> None:
        await self.socket.send_json({"type": "error", "code": code, "message": message})

    async def handle(self, raw: str) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            raise FrameError("malformed", "frames must be JSON objects") from None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise FrameError("malformed", "frames must be JSON objects with a 'type'")
        kind = frame["type"]
        if kind == "hello":
            await self.hello(frame)
        elif kind == "message":
            await self.message(frame)
        elif kind == "ping":
            await self.socket.send_json({"type": "pong"})
        elif kind == "transcript_email":
            await self.socket.send_json(await integrations.email_transcript(
                self.app, self.conversation_id, self.user_id, self.locale))
        else:
            raise FrameError("unknown_type", f"unknown frame type '{kind[:40]}'")

    async def hello(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is not None:
            raise FrameError("already_greeted", "hello was already sent on this connection")
        token = frame.get("token")
        locale = frame.get("locale")
        wanted = frame.get("conversation_id")
        if token is not None and not isinstance(token, str):
            raise FrameError("invalid_token", "token must be a string")
        if locale is not None and locale not in LOCALES:
            locale = None  # an unknown locale is a hint we can't use, not an error
        if wanted is not None and (not isinstance(wanted, str) or not 0 < len(wanted) <= MAX_CONVERSATION_ID):
            raise FrameError("invalid_conversation_id", "conversation_id must be a short string")
        self.token = token or None
        self.locale = locale
        # An invalid or expired token counts as anonymous (bot.identity logs why).
        self.user_id = verify_token(self.token, self.config.settings.identity_secret)
        conversation, history, resumed = await self.app[DATABASE].write(
            repository.open_conversation, wanted, uuid.uuid4().hex, self.user_id, locale
        )
        self.conversation_id = conversation["id"]
        self.app[HUB].add_widget(self.conversation_id, self.socket)
        mode = "agent" if conversation["status"] in AGENT_MODE else "bot"
        welcome: dict[str, Any] = {
            "type": "welcome",
            "conversation_id": self.conversation_id,
            "resumed": resumed,
            "mode": mode,
            "status": conversation["status"],
            "authenticated": self.user_id is not None,
        }
        await self.socket.send_json(welcome)
        if resumed:
            await self.socket.send_json({"type": "history", "messages": history})

    async def message(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is None:
            raise FrameError("hello_required", "send hello first")
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FrameError("invalid_text", "text must be a non-empty string")
        if len(text.encode("utf-8")) > self.config.max_text_bytes:
            raise FrameError(
                "too_long", f"a message may have at most {self.config.max_text_bytes} bytes"
            )
        if not self.bucket.take() or not self.app[SENDER_LIMITS].take(self.conversation_id):
            raise FrameError("rate_limited", "too many messages; please wait a moment")
        conversation_id = self.conversation_id
        async with conversation_lock(self.app, conversation_id):
            stored, conversation = await self.app[DATABASE].write(
                repository.add_user_message, conversation_id, text
            )
            if conversation["status"] in AGENT_MODE:
                await self.app[HUB].to_agents(
                    {
                        "type": "user_message",
                        "conversation_id": conversation_id,
                        "queue": conversation["queue"],
                        "agent": conversation["agent"],
                        "message": stored,
                    },
                    queue=conversation["queue"],
                )
                return
            await self.relay_to_bot(conversation, text)

    async def relay_to_bot(self, conversation: dict[str, Any], text: str) -> None:
        app = self.app
        conversation_id = conversation["id"]
        hub = app[HUB]
        metadata: dict[str, Any] = {}
        if self.token:
            metadata["identity_token"] = self.token
        if self.locale:
            metadata["locale"] = self.locale
        if conversation.get("tracker_event_pending"):
            # Rasa must know about the agent conversation before it answers again.
            await services.deliver_tracker_event(app, conversation_id)
        try:
            replies = await app[RASA].send(conversation_id, text, metadata)
        except RasaUnavailable as error:
            logger.warning("Rasa unavailable for %s: %s", conversation_id, error)
            language = conversation.get("language") or self.locale
            notice = system_text("rasa_unavailable", language_of(language))
            await app[DATABASE].write(repository.add_message, conversation_id, "system", notice)
            await hub.to_conversation(conversation_id, {"type": "message", "from": "system", "text": notice})
            return
        for reply in replies:
            custom = reply.get("custom") if isinstance(reply.get("custom"), dict) else {}
            marker = custom.get("handoff") if isinstance(custom.get("handoff"), dict) else None
            reply_text = reply.get("text") if isinstance(reply.get("text"), str) else ""
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in reply.get("buttons") or []
                if isinstance(b, dict)
            ]
            if not (reply_text or buttons or marker):
                continue
            await app[DATABASE].write(
                repository.add_message, conversation_id, "bot", reply_text,
                buttons=buttons or None, handoff=marker,
            )
            if reply_text or buttons:
                frame: dict[str, Any] = {"type": "message", "from": "bot", "text": reply_text}
                if buttons:
                    frame["buttons"] = buttons
                await hub.to_conversation(conversation_id, frame)
            if marker:
                frame = {**marker, "type": "handoff"}
                if marker.get("status") == "queued":
                    frame.setdefault("estimated_wait_minutes", await self.ensure_queued(marker))
                await hub.to_conversation(conversation_id, frame)

    async def ensure_queued(self, marker: dict[str, Any]) -> int:
        """The bot queued the user: normally the intake did it already; if not, do it here.

        Returns the estimated wait in minutes.
        """
        assert self.conversation_id is not None
        average = self.config.average_handling_minutes
        state = await self.app[DATABASE].read(repository.conversation_state, self.conversation_id)
        if state["status"] in AGENT_MODE:
            return state.get("position", 0) * average
        queue = marker.get("queue") if marker.get("queue") in ("tier1", "tier2") else "tier1"
        priority = marker.get("priority") if marker.get("priority") in PRIORITY_LEVELS else None
        escalation = Escalation(
            conversation_id=self.conversation_id,
            queue=queue,
            priority=priority,
            prioritized=bool(marker.get("prioritized")),
            user_id=self.user_id,
        )
        answer, newly = await integrations.escalate(self.app, escalation)
        if newly:
            await services.announce_escalation(self.app, self.conversation_id)
        return answer["estimated_wait_minutes"]


async def chat_socket(request: web.Request) -> web.WebSocketResponse:
    config = request.app[CONFIG]
    socket = web.WebSocketResponse(heartbeat=30, max_msg_size=config.max_frame_bytes)
    await socket.prepare(request)
    connection = ChatConnection(request, socket)
    try:
        async for msg in socket:
            if msg.type == WSMsgType.TEXT:
                try:
                    await connection.handle(msg.data)
                except FrameError as error:
                    await connection.error(error.code, error.message)
                except HandoffError as error:
                    await connection.error(error.code, error.message)
                except Exception:  # one failed frame must not end the user's chat
                    logger.exception("widget frame failed")
                    await connection.error("internal", "something went wrong; please try again")
            elif msg.type == WSMsgType.BINARY:
                await connection.error("malformed", "only JSON text frames are understood")
            elif msg.type == WSMsgType.ERROR:
                logger.info("widget socket error: %s", socket.exception())
    finally:
        if connection.conversation_id is not None:
            request.app[HUB].remove_widget(connection.conversation_id, socket)
    return socket


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ws/chat", chat_socket)
