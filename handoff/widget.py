"""`GET /ws/chat`: the help-center widget's websocket (CONTRACT.md, widget protocol).

Frames in: `hello` (first), then `message` (with an optional `client_id`). Frames out:
`welcome`, `history` (on resume), `ack` (a message with a `client_id` is stored), `message`
(bot/agent/system), `handoff` (the bot's marker), `mode` (bot or agent now answers), `error`.
Every user message is stored first. While the bot has the conversation it then goes to Rasa
(`handoff.relay`: in order, once, retried until a Rasa process answers) and every reply is
pushed; while an agent has it (waiting or claimed), it goes to the agents only.
"""
from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from sqlalchemy.exc import IntegrityError

from bot.identity import verify_token
from handoff import claims, csat, integrations, relay, repository, waiting
from handoff.errors import HandoffError
from handoff.models import AGENT_MODE
from handoff.ratelimit import TokenBucket
from handoff.state import CONFIG, DATABASE, HUB, LOCKS, SENDER_LIMITS

logger = logging.getLogger(__name__)

LOCALES = ("de", "en")
MAX_CONVERSATION_ID = 128
MAX_CLIENT_ID = 64


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
        self.typing = waiting.TypingGate(self.config.typing_interval_seconds)

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
        elif kind == "typing":
            # The owning agent sees it; before hello, or while nobody owns the chat, it is dropped.
            if self.conversation_id is not None and self.typing.open():
                await waiting.user_typing(self.app, self.conversation_id)
        elif kind == "ping":
            await self.socket.send_json({"type": "pong"})
        elif kind == "csat":
            await self.socket.send_json(await csat.rate(self.app, self.conversation_id, frame, self.locale))
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
        await self.app[HUB].add_widget(self.conversation_id, self.socket)
        mode = "agent" if conversation["status"] in AGENT_MODE else "bot"
        welcome: dict[str, Any] = {
            "type": "welcome",
            "conversation_id": self.conversation_id,
            "resumed": resumed,
            "mode": mode,
            "status": conversation["status"],
            "authenticated": self.user_id is not None,
        }
        if mode == "agent":
            # Kept across a reload: the place and wait in the queue, or the agent's name.
            welcome.update(await self.app[DATABASE].read(
                repository.queue_status, self.conversation_id, self.config.average_handling_minutes
            ))
        await self.socket.send_json(welcome)
        if resumed:
            await self.socket.send_json({"type": "history", "messages": history})
            if await csat.pending_request(self.app, self.conversation_id):
                await self.socket.send_json({"type": "csat_request"})

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
        client_id = frame.get("client_id")
        if client_id is not None and (not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_CLIENT_ID):
            raise FrameError("invalid_client_id", f"client_id must be a string of at most {MAX_CLIENT_ID} characters")
        if not self.bucket.take() or not await self.app[SENDER_LIMITS].take(self.conversation_id):
            raise FrameError("rate_limited", "too many messages; please wait a moment")
        conversation_id = self.conversation_id
        async with self.app[LOCKS].try_hold(conversation_id) as free:
            # A free conversation (the usual case): the message is stored and relayed under its
            # lock, and the next pending message read in the same transaction.
            stored, conversation, duplicate, pending = await self.store(conversation_id, text, client_id, free)
            if client_id is not None:
                # Stored: a resend of this id after a reconnect is recognised and not processed again.
                await self.socket.send_json({"type": "ack", "client_id": client_id, "duplicate": duplicate})
            if pending is not None:
                await relay.drain_held(self.app, conversation_id, relay.Fresh(stored["id"], text), pending)
                return
        if duplicate:
            # The instance that took it first may have died before the bot answered.
            await relay.drain(self.app, conversation_id)
        elif conversation["status"] in AGENT_MODE:
            if await waiting.user_message(self.app, conversation, stored, self.metadata()):
                return  # a queue button (leave, priority, ticket, wait): the service acted on it
            await waiting.for_agents(self.app, conversation, stored)
        else:
            await relay.drain(self.app, conversation_id, relay.Fresh(stored["id"], text))

    def metadata(self) -> dict[str, Any]:
        """What goes to Rasa with this connection's messages."""
        metadata: dict[str, Any] = {}
        if self.token:
            metadata["identity_token"] = self.token
        if self.locale:
            metadata["locale"] = self.locale
        return metadata

    async def store(
        self, conversation_id: str, text: str, client_id: str | None, relay_next: bool
    ) -> tuple[dict, dict, bool, claims.PendingRelay | None]:
        """Store the message; with `relay_next` (the caller holds the conversation's lock) also
        read the next pending message for the bot (None when it goes to nobody or `relay_next`
        is False)."""
        metadata = self.metadata()
        work = claims.store_for_relay if relay_next else claims.store_user_message
        try:
            result = await self.app[DATABASE].write(work, conversation_id, text, client_id, metadata)
        except IntegrityError:
            # The same client id arrived on another connection at the same moment: it is stored.
            result = await self.app[DATABASE].write(work, conversation_id, text, client_id, metadata)
        return result if relay_next else (*result, None)


# Frames read but not handled yet; beyond this the socket is read no further until one is done.
PENDING_FRAMES = 32


async def chat_socket(request: web.Request) -> web.WebSocketResponse:
    """Frames are handled one after another, in order (a `ping` after a `message` is answered
    after the bot's replies), while the socket keeps being read: the heartbeat's ping and pong
    go on while a relay waits for a slow Rasa or a busy conversation."""
    config = request.app[CONFIG]
    socket = web.WebSocketResponse(heartbeat=30, max_msg_size=config.max_frame_bytes)
    await socket.prepare(request)
    connection = ChatConnection(request, socket)
    frames: asyncio.Queue = asyncio.Queue(maxsize=PENDING_FRAMES)
    worker = asyncio.create_task(_handle_frames(connection, frames))
    try:
        async for msg in socket:
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                await frames.put(msg)
            elif msg.type == WSMsgType.ERROR:
                logger.info("widget socket error: %s", socket.exception())
        # The user left: what they sent before is still handled (and stored), then we are done.
        await frames.put(None)
        await worker
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        if connection.conversation_id is not None:
            await request.app[HUB].remove_widget(connection.conversation_id, socket)
    return socket


async def _handle_frames(connection: ChatConnection, frames: asyncio.Queue) -> None:
    while (msg := await frames.get()) is not None:
        try:
            if msg.type == WSMsgType.BINARY:
                raise FrameError("malformed", "only JSON text frames are understood")
            await connection.handle(msg.data)
        except (FrameError, HandoffError) as error:
            await _tell(connection, error.code, error.message)
        except Exception:  # one failed frame must not end the user's chat
            logger.exception("widget frame failed")
            await _tell(connection, "internal", "something went wrong; please try again")


async def _tell(connection: ChatConnection, code: str, message: str) -> None:
    try:
        await connection.error(code, message)
    except (ConnectionError, RuntimeError):
        pass  # the socket closed meanwhile


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ws/chat", chat_socket)
