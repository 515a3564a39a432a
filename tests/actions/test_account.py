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
    # the general rule (the plan that has one, from knowledge/plans.yml), no one's name
    assert "mit dem Support-Abo Premier+" in texts(messages) and "angemeldet" in texts(messages)
    assert "Miriam" not in texts(messages)


PLAN_QUESTION = "What does my plan include?"


def _with_entities(tracker):
    """The entities the NLU's KnowledgeEntityExtractor finds in the (one) user message."""
    from bot.matching import find_mentions

    text = tracker.latest_message["text"]
    entities = [{"entity": m.entity, "value": m.value, "start": m.start, "end": m.end} for m in find_mentions(text)]
    tracker.latest_message["entities"] = entities
    for event in tracker.events:
        if event.get("event") == "user":
            event["parse_data"]["entities"] = entities
    return tracker


@pytest.mark.parametrize("user_id,phone,chat", [
    ("u-biz-admin", "Phone support: yes", "Live chat with an agent: yes"),
    ("u-biz-member", "Phone support: no", "Live chat with an agent: yes"),
    ("u-biz-unlicensed", "Phone support: no", "Live chat with an agent: no, as a member you need a licence"),
    ("u-basic-owner", "Phone support: no", "Live chat with an agent: no, it is for users of paid accounts"),
    ("u-premier-member", "Phone support: yes", "Live chat with an agent: yes, queue Tier 1"),
    ("u-plus-admin", "Phone support: yes", "Live chat with an agent: yes, queue Tier 2"),
])
async def test_my_support_lists_the_rights(user_id, phone, chat, accounts_db, domain_dict):
    tracker = load_tracker("ask_my_support", token_for(user_id), text=PLAN_QUESTION, lang="en")
    messages, _ = await run_action(ActionMySupport(), tracker, domain_dict)
    answer = texts(messages)
    assert phone in answer and chat in answer
    assert handoff_markers(messages) == []  # information, not an escalation decision


async def test_a_phone_question_gets_only_the_phone_answer(accounts_db, domain_dict):
    messages, _ = await run_action(ActionMySupport(), load_tracker("ask_my_support_en", token_for("u-biz-admin")), domain_dict)
    answer = texts(messages)
    assert answer.startswith("Yes, with your account you may call") and "Live chat" not in answer


@pytest.mark.parametrize("user_id,text,digits", [
    ("u-biz-admin", "Darf ich euch anrufen? Ich sitze in Wien.", "43316231266"),
    ("u-plus-member", "can I call you from Switzerland?", "41315607204"),
])
async def test_a_phone_question_naming_a_country_gets_its_numbers(user_id, text, digits, accounts_db, domain_dict):
    tracker = _with_entities(load_tracker("ask_my_support", token_for(user_id), text=text,
                                          lang="de" if "Darf" in text else "en"))
    messages, _ = await run_action(ActionMySupport(), tracker, domain_dict)
    answer = texts(messages)
    assert answer.split(",")[0] in ("Ja", "Yes") and digits in re.sub(r"\D", "", answer)


@pytest.mark.parametrize("text,lead", [
    ("Ich bin lizenziertes Mitglied, kein Admin, wir haben Standard. Darf ich anrufen?", "Allgemein nein"),
    ("Can an unlicensed member on Premier call support?", "In general, no"),
    ("Can the licensed admin of our Business account call you?", "In general, yes"),
])
async def test_anonymous_users_who_describe_themselves_get_the_rule_for_that(text, lead, accounts_db, domain_dict):
    tracker = _with_entities(load_tracker("ask_my_support", "", text=text, lang="de" if "Ich" in text else "en"))
    messages, _ = await run_action(ActionMySupport(), tracker, domain_dict)
    assert texts(messages).startswith(lead)


async def test_the_rights_list_without_a_phone_question_says_phone_once(accounts_db, domain_dict):
    tracker = load_tracker("ask_my_support", token_for("u-biz-member"), text=PLAN_QUESTION, lang="en")
    messages, _ = await run_action(ActionMySupport(), tracker, domain_dict)
    assert texts(messages).count("Phone support: no") == 1


async def test_my_support_premier_plus_details(accounts_db, domain_dict):
    tracker = load_tracker("ask_my_support", token_for("u-plus-member"), text=PLAN_QUESTION, lang="en")
    messages, _ = await run_action(ActionMySupport(), tracker, domain_dict)
    answer = texts(messages)
    assert "Alpen Bank AG" in answer and "Premier+" in answer
    assert "Automatic escalation" in answer and "Miriam Keller" in answer


