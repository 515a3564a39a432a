"""Agent roles: the supervisor of the demo file, seeded and shown; re-seeding adds missing roles."""
from __future__ import annotations

from sqlalchemy import update

from handoff import repository
from handoff.db import Database, make_engine
from handoff.models import Agent
from tests.handoff.conftest import login


async def test_the_demo_supervisor_has_the_role(client):
    sara = await (await client.get("/api/agents/me", headers=await login(client, "sara"))).json()
    anna = await (await client.get("/api/agents/me", headers=await login(client, "anna"))).json()
    assert sara["roles"] == ["supervisor"] and anna["roles"] == []


def test_seeding_gives_an_existing_agent_the_roles_of_the_file(database_url):
    database = Database(make_engine(database_url), threads=1)
    try:
        database.write_sync(lambda s: s.execute(update(Agent).values(roles=None)))
        assert database.read_sync(repository.find_agent, "sara").roles == ()
        created = database.write_sync(repository.seed_agents, [
            {"username": "sara", "password": "ignored", "name": "Sara", "tiers": ["tier1"], "roles": ["supervisor"]}])
        sara = database.read_sync(repository.find_agent, "sara")
        assert created == [] and sara.roles == ("supervisor",) and sara.tiers == ("tier1", "tier2")
    finally:
        database.close()
