"""`action_my_support` and `action_tam`: answers from the signed-in user's account."""
from __future__ import annotations

import pytest

from actions.account import ActionMySupport, ActionTam
from tests.actions.conftest import handoff_markers, load_tracker, run_action, texts, token_for


async def test_tam_is_named_for_premier_plus(accounts_db, domain_dict):
    for user_id in ("u-plus-admin", "u-plus-member"):
        messages, _ = await run_action(ActionTam(), load_tracker("ask_tam_de", token_for(user_id)), domain_dict)
        assert "Miriam Keller" in texts(messages) and "m.keller@example.com" in texts(messages)


@pytest.mark.parametrize("user_id", ["u-premier-admin", "u-biz-admin", "u-basic-owner"])
async def test_no_tam_below_premier_plus(user_id, accounts_db, domain_dict):
    messages, _ = await run_action(ActionTam(), load_tracker("ask_tam_de", token_for(user_id)), domain_dict)
    assert "Miriam Keller" not in texts(messages)
    assert "Premier+" in texts(messages)


async def test_tam_needs_sign_in(accounts_db, domain_dict):
    messages, _ = await run_action(ActionTam(), load_tracker("ask_tam_de", ""), domain_dict)
    assert "melden Sie sich im Hilfecenter an" in texts(messages) and "Miriam" not in texts(messages)


@pytest.mark.parametrize("user_id,phone,chat", [
    ("u-biz-admin", "Phone support: yes", "Live chat with an agent: yes"),
    ("u-biz-member", "Phone support: no", "Live chat with an agent: yes"),
    ("u-biz-unlicensed", "Phone support: no", "Live chat with an agent: no, as a member you need a licence"),
    ("u-basic-owner", "Phone support: no", "Live chat with an agent: no, it is for users of paid accounts"),
    ("u-premier-member", "Phone support: yes", "Live chat with an agent: yes, queue Tier 1"),
    ("u-plus-admin", "Phone support: yes", "Live chat with an agent: yes, queue Tier 2"),
])
async def test_my_support_lists_the_rights(user_id, phone, chat, accounts_db, domain_dict):
    messages, _ = await run_action(ActionMySupport(), load_tracker("ask_my_support_en", token_for(user_id)), domain_dict)
    answer = texts(messages)
    assert phone in answer and chat in answer
    assert handoff_markers(messages) == []  # information, not an escalation decision


async def test_my_support_premier_plus_details(accounts_db, domain_dict):
    messages, _ = await run_action(ActionMySupport(), load_tracker("ask_my_support_en", token_for("u-plus-member")), domain_dict)
    answer = texts(messages)
    assert "Alpen Bank AG" in answer and "Premier+" in answer
    assert "Automatic escalation" in answer and "Miriam Keller" in answer


async def test_my_support_needs_sign_in(accounts_db, domain_dict):
    messages, _ = await run_action(ActionMySupport(), load_tracker("ask_my_support_en", "not-a-token"), domain_dict)
    assert "sign in" in texts(messages)