async def test_my_support_needs_sign_in(accounts_db, domain_dict):
    tracker = load_tracker("ask_my_support", "not-a-token", text=PLAN_QUESTION, lang="en")
    messages, _ = await run_action(ActionMySupport(), tracker, domain_dict)
    assert "sign in" in texts(messages)


# --- "Kann ich euch anrufen?": yes or no for phone, in words, first --------------------------
# The acceptance checks (tests/exam/extended.yml, esc-*-phone-*) look for a phone word next to
# the yes/no within one sentence.
import re  # noqa: E402

PHONE_YES = {
    "de": [r"(?i)(telefon|anruf)[^.\n]{0,60}(\bja\b|dürfen|können)", r"(?i)(\bja\b|dürfen|können)[^.\n]{0,60}(telefon|anruf)"],
    "en": [r"(?i)(phone|call)[^.\n]{0,60}(\byes\b|you can|you may)", r"(?i)(\byes\b|you can|you may)[^.\n]{0,60}(phone|call)"],
}
PHONE_NO = {
    "de": [r"(?i)(telefon|anruf)[^.\n]{0,60}(nein|nicht|kein)", r"(?i)(nein|nicht|kein)[^.\n]{0,60}(telefon|anruf)"],
    "en": [r"(?i)(phone|call)[^.\n]{0,60}(\bno\b|\bnot\b|n't)", r"(?i)(\bno\b|\bnot\b|n't)[^.\n]{0,60}(phone|call)"],
}
PHONE_QUESTIONS = {"de": "Kann ich euch anrufen?", "en": "Can I get help over the phone?"}


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("user_id,phone", [
    ("u-biz-admin", True), ("u-edu-admin", True), ("u-api-owner", True), ("u-premier-member", True),
    ("u-plus-member", True), ("u-biz-member", False), ("u-pro-owner", False),
    ("u-biz-unlicensed", False), ("u-basic-owner", False),
])
async def test_phone_question_gets_a_clear_yes_or_no_first(user_id, phone, lang, accounts_db, domain_dict):
    tracker = load_tracker("ask_my_support", token_for(user_id), text=PHONE_QUESTIONS[lang], lang=lang)
    messages, _ = await run_action(ActionMySupport(), tracker, domain_dict)
    answer = texts(messages)
    first_line = answer.splitlines()[0]
    first_sentence = first_line.split(". ")[0]
    expected = PHONE_YES if phone else PHONE_NO
    assert first_line.split(",")[0] in ({"de": "Ja", "en": "Yes"} if phone else {"de": "Nein", "en": "No"})[lang]
    assert any(re.search(p, first_sentence) for p in expected[lang]), first_line
    if phone:
        assert not re.search(r"(?i)unfortunately|leider nicht|nicht berechtigt|not (entitled|eligible|allowed)", answer)
        assert re.search(r"(?i)meeting.?id", first_line)  # what to have ready when calling
        assert messages[0]["buttons"]  # the countries, to get the number
    else:
        # Why not, for this user, and where to turn instead.
        assert re.search(r"(?i)licen[cs]|lizenz|free account|kostenlos|Business|Mitglied|member", first_line)
        assert re.search(r"(?i)chat|ticket", first_line)
    # The phone right is said once, not again in the list below.
    assert re.findall(r"(?i)^(phone support|telefon-support):", answer, re.M) == []
    assert handoff_markers(messages) == []


@pytest.mark.parametrize("lang,sign_in", [("de", "Anmeldung"), ("en", "sign in")])
async def test_phone_question_anonymous_gets_the_general_rule_and_sign_in(lang, sign_in, accounts_db, domain_dict):
    tracker = load_tracker("ask_my_support", "", text=PHONE_QUESTIONS[lang], lang=lang)
    messages, _ = await run_action(ActionMySupport(), tracker, domain_dict)
    answer = texts(messages)
    assert sign_in in answer
    assert len(answer.splitlines()) == 1  # the rule in one line, then the question for the country
    for word in ("Business", "Enterprise", "API", "Premier"):
        assert word in answer
    assert re.search(r"(?i)licen[cs]ed|lizenziert", answer)
    assert handoff_markers(messages) == []


async def test_a_plan_question_lists_the_rights_in_the_usual_order(accounts_db, domain_dict):
    tracker = load_tracker("ask_my_support", token_for("u-biz-admin"),
                           text="Was beinhaltet unser Support-Abo?", lang="de")
    messages, _ = await run_action(ActionMySupport(), tracker, domain_dict)
    lines = texts(messages).splitlines()
    assert lines[0].startswith("Ihr Konto")
    assert "Telefon-Support: ja, Sie dürfen den Support anrufen." in lines
