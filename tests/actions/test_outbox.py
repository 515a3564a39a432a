"""The outbox: tickets that waited for the live-agent service are forwarded once, however many
action servers flush at the same moment, and by the periodic job without any new call."""
from __future__ import annotations

import asyncio

from actions.api import handoff
from bot.accounts import repository
from bot.accounts.db import session_scope
from bot.settings import get_settings
from tests.actions.conftest import FakeLiveAgentService, actions_client


def _waiting_tickets(count: int) -> list[str]:
    ids = []
    with session_scope() as session:
        for n in range(count):
            ticket_id = handoff.new_ticket_id()
            repository.add_outbox_entry(session, "ticket", ticket_id, f"conv-{n}", {
                "ticket_id": ticket_id, "conversation_id": f"conv-{n}", "subject": "s", "description": "d"})
            ids.append(ticket_id)
    return ids


async def test_two_action_servers_flushing_at_once_forward_each_ticket_once(accounts_db, aiohttp_server):
    ids = _waiting_tickets(12)
    service = FakeLiveAgentService(token=get_settings().service_token)
    server = await aiohttp_server(service.app())
    clients = [handoff.HandoffClient(str(server.make_url("")), get_settings().service_token) for _ in range(3)]
    try:
        delivered = await asyncio.gather(*(handoff.flush_outbox(c, limit=5) for c in clients for _ in range(2)))
        assert sum(delivered) == len(ids)
        received = [t["ticket_id"] for t in service.tickets]
        assert sorted(received) == sorted(ids)  # each once (the fake counts repeats apart)
        assert await handoff.flush_outbox(clients[0]) == 0
    finally:
        for client in clients:
            await client.close()


async def test_the_periodic_job_forwards_without_a_new_call(accounts_db, aiohttp_server):
    ids = _waiting_tickets(2)
    service = FakeLiveAgentService(token=get_settings().service_token)
    server = await aiohttp_server(service.app())
    async with actions_client(str(server.make_url(""))):
        job = asyncio.create_task(handoff.outbox_job(0.05))
        try:
            for _ in range(100):
                if len(service.tickets) == len(ids):
                    break
                await asyncio.sleep(0.05)
            assert sorted(t["ticket_id"] for t in service.tickets) == sorted(ids)
        finally:
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)


async def test_a_failed_flush_gives_its_claims_back(accounts_db, live_agent_down):
    ids = _waiting_tickets(3)
    assert await handoff.flush_outbox(live_agent_down) == 0
    with session_scope() as session:
        again = repository.claim_outbox(session, 10, 60)
    assert [entry_id for entry_id, _, _ in again] and len(again) == len(ids)
