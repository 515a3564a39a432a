"""Pages, static files, security headers, health, OpenAPI and the demo-only endpoints."""
from __future__ import annotations

import jwt

from handoff.pages import CONTENT_SECURITY_POLICY, version
from handoff.state import RASA
from tests.handoff.conftest import IDENTITY_SECRET


def static_dir(tmp_path):
    directory = tmp_path / "static"
    directory.mkdir()
    (directory / "index.html").write_text("<h1>help center</h1>", encoding="utf-8")
    (directory / "agent.html").write_text("<h1>console</h1>", encoding="utf-8")
    (directory / "widget.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    return directory


async def test_pages_with_security_headers(start, tmp_path):
    client = await start(static_dir=static_dir(tmp_path))
    for path, text in [("/", "help center"), ("/agent", "console"), ("/static/widget.js", "console.log")]:
        response = await client.get(path)
        assert response.status == 200 and text in await response.text()
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY


async def test_static_files_stay_in_their_folder(start, tmp_path):
    client = await start(static_dir=static_dir(tmp_path))
    for path in ["/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/nope.js"]:
        response = await client.get(path)
        assert response.status == 404
        assert "no" != await response.text()


async def test_unknown_route_and_method_are_json(client):
    missing = await client.get("/no/such/thing")
    assert missing.status == 404 and (await missing.json())["error"]["code"]
    wrong = await client.delete("/api/queue")
    assert wrong.status == 405 and (await wrong.json())["error"]["code"]


async def test_health_and_openapi(client, fake_rasa, database_backend):
    health = await client.get("/health")
    assert health.status == 200
    assert await health.json() == {"status": "ok", "instance": "test-instance", "database": database_backend,
                                   "bus": "memory", "rasa": True, "version": version()}
    fake_rasa.down = True
    client.app[RASA]._reachable = (0.0, True)  # past the health check's short cache
    assert (await (await client.get("/health")).json())["rasa"] is False
    fake_rasa.down = False  # back: seen at the next check, no cache in the way
    assert (await (await client.get("/health")).json())["rasa"] is True
    document = await (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    for path in ["/api/agents/login", "/api/queue", "/api/conversations/{id}", "/api/conversations/{id}/claim",
                 "/api/conversations/{id}/messages", "/api/conversations/{id}/transfer",
                 "/api/conversations/{id}/resolve", "/api/conversations/{id}/release", "/internal/intake",
                 "/internal/tickets", "/api/tickets", "/demo/users", "/demo/token"]:
        assert path in document["paths"], path


async def test_every_route_is_in_the_openapi_document(client):
    document = await (await client.get("/openapi.json")).json()
    pages = {"/", "/agent", "/static/{path}", "/ws/chat", "/ws/agent"}
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource else None
        if path and path not in pages and route.method != "HEAD":
            assert path in document["paths"], path


async def test_demo_users_and_token(client):
    users = await (await client.get("/demo/users")).json()
    admin = next(u for u in users if u["id"] == "u-biz-admin")
    assert admin == {"id": "u-biz-admin", "name": "Karl Brandt", "account": "Brandt Logistik GmbH",
                     "account_id": "acc-business", "type": "business", "plan": "standard",
                     "role": "admin", "licensed": True}
    assert len(users) == 11
    token = (await (await client.post("/demo/token", json={"user_id": "u-biz-admin"})).json())["token"]
    assert jwt.decode(token, IDENTITY_SECRET, algorithms=["HS256"])["sub"] == "u-biz-admin"
    assert (await client.post("/demo/token", json={"user_id": "u-made-up"})).status == 400


async def test_demo_endpoints_are_absent_in_production(start):
    client = await start(env={
        "BOT_ENV": "production", "AGENT_TOKEN_SECRET": "a" * 40, "RASA_API_TOKEN": "b" * 40,
    })
    assert (await client.get("/demo/users")).status == 404
    assert (await client.post("/demo/token", json={"user_id": "u-biz-admin"})).status == 404
    assert "/demo/users" not in (await (await client.get("/openapi.json")).json())["paths"]
