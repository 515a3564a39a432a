"""Generated input (hypothesis) against the widget protocol (`/ws/chat`), the agent socket
(`/ws/agent`) and the intake API (`/internal/intake`) of a real app on a real database: every
frame gets an answer the protocol knows (an error frame or a 4xx), never a crash, a 500 or a
stack trace, and the service keeps serving the same socket and the next client."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from aiohttp import WSMsgType
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.handoff.conftest import SERVICE_TOKEN, closed_with, identity, login, receive

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Valid UTF-8 only where the text goes on the wire as it is (a websocket text frame must be);
# inside JSON, lone surrogates arrive escaped (\ud800) and are fair game.
wire_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=60))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
plausible_text = st.sampled_from(["", " ", "hi", "agent please", "<script>alert(1)</script>", "x" * 5000,
                                  "Mein Passwort ist hunter2", "\u0000", "\ud800"]) | st.text(max_size=300)
token_like = st.sampled_from(["", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbm5hIn0.", identity()]) | json_values

widget_frames = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["hello", "message", "ping", "transcript_email", "csat", "typing", "HELLO", ""])},
        optional={"token": token_like, "locale": st.sampled_from(["de", "en", "fr", ""]) | json_values,
                  "conversation_id": st.text(max_size=200) | json_values, "text": plausible_text | json_values,
                  "client_id": st.text(max_size=100) | json_values, "score": json_values},
    ).map(lambda frame: ("text", json.dumps(frame))),
    json_values.map(lambda value: ("text", json.dumps(value))),
    wire_text.map(lambda text: ("text", text)),
    st.binary(max_size=200).map(lambda data: ("binary", data)),
)

ERROR_ONLY_CODES = {"internal"}


def check_frame(frame: Any) -> None:
    assert isinstance(frame, dict) and isinstance(frame.get("type"), str), frame
    if frame["type"] == "error":
        assert isinstance(frame.get("code"), str) and isinstance(frame.get("message"), str), frame
        assert frame["code"] not in ERROR_ONLY_CODES, frame
        assert "Traceback" not in frame["message"] and 'File "' not in frame["message"], frame


def no_logged_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    caplog.clear()
    assert errors == [], [r.getMessage() for r in errors]


async def send(ws, frame: tuple[str, Any]) -> None:
    kind, data = frame
    if kind == "binary":
        await ws.send_bytes(data)
    else:
        await ws.send_str(data)


async def frames_until_pong(ws, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Everything the server sends up to the answer to our ping (the frames are in order)."""
    received = []
    while True:
        msg = await asyncio.wait_for(ws.receive(), timeout)
        assert msg.type == WSMsgType.TEXT, f"the server ended the socket: {msg}"
        frame = json.loads(msg.data)
        check_frame(frame)
        if frame["type"] == "pong":
            return received
        received.append(frame)


@FUZZ
@given(frames=st.lists(widget_frames, min_size=1, max_size=6), greet=st.booleans())
async def test_the_widget_answers_any_frames_and_keeps_the_socket(client, caplog, frames, greet):
    ws = await client.ws_connect("/ws/chat")
    try:
        if greet:
            await ws.send_json({"type": "hello", "locale": "en"})
            check_frame(await receive(ws, "welcome"))
        for frame in frames:
            await send(ws, frame)
        await ws.send_json({"type": "ping"})
        await frames_until_pong(ws)
        # The same socket still serves a real conversation turn.
        await ws.send_json({"type": "ping"})
        await frames_until_pong(ws)
    finally:
        await ws.close()
    no_logged_errors(caplog)


agent_first_frames = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["auth", "ping", "AUTH", ""])}, optional={"token": token_like})
    .map(lambda frame: ("text", json.dumps(frame))),
    json_values.map(lambda value: ("text", json.dumps(value))),
    wire_text.map(lambda text: ("text", text)),
    st.binary(max_size=100).map(lambda data: ("binary", data)),
)


@FUZZ
@given(first=agent_first_frames)
async def test_the_agent_socket_refuses_any_other_first_frame_with_4401(client, caplog, first):
    ws = await client.ws_connect("/ws/agent")
    await send(ws, first)
    msg = await asyncio.wait_for(ws.receive(), 10)
    assert msg.type == WSMsgType.TEXT
    frame = json.loads(msg.data)
    check_frame(frame)
    assert frame["type"] == "error"
    assert await closed_with(ws) == 4401
    no_logged_errors(caplog)


@pytest.fixture
async def anna(client):
    return (await login(client, "anna"))["Authorization"].split()[1]


@FUZZ
@given(frames=st.lists(widget_frames, min_size=1, max_size=6))
async def test_a_signed_in_agent_socket_answers_any_frames_and_stays_open(client, anna, caplog, frames):
    ws = await client.ws_connect("/ws/agent")
    try:
        await ws.send_json({"type": "auth", "token": anna})
        check_frame(await receive(ws, "ready"))
        for frame in frames:
            await send(ws, frame)
        await ws.send_json({"type": "ping"})
        received = await frames_until_pong(ws)
        assert all(f["type"] in ("error", "pong", "escalation", "queue") for f in received), received
    finally:
        await ws.close()
    no_logged_errors(caplog)


intake_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "conversation_id": st.text(min_size=1, max_size=140) | json_values,
        "queue": st.sampled_from(["tier1", "tier2", "tier3", ""]) | json_values,
        "priority": st.sampled_from(["P1", "P2", "P3", "P4", "P5"]) | json_values,
        "prioritized": st.booleans() | json_values,
        "user_id": st.text(max_size=140) | json_values,
        "language": st.sampled_from(["de", "en", "xx"]) | json_values,
        "summary": plausible_text | json_values,
        "account": st.dictionaries(st.text(max_size=10), json_values, max_size=4) | json_values,
        "transcript": st.lists(st.fixed_dictionaries({}, optional={
            "from": st.sampled_from(["user", "bot", "agent", "x"]) | json_values,
            "text": plausible_text | json_values, "at": st.text(max_size=40) | json_values}), max_size=4) | json_values,
    }).map(lambda body: json.dumps(body).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=300),
)


@FUZZ
@given(body=intake_bodies, with_token=st.booleans())
async def test_the_intake_answers_any_body_with_2xx_or_4xx_never_500(client, caplog, body, with_token):
    headers = {"Content-Type": "application/json"}
    if with_token:
        headers["Authorization"] = f"Bearer {SERVICE_TOKEN}"
    response = await client.post("/internal/intake", data=body, headers=headers)
    assert response.status < 500, await response.text()
    answer = await response.json()
    if response.status >= 400:
        assert set(answer) == {"error"} and isinstance(answer["error"]["code"], str)
        assert "Traceback" not in answer["error"]["message"]
    if not with_token:
        assert response.status == 401
    assert (await client.get("/health")).status == 200
    no_logged_errors(caplog)
