"""The live-agent service as an aiohttp application: `create_app(config)`."""
from __future__ import annotations

import logging
from typing import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web

from handoff import (
    agents, assignment, canned, deliveries, integrations, internal, metrics, notes, pages, presence, privacy, waiting,
    widget,
)
from handoff.background import background_ctx
from handoff.config import HandoffConfig
from handoff.db import Database, make_engine
from handoff.errors import HandoffError
from handoff.bus import Bus, MemoryBus, RedisBus
from handoff.hub import Hub
from handoff.httputil import answer
from handoff.locks import MemoryLocks, RedisLocks
from handoff.ratelimit import RedisSenderLimits, SenderLimits
from handoff.rasa import RasaClient
from handoff.sla import load_sla_table
from handoff.throttle import MemorySignInThrottle, RedisSignInThrottle
from handoff.state import (
    CONFIG,
    DATABASE,
    HUB,
    LOCKS,
    RASA,
    RELAY_BACKOFF,
    SENDER_LIMITS,
    SIGNIN_THROTTLE,
    SLA_TABLE,
)

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place where errors become HTTP answers, always as JSON."""
    try:
        return await handler(request)
    except HandoffError as error:
        response = answer(error_body(error.code, error.message), status=error.status)
        response.headers.update(getattr(error, "headers", {}))
        return response
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = (error.reason or "error").lower().replace(" ", "_")
        return answer(error_body(code, error.reason or "error"), status=error.status)
    except Exception:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return answer(error_body("internal", "internal error"), status=500)


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    settings = config.settings
    engine = make_engine(config.database_url, settings.database_pool_size, settings.database_max_overflow)
    app[DATABASE] = Database(engine, threads=config.database_threads)
    yield
    app[DATABASE].close()


async def backplane_ctx(app: web.Application) -> AsyncIterator[None]:
    """What the instances share besides the database: pushes, locks, rate limits, sign-in throttle.

    With `REDIS_URL`, Redis carries them (any number of instances); without, they stay in
    this process (one instance, as `make run` starts it).
    """
    config = app[CONFIG]
    client = None
    if config.settings.redis_url:
        import redis.asyncio as redis

        client = redis.Redis.from_url(
            config.settings.redis_url, socket_connect_timeout=2, socket_timeout=5,
            health_check_interval=15,
        )
        bus: Bus = RedisBus(client)
        app[LOCKS] = RedisLocks(client)
        app[SENDER_LIMITS] = RedisSenderLimits(client, config.sender_burst, config.sender_rate)
        app[SIGNIN_THROTTLE] = RedisSignInThrottle(client)
    else:
        bus = MemoryBus()
        app[LOCKS] = MemoryLocks()
        app[SENDER_LIMITS] = SenderLimits(config.sender_burst, config.sender_rate)
        app[SIGNIN_THROTTLE] = MemorySignInThrottle()
    app[HUB] = Hub(bus)
    await app[HUB].start()
    yield
    await bus.close()
    if client is not None:
        await client.close()
        # redis-py 4.6 leaves the pool's sockets to the garbage collector otherwise.
        await client.connection_pool.disconnect()


async def rasa_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    async with aiohttp.ClientSession() as http:
        app[RASA] = RasaClient(
            http, config.settings.rasa_urls or config.settings.rasa_url,
            config.settings.rasa_api_token, config.rasa_timeout_seconds,
        )
        yield


async def close_sockets(app: web.Application) -> None:
    await app[HUB].close_all()


def create_app(config: HandoffConfig) -> web.Application:
    """The application; the database must be migrated (`python -m handoff migrate`)."""
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[error_middleware])
    app[CONFIG] = config
    integrations.check_targets(config.settings)
    app[SLA_TABLE] = load_sla_table(config.settings.knowledge_dir)
    app[RELAY_BACKOFF] = {}
    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(backplane_ctx)
    app.cleanup_ctx.append(rasa_ctx)
    app.cleanup_ctx.append(background_ctx)
    app.cleanup_ctx.append(integrations.outbox_ctx)
    app.cleanup_ctx.append(metrics.metrics_ctx)
    app.cleanup_ctx.append(privacy.retention_ctx)
    app.cleanup_ctx.append(presence.presence_ctx)
    app.cleanup_ctx.append(assignment.assignment_ctx)
    app.on_shutdown.append(close_sockets)
    app.on_response_prepare.append(pages.add_security_headers)
    pages.add_routes(app)
    widget.add_routes(app)
    agents.add_routes(app)
    internal.add_routes(app)
    deliveries.add_routes(app)
    notes.add_routes(app)
    canned.add_routes(app)
    privacy.add_routes(app)
    metrics.add_routes(app)
    presence.add_routes(app)
    assignment.add_routes(app)
    waiting.add_routes(app)
    return app
