"""Auto-assignment, reassignment, first-response alerts, and `GET /api/conversations?mine=true`.

- A waiting conversation goes to an online agent of its tier below their `max_concurrent`, the
  least loaded first (`repository.assign_waiting`), pushed to them as
  `{"type": "assigned", "conversation_id", "conversation"}`; the other consoles get `claimed`.
  It runs when a conversation enters the queue, when an agent goes online (or connects while
  online), when an agent closes or transfers a conversation, and in the periodic round. Nobody
  online (or everyone away): the conversation waits.
- The periodic round (every `assignment_check_seconds`, on one instance at a time: the
  `job:assignment-round` lock of `handoff.locks`, Redis with several instances) puts the
  conversations of agents offline for longer than `reassign_after_seconds` back at the head of
  the queue, alerts every online agent of the tier when a waiting P1/P2 conversation's first
  response is due within `deadline_alert_minutes` (`deadline_alert` frame, once), and assigns
  what nothing else triggered.
- What the user sees of an assignment (the agent's name, the `mode` frame) waits for the
  conversation's lock: when the bot's own reply queued the user, the relay holds that lock
  until the `queued` marker is pushed, so the agent joining always comes after it.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, AsyncIterator, Awaitable, Callable

from aiohttp import web

from handoff import repository, services
from handoff.errors import BadRequest
from handoff.httputil import answer, require_agent
from handoff.locks import LockTimeout
from handoff.models import CLAIMED, WAITING, utcnow
from handoff.repository import AgentInfo
from handoff.state import CONFIG, DATABASE, HUB, LOCKS
from handoff.texts import system_text

logger = logging.getLogger(__name__)

ASSIGNMENT_LOCK = "job:assignment"
ROUND_LOCK = "job:assignment-round"
TASKS = web.AppKey("assignment_tasks", set)


def spawn(app: web.Application, work: Awaitable[Any]) -> None:
    """Run `work` beside the request (kept until done, cancelled at shutdown)."""
    task = asyncio.ensure_future(work)
    tasks = app[TASKS]
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def after_turn(app: web.Application, conversation_id: str, work: Callable[[], Awaitable[Any]]) -> None:
    """`work()` once the conversation's current turn (a relay to the bot) is over."""
    try:
        async with app[LOCKS].hold(conversation_id, wait_seconds=app[CONFIG].relay_lock_wait_seconds):
            await work()
    except LockTimeout:
        await work()
    except Exception:
        logger.exception("assignment: telling the user of %s failed", conversation_id)


async def assign(app: web.Application) -> list[tuple[dict[str, Any], AgentInfo]]:
    """One assignment pass over the waiting conversations; pushes what it assigned."""
    config = app[CONFIG]
    try:
        async with app[LOCKS].hold(ASSIGNMENT_LOCK, wait_seconds=10):
            made = await app[DATABASE].write(
                repository.assign_waiting, config.presence_timeout_seconds, config.max_concurrent
            )
    except LockTimeout:
        logger.info("assignment busy on another instance; the periodic round follows up")
        return []
    for conversation, agent in made:
        await _announce(app, conversation, agent)
    for queue in {conversation["queue"] for conversation, _ in made}:
        await services.refresh_positions(app, queue)
    return made


async def _announce(app: web.Application, conversation: dict[str, Any], agent: AgentInfo) -> None:
    hub = app[HUB]
    await hub.to_agents({"type": "assigned", "conversation_id": conversation["id"], "conversation": conversation},
                        agent=agent.username)
    await services.push_conversation_event(app, "claimed", conversation, agent)

    async def tell() -> None:
        state = await app[DATABASE].read(repository.conversation_state, conversation["id"])
        if state["status"] == CLAIMED and state["agent"] == agent.username:
            await services.tell_user(app, state, "agent_joined", "agent", agent=agent.name)

    spawn(app, after_turn(app, conversation["id"], tell))


async def after_escalation(app: web.Application, conversation_id: str, new: bool = True) -> None:
    """A conversation entered the queue (intake, the bot's marker, a transfer): assign it, or,
    when it is new and no agent of its queue is online, offer the user a ticket or to wait
    (after the bot's reply that queued them)."""
    await assign(app)
    if not new:
        return

    async def note() -> None:
        from handoff import waiting

        await waiting.nobody_online_note(app, conversation_id)

    spawn(app, after_turn(app, conversation_id, note))


async def periodic_round(app: web.Application) -> None:
    """Reassignment, first-response alerts and assignment, on one instance at a time."""
    async with app[LOCKS].try_hold(ROUND_LOCK) as held:
        if not held:
            return
        await reassign(app)
        await deadline_alerts(app)
        await assign(app)


async def reassign(app: web.Application) -> list[dict[str, Any]]:
    config = app[CONFIG]
    moved = await app[DATABASE].write(
        repository.reassign_offline, config.presence_timeout_seconds, config.reassign_after_seconds
    )
    hub = app[HUB]
    for conversation in moved:
        await hub.to_agents({"type": "reassigned", "conversation_id": conversation["id"],
                             "status": WAITING, "queue": conversation["queue"],
                             "agent": None, "by": conversation["previous_agent"]}, queue=conversation["queue"])
        await services.tell_user(app, conversation, "requeued", "agent")
        await services.announce_escalation(app, conversation["id"])
    for queue in {c["queue"] for c in moved}:
        await services.refresh_positions(app, queue)
    return moved


async def deadline_alerts(app: web.Application) -> int:
    config = app[CONFIG]
    horizon = utcnow() + timedelta(minutes=config.deadline_alert_minutes)
    alerts = await app[DATABASE].write(repository.due_deadline_alerts, horizon, config.deadline_alert_priorities)
    sent = 0
    for alert in alerts:
        for username in await app[DATABASE].read(
            repository.online_usernames, config.presence_timeout_seconds, alert["queue"]
        ):
            await app[HUB].to_agents(alert, agent=username)
            sent += 1
    return sent


async def conversations(request: web.Request) -> web.Response:
    """`?mine=true`: the agent's open (claimed) conversations, with or without a console tab."""
    agent = await require_agent(request)
    mine = request.query.get("mine", "").lower()
    if mine not in ("true", "1"):
        raise BadRequest("only '?mine=true' is supported here; the queue is GET /api/queue", code="invalid_query")
    return answer(await request.app[DATABASE].read(repository.my_conversations, agent.username))


async def _every(seconds: float, work: Callable[[web.Application], Awaitable[object]], app: web.Application) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await work(app)
        except Exception:  # a failed round must not end the job
            logger.exception("assignment round failed")


async def assignment_ctx(app: web.Application) -> AsyncIterator[None]:
    app[TASKS] = set()
    job = asyncio.create_task(_every(app[CONFIG].assignment_check_seconds, periodic_round, app),
                              name="handoff-assignment")
    yield
    job.cancel()
    tasks = [job, *app[TASKS]]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/conversations", conversations)
