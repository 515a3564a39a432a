"""The scaled topology (`make cluster`), over the contract only: two live-agent instances behind
HAProxy, two Rasa processes, two action servers, PostgreSQL and Redis, all supervised.

The tests run in this order on one cluster; the last one stops it as Ctrl-C does.
"""
from __future__ import annotations

import asyncio
import os
import signal
import time
import urllib.error
import urllib.request

import aiohttp
import pytest
from sqlalchemy import create_engine, text

from bot.settings import get_settings
from handoff.rasa import HashRing
from scripts.cluster import port_in_use
from tests.cluster.client import Agent, Widget, token_for, user_texts
from tests.cluster.conftest import TIMINGS, RunningCluster

pytestmark = pytest.mark.cluster

QUESTIONS = [
    "Unter welcher Nummer erreiche ich den Support in Frankreich?",
    "Was ist im Premier-Plan enthalten?",
    "Wie schnell reagiert ihr bei Priorität P2?",
    "What is the support phone number in Spain?",
    "Danke, das hilft mir.",
]
OUTAGE = "Bei uns ist seit heute Morgen alles ausgefallen, kein einziges Meeting startet mehr."
ASK_FOR_AGENT = "Bitte verbinden Sie mich mit einem Mitarbeiter."
BACK_SECONDS = 420


def rasa_tracker(cluster: RunningCluster, index: int, conversation_id: str) -> list[dict]:
    url = (f"{cluster.cluster.rasa_url(index)}/conversations/{conversation_id}/tracker"
           f"?token={get_settings().rasa_api_token}")
    import json

    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())["events"]


def wait_until_back(cluster: RunningCluster, program: str, old_pid: int, health_url: str) -> float:
    """Seconds until supervisor has `program` running again (a new pid) and it answers."""
    began = time.monotonic()
    while time.monotonic() - began < BACK_SECONDS:
        pid = cluster.pid(program)
        if pid and pid != old_pid:
            try:
                with urllib.request.urlopen(health_url, timeout=3) as response:
                    if response.status == 200:
                        return time.monotonic() - began
            except OSError:
                pass
        time.sleep(1)
    pytest.fail(f"{program} not back after {BACK_SECONDS} s")


async def escalate(widget: Widget) -> dict:
    """A Premier+ user's outage report is queued at once; ask for an agent if it was not."""
    await widget.send(OUTAGE)
    try:
        return await widget.next("handoff", timeout=60, status="queued")
    except asyncio.TimeoutError:
        await widget.send(ASK_FOR_AGENT)
        return await widget.next("handoff", timeout=60, status="queued")


def test_every_instance_reports_its_health(cluster: RunningCluster):
    import json

    names = set()
    for index in range(2):
        with urllib.request.urlopen(f"{cluster.instance_url(index)}/health", timeout=5) as response:
            body = json.loads(response.read())
        assert (body["status"], body["database"], body["bus"], body["rasa"]) == ("ok", "postgresql", "redis", True)
        assert body["version"]
        names.add(body["instance"])
    assert names == {"handoff-1", "handoff-2"}


async def test_cross_instance_walk(cluster: RunningCluster):
    """Escalated on instance 1, pushed to an agent on instance 2; claim, messages both ways
    and the hand-back go across; the bot answers again after it."""
    began = time.monotonic()
    async with aiohttp.ClientSession() as http:
        agent = await (await Agent(http, cluster.instance_url(1)).login()).connect()
        user = await Widget(http, cluster.instance_url(0), token=token_for("u-plus-member")).connect()
        marker = await escalate(user)
        conversation_id = user.conversation_id
        assert marker["conversation_id"] == conversation_id
        await agent.next("escalation", timeout=60)  # pushed across instances

        status, _ = await agent.call("POST", f"/api/conversations/{conversation_id}/claim")
        assert status == 200
        assert (await user.next("mode", timeout=30))["mode"] == "agent"
        await agent.call("POST", f"/api/conversations/{conversation_id}/messages", text="Hier ist Anna, ich sehe es mir an.")
        assert (await user.next("message", timeout=30, **{"from": "agent"}))["text"].startswith("Hier ist Anna")
        await user.send("Danke, wir warten.")
        pushed = await agent.next("user_message", timeout=30, conversation_id=conversation_id)
        assert pushed["message"]["text"] == "Danke, wir warten."

        status, body = await agent.call("POST", f"/api/conversations/{conversation_id}/release")
        assert status == 200 and body["tracker_event_delivered"] is True
        assert (await user.next("mode", timeout=30))["mode"] == "bot"
        assert (await user.ask(QUESTIONS[0]))["text"]

        conversation = await agent.conversation(conversation_id)
        assert user_texts(conversation) == user.sent
        await user.close()
        await agent.close()
    TIMINGS["cross-instance walk"] = time.monotonic() - began


