"""`GET /metrics` (Prometheus text format, no sign-in) and the supervisors' `GET /api/stats/today`.

Two kinds of series, chosen by where the fact lives:

- **Facts of rows, computed from the database at each scrape** (a custom collector):
  `bolt_queue_waiting{queue,priority}`, `bolt_wait_seconds` (escalation to the first agent
  message), `bolt_sla_breaches_total{priority}` (first-response deadlines missed),
  `bolt_csat_score`, `bolt_conversations_total{outcome}` (`bot_only`, `escalated`, `resolved`,
  `ticket`), and from Rasa's tracker events in the same database `bolt_bot_messages_total`,
  `bolt_bot_fallbacks_total` and `bolt_bot_fallback_ratio` (the share of user messages Rasa
  classified as `nlu_fallback`). Every instance answers the same cluster-wide numbers, and
  they survive restarts and a conversation moving between instances, which per-process
  counters would not (a conversation escalated on one instance and answered on another, a
  restarted instance's counters starting at zero). Query them with `max by (...)` (or scrape
  one instance through the load balancer): summing them over instances would multiply them.
- **Per instance, for Prometheus to sum**: `bolt_rasa_answer_seconds` (this instance's round
  trips to Rasa: `sum by (le) (rate(bolt_rasa_answer_seconds_bucket[5m]))`) and
  `bolt_agents_online{queue}` (agent consoles connected to this instance: `sum by (queue)`);
  an agent with consoles on two instances counts twice until presence is shared.
"""
from __future__ import annotations

import logging
from typing import AsyncIterator, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from handoff.httputil import answer, require_role
from handoff.models import QUEUES
from handoff.repository import stats
from handoff.state import DATABASE, HUB, RASA

logger = logging.getLogger(__name__)

SUPERVISOR = "supervisor"
REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)
RASA_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def _histogram(name: str, documentation: str, data: dict) -> HistogramMetricFamily:
    buckets = [(_le(le), float(n)) for le, n in data["buckets"]] + [("+Inf", float(data["count"]))]
    return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=data["sum"])


def _le(value: float) -> str:
    return str(float(value))


class DatabaseCollector:
    """The series that are facts of rows; computed when scraped (one read transaction)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.snapshot: dict | None = None

    def collect(self) -> Iterator[Metric]:
        data = self.snapshot
        if data is None:
            return
        waiting = GaugeMetricFamily("bolt_queue_waiting", "Conversations waiting for an agent",
                                    labels=["queue", "priority"])
        for (queue, priority), count in sorted(data["waiting"].items()):
            waiting.add_metric([queue, priority], count)
        yield waiting
        yield _histogram("bolt_wait_seconds", "Escalation to the first agent message, in seconds", data["wait"])
        breaches = CounterMetricFamily("bolt_sla_breaches", "First-response deadlines missed", labels=["priority"])
        for priority, count in sorted(data["breaches"].items()):
            breaches.add_metric([priority], count)
        yield breaches
        yield _histogram("bolt_csat_score", "CSAT ratings after a resolve (1-5)", data["csat"])
        outcomes = CounterMetricFamily("bolt_conversations", "Conversations by outcome", labels=["outcome"])
        for outcome, count in data["outcomes"].items():
            outcomes.add_metric([outcome], count)
        yield outcomes
        bot = data["bot"]
        if bot is not None:
            yield CounterMetricFamily("bolt_bot_messages", "User messages in Rasa's tracker store", value=bot["messages"])
            yield CounterMetricFamily("bolt_bot_fallbacks", "User messages Rasa classified as nlu_fallback",
                                      value=bot["fallbacks"])
            ratio = bot["fallbacks"] / bot["messages"] if bot["messages"] else 0.0
            yield GaugeMetricFamily("bolt_bot_fallback_ratio", "Share of user messages Rasa fell back on", value=ratio)


class InstanceCollector:
    """This instance's connected agent consoles per queue."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        online = GaugeMetricFamily("bolt_agents_online", "Agents with a console connected to this instance",
                                   labels=["queue"])
        agents = {info.username: info for info in self.app[HUB].agents.values()}
        for queue in QUEUES:
            online.add_metric([queue], sum(1 for info in agents.values() if info.can_handle(queue)))
        yield online


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[REGISTRY]
    collector: DatabaseCollector = request.app[DATABASE_COLLECTOR]
    # The database work runs off the event loop; the collector only formats what it read.
    collector.snapshot = await request.app[DATABASE].read(stats.metrics_snapshot)
    body = generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def today(request: web.Request) -> web.Response:
    await require_role(request, SUPERVISOR)
    return answer(await request.app[DATABASE].read(stats.today))


DATABASE_COLLECTOR = web.AppKey("metrics_database_collector", DatabaseCollector)


async def metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """A registry per application (tests build many), and the Rasa client's latency hook."""
    registry = CollectorRegistry(auto_describe=False)
    app[DATABASE_COLLECTOR] = DatabaseCollector(app)
    registry.register(app[DATABASE_COLLECTOR])
    registry.register(InstanceCollector(app))
    latency = Histogram("bolt_rasa_answer_seconds", "Time Rasa took to answer one user message (this instance)",
                        registry=registry, buckets=RASA_LATENCY_BUCKETS)
    app[RASA].on_answer = latency.observe
    app[REGISTRY] = registry
    yield


def add_routes(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/stats/today", today)
