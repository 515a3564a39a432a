"""Request helpers shared by the handlers: JSON bodies, bearer auth, JSON answers."""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from handoff import repository
from handoff.errors import BadRequest, Forbidden, Unauthorized
from handoff.repository import AgentInfo
from handoff.security import AgentSession, agent_from_token, bearer_token, same_secret
from handoff.state import CONFIG, DATABASE


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; 400 for anything else (413 comes from client_max_size)."""
    raw = await request.read()
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise BadRequest("the body is not valid JSON", code="malformed_json") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="malformed_json")
    return body


def answer(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False))


async def session_for_token(request: web.Request, token: str | None) -> tuple[AgentInfo, AgentSession]:
    """The agent and the session of a token that still holds: signed, unexpired, not signed
    out, its agent active and not revoked since (asked of the database on every call)."""
    if not token:
        raise Unauthorized("sign in first: Authorization: Bearer <token>")
    session = agent_from_token(token, request.app[CONFIG].settings.agent_token_secret)
    if session is None:
        raise Unauthorized("the token is invalid or expired", code="invalid_token")
    agent = await request.app[DATABASE].read(repository.session_agent, session)
    if agent is None:
        raise Unauthorized("this session has ended: sign in again", code="invalid_token")
    return agent, session


async def agent_for_token(request: web.Request, token: str | None) -> AgentInfo:
    agent, _ = await session_for_token(request, token)
    return agent


async def require_session(request: web.Request) -> tuple[AgentInfo, AgentSession]:
    return await session_for_token(request, bearer_token(request.headers.get("Authorization")))


async def require_agent(request: web.Request) -> AgentInfo:
    agent, _ = await require_session(request)
    return agent


def client_address(request: web.Request) -> str:
    """Who is asking: the connection's peer, or behind our own proxy (HANDOFF_TRUST_FORWARDED_FOR)
    the last X-Forwarded-For entry, the one the proxy added."""
    if request.app[CONFIG].settings.trust_forwarded_for:
        forwarded = request.headers.getall("X-Forwarded-For", [])
        if forwarded:
            last = forwarded[-1].split(",")[-1].strip()
            if last:
                return last[:64]
    return request.remote or "unknown"


async def require_role(request: web.Request, role: str) -> AgentInfo:
    """The signed-in agent, who must hold `role` (e.g. `supervisor`); 403 otherwise."""
    agent = await require_agent(request)
    if not agent.has_role(role):
        raise Forbidden(f"only a {role} may do this", code="forbidden")
    return agent


def require_service(request: web.Request) -> None:
    token = bearer_token(request.headers.get("Authorization"))
    if not same_secret(token, request.app[CONFIG].settings.service_token):
        raise Unauthorized("service token required")


def query_limit(request: web.Request, default: int = 100, most: int = 500) -> int:
    """`?limit=`, held to 1..`most`; 400 when it is not a number."""
    try:
        return min(max(int(request.query.get("limit", str(default))), 1), most)
    except ValueError:
        raise BadRequest("'limit' must be a number") from None


def choice_field(body: dict[str, Any], name: str, choices: tuple[str, ...], code: str) -> str:
    """`body[name]`, which must be one of `choices`; 400 with `code` otherwise."""
    value = body.get(name)
    if value not in choices:
        raise BadRequest(f"'{name}' must be one of {', '.join(choices)}", code=code)
    return value


def text_field(body: dict[str, Any], name: str, max_bytes: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'{name}' must be a non-empty string", code="invalid_text")
    if len(value.encode("utf-8")) > max_bytes:
        raise BadRequest(f"'{name}' may have at most {max_bytes} bytes", code="too_long")
    return value
