"""Supervisors' view of the integrations' outbox: failed deliveries, and replaying them.

`GET /api/deliveries?status=failed,retrying&limit=100` (newest first; `status` is a comma
list of pending, delivered, failed, retrying, the default is failed,retrying),
`GET /api/deliveries/{id}` (with the payload), `POST /api/deliveries/{id}/replay`.
Supervisors only (role `supervisor`); other agents get 403.
"""
from __future__ import annotations

from aiohttp import web

from handoff import outbox
from handoff.errors import BadRequest
from handoff.httputil import answer, query_limit, require_role
from handoff.integrations import OUTBOX
from handoff.state import DATABASE

SUPERVISOR = "supervisor"


def _delivery_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise BadRequest("a delivery id is a number", code="invalid_id") from None


async def list_deliveries(request: web.Request) -> web.Response:
    await require_role(request, SUPERVISOR)
    states = [s.strip() for s in request.query.get("status", "failed,retrying").split(",") if s.strip()]
    return answer(await request.app[DATABASE].read(outbox.list_deliveries, states, query_limit(request)))


async def delivery(request: web.Request) -> web.Response:
    await require_role(request, SUPERVISOR)
    return answer(await request.app[DATABASE].read(outbox.get_delivery, _delivery_id(request)))


async def replay(request: web.Request) -> web.Response:
    agent = await require_role(request, SUPERVISOR)
    result = await request.app[DATABASE].write(outbox.replay, _delivery_id(request), agent.username)
    if OUTBOX in request.app:
        request.app[OUTBOX].wake()
    return answer(result)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/deliveries", list_deliveries)
    app.router.add_get("/api/deliveries/{id}", delivery)
    app.router.add_post("/api/deliveries/{id}/replay", replay)