async def test_forty_conversations_through_the_balancer(cluster: RunningCluster):
    began = time.monotonic()
    async with aiohttp.ClientSession() as http:
        async def conversation(n: int) -> Widget:
            widget = await Widget(http, cluster.public_url, token=token_for("u-biz-admin") if n % 2 else None,
                                  locale="de" if n % 3 else "en").connect()
            for turn in range(3):
                reply = await widget.ask(QUESTIONS[(n + turn) % len(QUESTIONS)], timeout=180)
                assert reply["text"] or reply.get("buttons")
            return widget

        widgets = await asyncio.gather(*(conversation(n) for n in range(40)))
        agent = await Agent(http, cluster.public_url).login()
        for widget in widgets:
            assert user_texts(await agent.conversation(widget.conversation_id)) == widget.sent
            await widget.close()
    TIMINGS["40 conversations x 3 messages via the balancer"] = time.monotonic() - began


async def test_concurrent_messages_of_one_conversation_lose_no_turn(cluster: RunningCluster):
    """Two sockets of one conversation on both instances send at once: every turn reaches the
    conversation's one Rasa process, in the order stored, exactly once."""
    async with aiohttp.ClientSession() as http:
        first = await Widget(http, cluster.instance_url(0)).connect()
        second = await Widget(http, cluster.instance_url(1), conversation_id=first.conversation_id).connect()
        texts = [f"{QUESTIONS[n % len(QUESTIONS)]} ({n})" for n in range(10)]
        await asyncio.gather(*((first if n % 2 else second).send(t) for n, t in enumerate(texts)))
        replies = 0
        while replies < len(texts):  # both sockets see every reply; count one socket's
            await first.reply(timeout=180)
            replies += 1
        agent = await Agent(http, cluster.public_url).login()
        stored = user_texts(await agent.conversation(first.conversation_id))
        assert sorted(stored) == sorted(texts) and len(stored) == len(texts)
        events = rasa_tracker(cluster, 0, first.conversation_id)
        assert [e["text"] for e in events if e["event"] == "user"] == stored
        await first.close()
        await second.close()


async def test_kill_9_of_a_rasa_process(cluster: RunningCluster):
    """Its conversations are answered by the other process at once; supervisor brings it back."""
    rasa_urls = [cluster.cluster.rasa_url(i) for i in range(2)]
    ring = HashRing(rasa_urls)
    async with aiohttp.ClientSession() as http:
        widgets = []
        while len(widgets) < 3:  # conversations whose own process is rasa-1
            widget = await Widget(http, cluster.public_url).connect()
            if ring.order(widget.conversation_id)[0] == rasa_urls[0]:
                assert (await widget.ask(QUESTIONS[1]))["text"]
                widgets.append(widget)
            else:
                await widget.close()
        old = cluster.kill("rasa-1")
        began = time.monotonic()
        for widget in widgets:
            assert (await widget.ask(QUESTIONS[2]))["text"]
        TIMINGS["rasa-1 killed: first answers by rasa-2"] = time.monotonic() - began
        TIMINGS["rasa-1 back (restarted, model loaded)"] = await asyncio.to_thread(
            wait_until_back, cluster, "rasa-1", old, f"{rasa_urls[0]}/status?token={get_settings().rasa_api_token}")
        agent = await Agent(http, cluster.public_url).login()
        for widget in widgets:
            assert (await widget.ask(QUESTIONS[3]))["text"]
            stored = user_texts(await agent.conversation(widget.conversation_id))
            assert stored == widget.sent
            in_rasa = [e["text"] for e in rasa_tracker(cluster, 1, widget.conversation_id) if e["event"] == "user"]
            assert in_rasa == stored  # each turn once in Rasa's tracker too
            await widget.close()


async def test_kill_9_of_an_action_server(cluster: RunningCluster):
    """Rasa's calls go through HAProxy to the other action server; supervisor brings it back."""
    async with aiohttp.ClientSession() as http:
        widgets = [await Widget(http, cluster.public_url, token=token_for("u-biz-admin")).connect() for _ in range(4)]
        old = cluster.kill("actions-1")
        began = time.monotonic()
        for widget in widgets:
            # Account-aware: answered by the action server (with the account's name in it).
            reply = await widget.ask("Darf ich euch mit meinem Konto auch anrufen?")
            assert reply["text"]
        TIMINGS["actions-1 killed: account answers via actions-2"] = time.monotonic() - began
        TIMINGS["actions-1 back"] = await asyncio.to_thread(
            wait_until_back, cluster, "actions-1", old, f"http://127.0.0.1:{cluster.ports.actions[0]}/health")
        for widget in widgets:
            assert (await widget.ask(QUESTIONS[0]))["text"]
            await widget.close()


