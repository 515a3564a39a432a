"""The agent API (CONTRACT.md): sign-in, queue, conversations, and the `/ws/agent` push socket."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from handoff import assignment, csat, integrations, presence, repository, services
from handoff.errors import BadRequest, HandoffError, TooManyRequests, Unauthorized
from handoff.httputil import (
    answer, choice_field, client_address, json_body, query_limit, require_agent, require_role, require_session,
    session_for_token, text_field,
)
from handoff.models import QUEUES
from handoff.repository import desk
from handoff.repository.sessions import LOGIN_FAILED, LOGIN_THROTTLED
from handoff.security import AgentSession, mint_agent_token, password_matches
from handoff.locks import LockTimeout
from handoff.state import CONFIG, DATABASE, HUB, LOCKS, SIGNIN_THROTTLE
from handoff.throttle import Check

logger = logging.getLogger(__name__)

# Usernames are at most this long (handoff_agents.username); longer ones are simply wrong.
MAX_USERNAME = 64
MAX_PASSWORD_BYTES = 1024


async def login(request: web.Request) -> web.Response:
    body = await json_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise BadRequest("'username' and 'password' are required strings")
    config = request.app[CONFIG]
    throttle = request.app[SIGNIN_THROTTLE]
    address = client_address(request)
    user_check = Check("user:" + username.strip().casefold()[:MAX_USERNAME], config.signin_user_limit)
    checks = [user_check, Check("addr:" + address, config.signin_address_limit)]
    # Refused before the password is looked at: a locked username stays locked for the right one.
    retry_after = await throttle.retry_after(checks)
    if retry_after > 0:
        logger.warning("sign-in refused (throttled): username=%r address=%s retry_after=%.0fs",
                       username[:MAX_USERNAME], address, retry_after)
        raise TooManyRequests("too many failed sign-ins: try again later", retry_after, code="too_many_attempts")
    database = request.app[DATABASE]
    too_long = len(username) > MAX_USERNAME or len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES
    password_hash, agent = (None, None) if too_long else await database.read(repository.agent_password_hash, username)
    loop = asyncio.get_running_loop()
    # argon2 is deliberately slow: verify it off the event loop.
    if not await loop.run_in_executor(None, password_matches, password_hash, password) or agent is None:
        await _failed_signin(request, username[:MAX_USERNAME], address, checks)
        raise Unauthorized("unknown username or wrong password", code="invalid_credentials")
    await throttle.succeeded(user_check)
    await database.write(repository.record_login, agent.username)
    token = mint_agent_token(agent.username, config.settings.agent_token_secret, config.agent_token_ttl_seconds)
    return answer({"token": token, "agent": agent.as_dict(), "expires_in": config.agent_token_ttl_seconds})


async def _failed_signin(request: web.Request, username: str, address: str, checks: list[Check]) -> None:
    """Count it, log it, and put it in the audit log (for existing agents only)."""
    locked = await request.app[SIGNIN_THROTTLE].failed(checks)
    logger.warning("sign-in failed: username=%r address=%s", username, address)
    database = request.app[DATABASE]
    await database.write(repository.record_security_event, username, LOGIN_FAILED, address=address)
    for check, seconds in locked:
        scope = check.key.split(":", 1)[0]
        logger.warning("sign-in throttled: %s username=%r address=%s for %.0fs", scope, username, address, seconds)
        await database.write(repository.record_security_event, username, LOGIN_THROTTLED,
                             address=address, scope="username" if scope == "user" else "address",
                             seconds=int(seconds))


async def logout(request: web.Request) -> web.Response:
    """End this token's session on every instance: 204, then the token gets 401."""
    agent, session = await require_session(request)
    await request.app[DATABASE].write(repository.end_session, session)
    await request.app[HUB].end_sessions(agent.username, session.session_id)
    logger.info("agent %s signed out", agent.username)
    return web.Response(status=204)


