"""The escalation and ticket actions against the real live-agent service (`handoff.app`)."""
from __future__ import annotations

import pytest
from aiohttp import ClientSession

from actions.escalation import ActionEscalate, ActionTriageProblem
from actions.ticket import ActionSubmitTicket
from bot.settings import get_settings
from tests.actions.conftest import actions_client, decision, handoff_markers, load_tracker, run_action, texts, token_for

import handoff.app as handoff_app


@pytest.fixture
async def live_agent_service(aiohttp_server, accounts_db):
    """The real service on the test's database (its own migrations next to ours)."""
    from handoff.__main__ import seed_demo_agents
    from handoff.config import HandoffConfig
    from handoff.migrate import upgrade

    upgrade(accounts_db)
    config = HandoffConfig(settings=get_settings(), sla_check_seconds=3600)
    seed_demo_agents(config)
    server = await aiohttp_server(handoff_app.create_app(config))
    async with actions_client(str(server.make_url(""))):
        yield server


async def _agent_get(server, path: str):
    async with ClientSession() as http:
        async with http.post(server.make_url("/api/agents/login"),
                             json={"username": "tom", "password": "tom-demo-pass"}) as response:
            assert response.status == 200
            token = (await response.json())["token"]
        async with http.get(server.make_url(path), headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200, await response.text()
            return await response.json()


async def test_queued_conversation_reaches_the_agents_with_its_transcript(live_agent_service, domain_dict):
    tracker = load_tracker("problem_then_request_de", token_for("u-biz-member"))
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    marker = handoff_markers(messages)[0]
    assert (marker["status"], marker["queue"], marker["prioritized"], marker["position"]) == (
        "queued", "tier1", False, 1)
    conversation = await _agent_get(live_agent_service, f"/api/conversations/{tracker.sender_id}")
    assert (conversation["queue"], conversation["priority"]) == ("tier1", "P3")
    said = " ".join(line["text"] for line in conversation["transcript"] if line["from"] == "user")
    assert "Unsere Cloud-Aufzeichnungen" in said and "mit einem Mitarbeiter verbinden" in said


async def test_second_escalation_of_the_same_conversation_is_not_duplicated(live_agent_service, domain_dict):
    tracker = load_tracker("problem_then_request_de", token_for("u-premier-admin"))
    await run_action(ActionEscalate(), tracker, domain_dict)
    messages, _ = await run_action(ActionEscalate(), tracker, domain_dict)
    assert handoff_markers(messages)[0]["position"] == 1
    queue = await _agent_get(live_agent_service, "/api/queue")
    assert [c["id"] for c in queue].count(tracker.sender_id) == 1


async def test_premier_plus_outage_is_queued_first(live_agent_service, domain_dict):
    await run_action(ActionEscalate(), load_tracker("problem_then_request_de", token_for("u-biz-admin")), domain_dict)
    tracker = load_tracker("outage_report_de", token_for("u-plus-admin"))
    messages, _ = await run_action(ActionTriageProblem(), tracker, domain_dict)
    assert decision(messages) == ("queued", "tier2", "P1", True)
    queue = await _agent_get(live_agent_service, "/api/queue")
    assert queue[0]["id"] == tracker.sender_id


async def test_web_ticket_is_stored(live_agent_service, domain_dict):
    tracker = load_tracker("ticket_form_done_de", "", email="jo@example.org")
    messages, _ = await run_action(ActionSubmitTicket(), tracker, domain_dict)
    tickets = await _agent_get(live_agent_service, "/api/tickets")
    assert len(tickets) == 1 and tickets[0]["ticket_id"] in texts(messages)


def _said_next(tracker, text: str, intent: str = "ask_priority"):
    """The tracker after the user sent `text` over the REST channel while queued."""
    event = {"event": "user", "text": text, "timestamp": 1764093700.0,
             "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": [],
                            "language": {"code": "de", "confidence": 0.9}}}
    tracker.events.append(event)
    tracker.latest_message = {"text": text, "intent": event["parse_data"]["intent"], "entities": []}
    tracker.slots["handoff_status"] = "queued"
    return tracker


async def test_a_queued_rest_users_messages_reach_the_agents_and_leaving_ends_the_wait(live_agent_service, domain_dict):
    from actions.waiting import ActionRelayToAgent

    tracker = load_tracker("problem_then_request_de", token_for("u-biz-member"))
    await run_action(ActionEscalate(), tracker, domain_dict)
    messages, events = await run_action(ActionRelayToAgent(), _said_next(tracker, "Wie lange dauert das noch?"),
                                        domain_dict)
    assert "an das Support-Team weitergegeben" in texts(messages) and "Position 1" in texts(messages)
    assert events == []
    conversation = await _agent_get(live_agent_service, f"/api/conversations/{tracker.sender_id}")
    assert [t["text"] for t in conversation["transcript"] if t["from"] == "user"][-1] == "Wie lange dauert das noch?"

    messages, events = await run_action(
        ActionRelayToAgent(), _said_next(tracker, "bitte nehmen Sie mich aus der Warteschlange", "leave_queue"),
        domain_dict)
    assert "Warteschlange verlassen" in texts(messages) and messages[0]["buttons"]
    assert events == [{"event": "slot", "timestamp": None, "name": "handoff_status", "value": None}]
    assert (await _agent_get(live_agent_service, f"/api/conversations/{tracker.sender_id}"))["status"] == "bot"
    # with the bot again (the slot was stale in this tracker): the bot says so
    messages, events = await run_action(ActionRelayToAgent(), _said_next(tracker, "hallo?"), domain_dict)
    assert "wieder beim Bot" in texts(messages)


async def test_a_queued_rest_user_who_changes_their_mind_leaves_the_queue(live_agent_service, domain_dict):
    from actions.waiting import ActionRelayToAgent

    tracker = load_tracker("problem_then_request_de", token_for("u-biz-member"))
    await run_action(ActionEscalate(), tracker, domain_dict)
    messages, events = await run_action(
        ActionRelayToAgent(), _said_next(tracker, "hat sich erledigt, danke, brauche niemanden mehr", "cancel"),
        domain_dict)
    assert "Warteschlange verlassen" in texts(messages)
    assert events == [{"event": "slot", "timestamp": None, "name": "handoff_status", "value": None}]
    assert (await _agent_get(live_agent_service, f"/api/conversations/{tracker.sender_id}"))["status"] == "bot"


async def test_a_queued_rest_user_corrects_the_priority_in_words(live_agent_service, domain_dict):
    from actions.waiting import ActionRelayToAgent

    tracker = load_tracker("problem_then_request_de", token_for("u-biz-member"))
    await run_action(ActionEscalate(), tracker, domain_dict)
    tracker = _said_next(tracker, "Korrektur: das ist eher P2, wichtige Teile sind beeinträchtigt", "correction")
    tracker.latest_message["entities"] = [{"entity": "priority", "value": "P2", "start": 22, "end": 24}]
    messages, _ = await run_action(ActionRelayToAgent(), tracker, domain_dict)
    assert "auf P2 geändert" in texts(messages)
    assert (await _agent_get(live_agent_service, f"/api/conversations/{tracker.sender_id}"))["priority"] == "P2"
