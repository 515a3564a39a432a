"""Privacy and accountability, for supervisors only (role `supervisor`; others get 403):

- `GET /api/users/{user_id}/export` → every conversation (transcript, notes, CSAT) and ticket
  of the user as JSON; 404 when nothing of the user is stored.
- `DELETE /api/users/{user_id}/data` → 200 with what was deleted: transcripts, notes, ratings,
  tickets, outbox rows (webhook/email payloads, the action server's) and Rasa's tracker events
  of the user's conversations; afterwards those conversations are 404 and a repeat is 404.
- `GET /api/audit?action=claim,resolve&agent=&conversation_id=&limit=100&before=<id>` → agents'
  actions (login, claim, message, transfer, resolve, release, export, delete, purge), newest first.

The retention purge: transcripts untouched for `TRANSCRIPT_RETENTION_DAYS` are deleted the same
way. Every instance runs the job's loop, and each run is claimed in the database first
(`handoff_jobs`, one conditional UPDATE, `repository.privacy.claim_job`), so a run happens once
per `retention_check_seconds` across all instances whatever their number (no Redis needed: the
database is the one thing they all share).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import AsyncIterator

from aiohttp import web

from handoff.errors import BadRequest
from handoff.httputil import answer, query_limit, require_role
from handoff.models import utcnow
from handoff.repository import privacy
from handoff.state import CONFIG, DATABASE, HUB

logger = logging.getLogger(__name__)

SUPERVISOR = "supervisor"
MAX_USER_ID = 128
PURGE_JOB = "retention_purge"
PURGE_TASK = web.AppKey("retention_purge_task", asyncio.Task)


def _user_id(request: web.Request) -> str:
    user_id = request.match_info["user_id"]
    if not 0 < len(user_id) <= MAX_USER_ID:
        raise BadRequest("a user id has 1 to 128 characters", code="invalid_user_id")
    return user_id


async def export_user(request: web.Request) -> web.Response:
    agent = await require_role(request, SUPERVISOR)
    data = await request.app[DATABASE].write(privacy.export_user, _user_id(request), agent.username)
    response = answer(data)
    response.headers["Content-Disposition"] = f'attachment; filename="user-{data["user_id"][:64]}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


async def delete_user_data(request: web.Request) -> web.Response:
    agent = await require_role(request, SUPERVISOR)
    result = await request.app[DATABASE].write(privacy.delete_user_data, _user_id(request), agent.username)
    for conversation_id in result["conversation_ids"]:
        # Open consoles drop the conversation (their refresh answers 404).
        await request.app[HUB].to_agents({"type": "conversation_deleted", "conversation_id": conversation_id})
    return answer(result)


async def audit(request: web.Request) -> web.Response:
    await require_role(request, SUPERVISOR)
    actions = [a.strip() for a in request.query.get("action", "").split(",") if a.strip()]
    before = request.query.get("before")
    if before is not None and not before.isdigit():
        raise BadRequest("'before' is an entry's id", code="invalid_id")
    rows = await request.app[DATABASE].read(
        privacy.list_audit, actions, request.query.get("agent") or None,
        request.query.get("conversation_id") or None, query_limit(request), int(before) if before else None)
    return answer(rows)


async def purge_round(app: web.Application) -> dict[str, int] | None:
    """One run of the retention purge if it is this instance's turn (else None)."""
    config = app[CONFIG]
    days = config.settings.transcript_retention_days
    if days <= 0:
        return None
    database = app[DATABASE]
    if not await database.write(privacy.claim_job, PURGE_JOB, config.retention_check_seconds, config.settings.instance):
        return None
    counts = await database.write(privacy.purge_expired, utcnow() - timedelta(days=days), config.retention_batch)
    if counts.get("conversations") or counts.get("tickets"):
        logger.info("retention purge (%s days): %s", days, counts)
    return counts


async def _purge_loop(app: web.Application) -> None:
    # Poll more often than the interval: whichever instance looks first after it is due wins.
    poll = max(min(app[CONFIG].retention_check_seconds / 4, 60.0), 0.05)
    while True:
        try:
            await purge_round(app)
        except Exception:  # a failed run (database busy) must not end the job
            logger.exception("retention purge failed")
        await asyncio.sleep(poll)


async def retention_ctx(app: web.Application) -> AsyncIterator[None]:
    app[PURGE_TASK] = asyncio.create_task(_purge_loop(app), name="handoff-retention")
    yield
    app[PURGE_TASK].cancel()
    await asyncio.gather(app[PURGE_TASK], return_exceptions=True)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/users/{user_id}/export", export_user)
    app.router.add_delete("/api/users/{user_id}/data", delete_user_data)
    app.router.add_get("/api/audit", audit)