async def _set_active(request: web.Request, active: bool) -> web.Response:
    supervisor = await require_role(request, "supervisor")
    username = request.match_info["username"]
    detail = await request.app[DATABASE].write(repository.set_agent_active, supervisor, username, active)
    if not active:
        await request.app[HUB].end_sessions(username)
    logger.info("agent %s %s by %s", username, "enabled" if active else "disabled", supervisor.username)
    return answer(detail)


async def disable_agent(request: web.Request) -> web.Response:
    """Supervisor only: the agent can no longer sign in; their tokens and consoles end now."""
    return await _set_active(request, False)


async def enable_agent(request: web.Request) -> web.Response:
    return await _set_active(request, True)


async def me(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    return answer(agent.as_dict())


async def queue(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    items = await request.app[DATABASE].read(
        repository.queue_view, agent, request.app[CONFIG].average_handling_minutes
    )
    return answer(items)


async def conversation(request: web.Request) -> web.Response:
    # Any signed-in agent may read a transcript (e.g. after transferring it to tier2);
    # acting on a conversation needs the right tier.
    await require_agent(request)
    detail = await request.app[DATABASE].read(desk.agent_view, request.match_info["id"])
    return answer(detail)


async def claim(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    conversation_id = request.match_info["id"]
    detail, won = await request.app[DATABASE].write(repository.claim, conversation_id, agent)
    if won:
        await services.push_conversation_event(request.app, "claimed", detail, agent)
        await services.tell_user(request.app, detail, "agent_joined", "agent", agent=agent.name)
        await services.refresh_positions(request.app, detail["queue"])
    return answer(detail)


async def send_message(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    body = await json_body(request)
    text = text_field(body, "text", request.app[CONFIG].max_text_bytes)
    conversation_id = request.match_info["id"]
    message, detail = await request.app[DATABASE].write(repository.agent_message, conversation_id, agent, text)
    delivered = await request.app[HUB].to_conversation(
        conversation_id, {"type": "message", "from": "agent", "text": message["text"], "agent": agent.name}
    )
    await request.app[HUB].to_agents(
        {"type": "agent_message", "conversation_id": conversation_id, "agent": agent.username, "message": message},
        queue=detail["queue"],
    )
    return answer({"message": message, "delivered": delivered})


async def transfer(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    target = choice_field(await json_body(request), "queue", QUEUES, code="invalid_queue")
    detail = await request.app[DATABASE].write(
        repository.transfer, request.match_info["id"], agent, target
    )
    await services.push_conversation_event(request.app, "transferred", detail, agent)
    await services.tell_user(request.app, detail, "transferred", "agent", queue=target.replace("tier", "Tier "))
    await services.announce_escalation(request.app, detail["id"])
    await services.refresh_positions(request.app, detail["queue"], detail["previous_queue"])
    await assignment.after_escalation(request.app, detail["id"], new=False)
    return answer(detail)


async def _close(request: web.Request, how: str) -> web.Response:
    agent = await require_agent(request)
    app = request.app
    detail = await integrations.close(app, request.match_info["id"], agent, how)
    await services.push_conversation_event(app, "resolved" if how == "resolve" else "released", detail, agent)
    await services.tell_user(app, detail, "resolved" if how == "resolve" else "released", "bot")
    if how == "resolve":
        await integrations.offer_transcript(app, detail)
        await csat.request_rating(app, detail, agent.username)
    await services.refresh_positions(app, detail["queue"])
    await assignment.assign(app)  # the agent has room again
    # The bot's context records the agent conversation; if Rasa is down (or the conversation
    # busy), the retry job or the conversation's next message to Rasa delivers it.
    try:
        async with app[LOCKS].hold(detail["id"], wait_seconds=5):
            detail["tracker_event_delivered"] = await services.deliver_tracker_event(app, detail["id"])
    except LockTimeout:
        detail["tracker_event_delivered"] = False
    return answer(detail)


async def resolve(request: web.Request) -> web.Response:
    return await _close(request, "resolve")


async def release(request: web.Request) -> web.Response:
    return await _close(request, "release")


async def tickets(request: web.Request) -> web.Response:
    await require_agent(request)
    status = request.query.get("status") or None
    return answer(await request.app[DATABASE].read(repository.list_tickets, status, query_limit(request)))


async def ticket(request: web.Request) -> web.Response:
    await require_agent(request)
    return answer(await request.app[DATABASE].read(repository.get_ticket, request.match_info["ticket_id"]))


async def agent_socket(request: web.Request) -> web.WebSocketResponse:
    """First frame `{"type": "auth", "token"}`; then the server pushes, the client may ping."""
    config = request.app[CONFIG]
    socket = web.WebSocketResponse(heartbeat=30, max_msg_size=config.max_frame_bytes)
    await socket.prepare(request)
    hub = request.app[HUB]
    try:
        authenticated = await _authenticate(request, socket)
        if authenticated is None:
            return socket
        agent, session = authenticated
        hub.add_agent(socket, agent, session.session_id)
        online = await presence.connected(request.app, socket, agent)
        waiting = await request.app[DATABASE].read(
            repository.queue_view, agent, config.average_handling_minutes
        )
        await socket.send_json({"type": "ready", "agent": agent.as_dict(), "queue": waiting})
        if online:
            await assignment.assign(request.app)  # a reload while online: room may have come
        async for msg in socket:
            if msg.type != WSMsgType.TEXT:
                continue
            # The session may have ended on another instance while a push was lost: ask again.
            if await request.app[DATABASE].read(repository.session_agent, session) is None:
                await socket.send_json({"type": "session_ended", "message": "this session has ended: sign in again"})
                await socket.close(code=4401, message=b"session ended")
                break
            try:
                frame = json.loads(msg.data)
            except ValueError:
                frame = None
            if isinstance(frame, dict) and frame.get("type") == "ping":
                await socket.send_json({"type": "pong"})
            else:
                await socket.send_json({"type": "error", "code": "unknown_type", "message": "only ping is understood"})
    finally:
        hub.remove_agent(socket)
        await hub.settle(socket)
        await presence.disconnected(request.app, socket)
    return socket


async def _authenticate(
    request: web.Request, socket: web.WebSocketResponse
) -> tuple[repository.AgentInfo, AgentSession] | None:
    config = request.app[CONFIG]
    try:
        msg = await socket.receive(timeout=config.auth_timeout_seconds)
    except asyncio.TimeoutError:
        await socket.send_json({"type": "error", "code": "auth_timeout", "message": "authenticate first"})
        await socket.close(code=4401, message=b"authentication required")
        return None
    frame: Any = None
    if msg.type == WSMsgType.TEXT:
        try:
            frame = json.loads(msg.data)
        except ValueError:
            frame = None
    if not isinstance(frame, dict) or frame.get("type") != "auth":
        await socket.send_json({"type": "error", "code": "auth_required", "message": "the first frame must be auth"})
        await socket.close(code=4401, message=b"authentication required")
        return None
    token = frame.get("token")
    try:
        return await session_for_token(request, token if isinstance(token, str) else None)
    except HandoffError as error:
        await socket.send_json({"type": "error", "code": error.code, "message": error.message})
        await socket.close(code=4401, message=b"authentication failed")
        return None


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/agents/login", login)
    app.router.add_post("/api/agents/logout", logout)
    app.router.add_post("/api/agents/{username}/disable", disable_agent)
    app.router.add_post("/api/agents/{username}/enable", enable_agent)
    app.router.add_get("/api/agents/me", me)
    app.router.add_get("/api/queue", queue)
    app.router.add_get("/api/conversations/{id}", conversation)
    app.router.add_post("/api/conversations/{id}/claim", claim)
    app.router.add_post("/api/conversations/{id}/messages", send_message)
    app.router.add_post("/api/conversations/{id}/transfer", transfer)
    app.router.add_post("/api/conversations/{id}/resolve", resolve)
    app.router.add_post("/api/conversations/{id}/release", release)
    app.router.add_get("/api/tickets", tickets)
    app.router.add_get("/api/tickets/{ticket_id}", ticket)
    app.router.add_get("/ws/agent", agent_socket)
