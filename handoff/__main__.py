"""`python -m handoff [serve|migrate|seed]`: the live-agent service's one entry point.

`serve` (the default) migrates the database, seeds the demo agents (development only) and
starts the service on HANDOFF_PORT. It refuses to start in production with development secrets.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import yaml
from aiohttp import web
from aiohttp.web_log import AccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from bot.database import migration_lock
from bot.settings import InsecureSettings, get_settings
from handoff import repository
from handoff.app import create_app
from handoff.config import HandoffConfig
from handoff.db import Database, make_engine
from handoff.migrate import upgrade


class QuietAccessLogger(AccessLogger):
    """The access log without the load balancer's health checks (one a second per balancer)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if request.path == "/health" and response.status == 200:
            return
        super().log(request, response, time)


def seed_demo_agents(config: HandoffConfig) -> list[str]:
    data = yaml.safe_load(config.demo_file.read_text(encoding="utf-8")) or {}
    database = Database(make_engine(config.database_url), threads=1)
    try:
        # Instances starting together would otherwise insert the same agents at once.
        with migration_lock(config.database_url):
            return database.write_sync(repository.seed_agents, data.get("agents") or [])
    finally:
        database.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "migrate", "seed"))
    parser.add_argument("--host", default="0.0.0.0")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = get_settings()
    except InsecureSettings as error:
        print(f"handoff: {error}", file=sys.stderr)
        return 2
    config = HandoffConfig(settings=settings)
    if args.command in ("migrate", "serve"):
        upgrade(config.database_url)
    if args.command == "seed" and settings.production:
        print("handoff: the demo agents are not for production", file=sys.stderr)
        return 2
    if args.command == "seed" or (args.command == "serve" and not settings.production):
        created = seed_demo_agents(config)
        if created:
            logging.info("demo agents created: %s", ", ".join(created))
    if args.command == "serve":
        print(
            f"live-agent service on http://localhost:{settings.handoff_port}/ "
            f"(agent console: /agent)",
            flush=True,
        )
        # Sockets are closed on shutdown (app.close_sockets): a stop takes seconds, not a minute.
        # uvloop (as Rasa's and the action server's Sanic use it): the faster event loop, when there.
        try:
            import uvloop
        except ImportError:
            uvloop = None
        if uvloop is not None:
            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        web.run_app(create_app(config), host=args.host, port=settings.handoff_port, print=None,
                    shutdown_timeout=5, access_log_class=QuietAccessLogger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
