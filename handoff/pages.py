"""Pages and service endpoints: the widget page, the agent console, static files (the entry
scripts assembled by `handoff.assets`), health, the OpenAPI description, and the DEMO-ONLY
endpoints (absent in production)."""
from __future__ import annotations

import asyncio
import logging
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.identity import mint_token
from bot.settings import ROOT
from handoff.assets import Scripts, page_facts
from handoff.errors import BadRequest, NotFound
from handoff.httputil import answer, json_body
from handoff.openapi import openapi_document
from handoff.state import CONFIG, DATABASE, HUB, RASA

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 2.0

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
SCRIPTS = web.AppKey("scripts", Scripts)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def _static_file(request: web.Request, relative: str) -> web.FileResponse:
    root = request.app[CONFIG].static_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound(f"no such file: {relative}")
    response = web.FileResponse(path)
    response.headers["Cache-Control"] = "no-cache"
    return response


async def index(request: web.Request) -> web.FileResponse:
    return _static_file(request, "index.html")


async def agent_console(request: web.Request) -> web.FileResponse:
    return _static_file(request, "agent.html")


async def static(request: web.Request) -> web.StreamResponse:
    relative = request.match_info["path"]
    scripts = request.app[SCRIPTS]
    if not scripts.is_entry(relative):
        return _static_file(request, relative)
    script = scripts.get(relative)
    headers = {"ETag": script.etag, "Cache-Control": "no-cache"}
    if request.headers.get("If-None-Match") == script.etag:
        return web.Response(status=304, headers=headers)
    return web.Response(text=script.text, content_type="application/javascript", charset="utf-8", headers=headers)


@lru_cache(maxsize=1)
def version() -> str:
    """The product's version, from pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


async def health(request: web.Request) -> web.Response:
    """CONTRACT.md "Operations surface"; also the load balancer's and Kubernetes' readiness check.

    503 when the database can't be reached (this instance can store nothing); `degraded` when
    the bus can't (pushes then reach this instance's own sockets only). `rasa` false is still
    ready: messages are stored and answered once a Rasa process is back.
    """
    app = request.app
    database = app[DATABASE]

    def ping(session: Any) -> None:
        session.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(database.read(ping), HEALTH_TIMEOUT_SECONDS)
        database_ok = True
    except (SQLAlchemyError, asyncio.TimeoutError) as error:
        logger.warning("health: database unreachable: %s", error)
        database_ok = False
    bus = app[HUB].bus
    bus_ok = await bus.healthy()
    body = {
        "status": "ok" if database_ok and bus_ok else ("degraded" if database_ok else "unavailable"),
        "instance": app[CONFIG].settings.instance,
        "database": database.engine.dialect.name,
        "bus": bus.kind,
        "rasa": await app[RASA].reachable(),
        "version": version(),
    }
    return answer(body, status=200 if database_ok else 503)


async def openapi(request: web.Request) -> web.Response:
    return answer(openapi_document(demo=not request.app[CONFIG].settings.production))


# --- DEMO ONLY (not registered when BOT_ENV=production) ----------------------------------------

@lru_cache(maxsize=4)
def _demo_users(demo_file: Path) -> tuple[dict[str, Any], ...]:
    data = yaml.safe_load(demo_file.read_text(encoding="utf-8")) or {}
    accounts = {a["id"]: a for a in data.get("accounts") or []}
    users = []
    for user in data.get("users") or []:
        account = accounts.get(user.get("account"), {})
        users.append(
            {
                "id": user["id"],
                "name": user.get("name"),
                "account": account.get("name"),
                "account_id": account.get("id"),
                "type": account.get("type"),
                "plan": account.get("plan"),
                "role": user.get("role"),
                "licensed": bool(user.get("licensed")),
            }
        )
    return tuple(users)


async def demo_users(request: web.Request) -> web.Response:
    """DEMO ONLY: the demo users the help-center page lets you act as."""
    return answer(list(_demo_users(request.app[CONFIG].demo_file)))


async def demo_token(request: web.Request) -> web.Response:
    """DEMO ONLY: an identity token as the help center would sign it for this demo user."""
    body = await json_body(request)
    user_id = body.get("user_id")
    known = {u["id"] for u in _demo_users(request.app[CONFIG].demo_file)}
    if not isinstance(user_id, str) or user_id not in known:
        raise BadRequest("'user_id' must be one of the demo users", code="unknown_user")
    token = mint_token(user_id, request.app[CONFIG].settings.identity_secret)
    return answer({"token": token})


def add_routes(app: web.Application) -> None:
    config = app[CONFIG]
    app[SCRIPTS] = Scripts(config.static_dir, page_facts(config))
    app.router.add_get("/", index)
    app.router.add_get("/agent", agent_console)
    app.router.add_get("/static/{path:.+}", static)
    app.router.add_get("/health", health)
    app.router.add_get("/openapi.json", openapi)
    if not app[CONFIG].settings.production:
        app.router.add_get("/demo/users", demo_users)
        app.router.add_post("/demo/token", demo_token)
