"""The identity token: only a valid, unexpired, correctly signed token names a user."""
from __future__ import annotations

import base64
import json
import logging
import time

import jwt
import pytest

from bot.identity import mint_token, verify_token
from bot.settings import DEV_IDENTITY_SECRET, InsecureSettings, from_environment

SECRET = "test-identity-secret-of-at-least-32-bytes"


def test_a_valid_token_names_its_user():
    assert verify_token(mint_token("u-biz-admin", SECRET), SECRET) == "u-biz-admin"


def test_expired_token_is_anonymous(caplog):
    token = jwt.encode({"sub": "u-plus-admin", "iat": int(time.time()) - 7200,
                        "exp": int(time.time()) - 60}, SECRET, algorithm="HS256")
    with caplog.at_level(logging.INFO, logger="bot.identity"):
        assert verify_token(token, SECRET) is None
    assert "expired" in caplog.text


def test_token_signed_with_another_secret_is_anonymous(caplog):
    with caplog.at_level(logging.INFO, logger="bot.identity"):
        assert verify_token(mint_token("u-plus-admin", "someone-elses-secret-also-32-bytes-long"), SECRET) is None
    assert "anonymous" in caplog.text


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_payload_is_anonymous():
    header, _, signature = mint_token("u-basic-owner", SECRET).split(".")
    forged = ".".join([header, _b64({"sub": "u-plus-admin", "exp": int(time.time()) + 600}), signature])
    assert verify_token(forged, SECRET) is None


def test_alg_none_is_anonymous():
    unsigned = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64({"sub": "u-plus-admin", "exp": int(time.time()) + 600}) + "."
    assert verify_token(unsigned, SECRET) is None


@pytest.mark.parametrize("token", ["", None, "garbage", "a.b.c", 42, {"sub": "u-plus-admin"}, ["x"]])
def test_malformed_token_is_anonymous(token):
    assert verify_token(token, SECRET) is None


def test_token_without_exp_is_anonymous():
    assert verify_token(jwt.encode({"sub": "u-plus-admin"}, SECRET, algorithm="HS256"), SECRET) is None


def test_token_without_sub_is_anonymous():
    token = jwt.encode({"exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
    assert verify_token(token, SECRET) is None


def test_production_refuses_the_development_secret():
    settings = from_environment({"BOT_ENV": "production", "BOT_IDENTITY_SECRET": DEV_IDENTITY_SECRET,
                                 "HANDOFF_SERVICE_TOKEN": "s", "AGENT_TOKEN_SECRET": "a",
                                 "RASA_API_TOKEN": "r"})
    with pytest.raises(InsecureSettings, match="BOT_IDENTITY_SECRET"):
        settings.check()


def test_production_refuses_a_missing_secret():
    with pytest.raises(InsecureSettings):
        from_environment({"BOT_ENV": "production"}).check()


def test_production_accepts_real_secrets():
    settings = from_environment({"BOT_ENV": "production", "BOT_IDENTITY_SECRET": "real",
                                 "HANDOFF_SERVICE_TOKEN": "s", "AGENT_TOKEN_SECRET": "a",
                                 "RASA_API_TOKEN": "r", "ACTION_SERVER_SECRET": "x"}).check()
    assert settings.identity_secret == "real"


def test_development_uses_the_development_secret():
    assert from_environment({}).check().identity_secret == DEV_IDENTITY_SECRET


def test_production_refuses_the_development_action_server_secret():
    from bot.settings import DEV_ACTION_SERVER_SECRET

    settings = from_environment({"BOT_ENV": "production", "BOT_IDENTITY_SECRET": "real",
                                 "HANDOFF_SERVICE_TOKEN": "s", "AGENT_TOKEN_SECRET": "a",
                                 "RASA_API_TOKEN": "r", "ACTION_SERVER_SECRET": DEV_ACTION_SERVER_SECRET})
    with pytest.raises(InsecureSettings, match="ACTION_SERVER_SECRET"):
        settings.check()
    with pytest.raises(InsecureSettings, match="ACTION_SERVER_SECRET"):
        from_environment({**{"BOT_ENV": "production", "BOT_IDENTITY_SECRET": "real", "HANDOFF_SERVICE_TOKEN": "s",
                             "AGENT_TOKEN_SECRET": "a", "RASA_API_TOKEN": "r"}}).check()