async def test_kill_9_of_a_live_agent_instance(cluster: RunningCluster):
    """Users on the killed instance reconnect through the balancer, get their complete history
    and their unanswered message answered, once; supervisor brings the instance back."""

    async def carry_on(widget: Widget) -> bool:
        """The in-flight message answered, then one more; True if the socket was cut on the way."""
        try:
            await widget.reply(timeout=90)
            await widget.ask(QUESTIONS[4])
            return False
        except ConnectionError:
            pass
        for _attempt in range(60):  # as widget.js: reconnect, resume, send what was not acknowledged
            try:
                await widget.connect(cluster.public_url)
                break
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError):
                await asyncio.sleep(1)
        assert widget.welcome["resumed"] is True
        said = [m["text"] for m in widget.history if m["from"] == "user"]
        assert said == widget.sent[:len(said)]  # the history is complete up to the cut, in order
        await widget.resend_unacked()
        if not (said == widget.sent and widget.history[-1]["from"] == "bot"):
            assert (await widget.reply(timeout=120))["text"]  # what was not answered yet, once
        assert (await widget.ask(QUESTIONS[0]))["text"]
        return True

    async with aiohttp.ClientSession() as http:
        widgets = [await Widget(http, cluster.public_url).connect() for _ in range(8)]
        for n, widget in enumerate(widgets):
            assert (await widget.ask(QUESTIONS[n % len(QUESTIONS)]))["text"]
        pid = cluster.pid("handoff-1")
        for widget in widgets:  # a message in flight on every socket, then the instance dies
            await widget.send("Und wie erreiche ich euch in Italien?")
        os.killpg(pid, signal.SIGKILL)
        began = time.monotonic()
        cut = await asyncio.gather(*(carry_on(widget) for widget in widgets))
        assert any(cut), "no socket was on the killed instance"
        TIMINGS["handoff-1 killed: cut users answered after reconnecting"] = time.monotonic() - began
        TIMINGS["handoff-1 back"] = await asyncio.to_thread(
            wait_until_back, cluster, "handoff-1", pid, f"{cluster.instance_url(0)}/health")
        agent = await Agent(http, cluster.public_url).login()
        for widget in widgets:
            assert user_texts(await agent.conversation(widget.conversation_id)) == widget.sent
            await widget.close()


def test_rasa_connects_with_the_database_url_query(cluster: RunningCluster):
    """The tracker store keeps `?application_name=…` of DATABASE_URL (it used to drop it)."""
    engine = create_engine(cluster.cluster.database_url("bolt-test"), future=True)
    try:
        with engine.connect() as connection:
            names = set(connection.execute(text(
                "SELECT application_name FROM pg_stat_activity WHERE datname = 'bolt'")).scalars())
    finally:
        engine.dispose()
    assert {"bolt-rasa-1", "bolt-rasa-2", "bolt-handoff-1", "bolt-handoff-2"} <= names


async def test_sign_in_throttle_and_sign_out_hold_across_the_balanced_instances(cluster: RunningCluster):
    """Limits in Redis: 20 wrong passwords through the balancer (spread over both instances,
    each seeing the client's address from X-Forwarded-For) lock the username on both; a sign-out
    through one is refused by each instance directly."""
    wrong = {"username": "throttled-in-cluster", "password": "guess"}
    async with aiohttp.ClientSession() as http:
        statuses = []
        for n in range(20):
            url = cluster.public_url if n % 2 else cluster.instance_url(n // 2 % 2)
            async with http.post(f"{url}/api/agents/login", json=wrong) as response:
                statuses.append(response.status)
        assert statuses == [401] * 20
        for url in (cluster.instance_url(0), cluster.instance_url(1), cluster.public_url):
            async with http.post(f"{url}/api/agents/login", json=wrong) as response:
                assert response.status == 429 and 30 <= int(response.headers["Retry-After"]) <= 60
        tom = await Agent(http, cluster.public_url, "tom").login()
        async with http.post(f"{cluster.public_url}/api/agents/logout", headers=tom.headers) as response:
            assert response.status == 204
        for index in range(2):
            async with http.get(f"{cluster.instance_url(index)}/api/agents/me", headers=tom.headers) as response:
                assert response.status == 401


def test_the_action_servers_answer_webhook_only_with_the_secret(cluster: RunningCluster):
    for port in (*cluster.ports.actions, cluster.ports.actions_balancer):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=b"{}",
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()  # the error holds the response and its socket
        assert refused.value.code == 401


def test_zz_ctrl_c_stops_everything_within_10_seconds(cluster: RunningCluster):
    seconds = cluster.stop()
    TIMINGS["Ctrl-C to every process stopped"] = seconds
    assert cluster.process.returncode == 0, cluster.output()[-2000:]
    assert seconds < 10
    assert [port for port in cluster.ports.all() if port_in_use(port)] == []
