"""FAQ answers rendered from the knowledge data, through the real NLG and a real tracker."""
from __future__ import annotations

import re

import pytest
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.knowledge import load_knowledge
from bot.language import detect
from bot.matching import find_mentions
from bot.nlg import KnowledgeNLG


def user_says(text: str, intent: str, metadata: dict | None = None) -> list:
    """The events Rasa records for a user message: the utterance and the slots its entities fill."""
    entities = [{"entity": m.entity, "value": m.value, "start": m.start, "end": m.end} for m in find_mentions(text)]
    detection = detect(text)
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities,
        "language": {"code": detection.code, "confidence": detection.confidence},
        "intent_ranking": [{"name": intent, "confidence": 0.9}],
    }
    events = [UserUttered(text, parse_data["intent"], entities, parse_data, metadata=metadata)]
    events += [SlotSet(entity["entity"], entity["value"]) for entity in entities]
    return events


@pytest.fixture
def nlg(domain):
    return KnowledgeNLG(domain=domain)


async def reply(nlg, domain, response: str, *turns) -> dict:
    tracker = DialogueStateTracker.from_events("test", [e for turn in turns for e in turn], domain.slots)
    return await nlg.generate(response, tracker, "rest")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


async def test_every_phone_country_answers_with_its_numbers_in_both_languages(nlg, domain):
    knowledge = load_knowledge()
    for code in knowledge.phone_info.countries:
        country = knowledge.country(code)
        for lang, question in (("de", f"Telefonnummer {country.name.de}"),
                               ("en", f"What is the phone number for {country.name.en}?")):
            answer = await reply(nlg, domain, "utter_phone", user_says(question, "ask_phone", {"locale": lang}))
            for number in country.phones:
                assert number.digits in digits(answer["text"]), (code, lang, answer)
                if number.extension:
                    assert ("Durchwahl" if lang == "de" else "extension") in answer["text"]


async def test_follow_up_keeps_the_topic_and_takes_the_new_country(nlg, domain):
    answer = await reply(
        nlg, domain, "utter_phone",
        user_says("Unter welcher Nummer erreiche ich den Support in Frankreich?", "ask_phone"),
        user_says("und für Spanien?", "ask_phone"),
    )
    assert "34932207485" in digits(answer["text"])
    assert "3380094" not in digits(answer["text"])


async def test_country_without_number_gets_an_honest_answer_and_the_list(nlg, domain):
    answer = await reply(nlg, domain, "utter_phone", user_says("Gibt es eine Hotline in Norwegen?", "ask_phone"))
    assert "keine eigene Support-Telefonnummer" in answer["text"]
    assert "Schweiz" in answer["text"] and "Norwegen" in answer["text"]
    assert not re.search(r"\+\d", answer["text"])


async def test_phone_question_without_country_asks_which_with_buttons(nlg, domain):
    answer = await reply(nlg, domain, "utter_phone", user_says("Do you have a support hotline?", "ask_phone"))
    assert "Which country" in answer["text"]
    assert any(button["payload"] == '/ask_phone{"country":"DE"}' for button in answer["buttons"])


async def test_premier_plus_additions(nlg, domain):
    answer = await reply(nlg, domain, "utter_plan", user_says("Was kommt bei Premier+ noch dazu?", "ask_plan"))
    assert re.search("Eskalation", answer["text"]) and re.search("Kundenbetreuer", answer["text"])


async def test_plan_feature_yes_no(nlg, domain):
    yes = await reply(nlg, domain, "utter_plan", user_says("Is prioritized response part of the Premier plan?", "ask_plan"))
    assert yes["text"].startswith("Yes")
    no = await reply(nlg, domain, "utter_plan", user_says("Does Standard include a technical account manager?", "ask_plan"))
    assert no["text"].startswith("No") and "Premier+" in no["text"]


async def test_who_gets_phone_support_on_standard(nlg, domain):
    answer = await reply(nlg, domain, "utter_plan", user_says("Wer bekommt im Standard-Abo Hilfe am Telefon?", "ask_plan"))
    assert re.search("(?i)lizenziert", answer["text"]) and re.search("(?i)admin", answer["text"])


async def test_priority_answers_and_follow_up(nlg, domain):
    p1 = await reply(nlg, domain, "utter_priority", user_says("Wofür steht Priorität P1?", "ask_priority"))
    assert "1 Stunde" in p1["text"] and "4 Stunden" in p1["text"]
    p2 = await reply(nlg, domain, "utter_priority",
                     user_says("What is meant by P1?", "ask_priority"), user_says("and P2?", "ask_priority"))
    assert p2["text"].startswith("P2") and "8 hours" in p2["text"]


async def test_priority_of_a_described_case_is_triaged(nlg, domain):
    answer = await reply(nlg, domain, "utter_priority",
                         user_says("Welche Priorität bekommt der Wunsch nach einer neuen Funktion?", "ask_priority"))
    assert "P4" in answer["text"] and "P1" not in answer["text"]


async def test_language_follows_the_user_and_ignores_neutral_messages(nlg, domain):
    first = user_says("What is the support number in Japan?", "ask_phone")
    neutral = user_says("ok", "affirm")
    answer = await reply(nlg, domain, "utter_affirm", first, neutral)
    assert answer["text"].startswith("All right")
    german = await reply(nlg, domain, "utter_affirm", first, user_says("Alles klar, danke schön", "affirm"))
    assert german["text"].startswith("Alles klar")


async def test_locale_sets_the_start_language(nlg, domain):
    answer = await reply(nlg, domain, "utter_greet", user_says("hi", "greet", {"locale": "en"}))
    assert answer["text"].startswith("Hello")


async def test_out_of_scope_offers_topics_without_facts(nlg, domain):
    answer = await reply(nlg, domain, "utter_out_of_scope", user_says("Which pizzeria near the station would you recommend?", "out_of_scope"))
    shown = answer["text"] + " ".join(button["title"] for button in answer["buttons"])
    assert "support" in shown and not re.search(r"(?i)premier|P[1-4]\b", shown)


async def test_every_domain_response_renders_in_both_languages(nlg, domain):
    for lang, text in (("de", "Hallo zusammen, ich habe eine Frage"), ("en", "Hello there, I have a question")):
        for response in domain.responses:
            answer = await reply(nlg, domain, response, user_says(text, "greet"))
            assert answer and answer.get("text") and not answer["text"].startswith("("), (response, lang)


def test_german_texts_say_sie_never_du():
    """Every German sentence of the bot and of the live-agent service addresses the user as
    "Sie" (issue 9: system texts said "du" while the bot says "Sie")."""
    import yaml

    from bot.messages import load_catalog
    from bot.settings import ROOT

    informal = re.compile(r"\b(du|dich|dir|dein\w*|euch|euer|eure\w*)\b", re.IGNORECASE)
    texts = {f"bot:{key}": value["de"] for key, value in load_catalog().items() if key != "other_language"}
    service = yaml.safe_load((ROOT / "handoff" / "texts.yml").read_text(encoding="utf-8"))
    texts.update({f"handoff:{key}": value["de"] for key, value in service.items()})
    assert {key: text for key, text in texts.items() if informal.search(text)} == {}


# --- context: elliptic follow-ups fill gaps, full questions are answered as asked -------------

async def test_a_full_question_is_not_narrowed_by_the_previous_topic(nlg, domain):
    answer = await reply(nlg, domain, "utter_plan",
                         user_says("Darf ich bei Premier+ den Telefon-Support nutzen?", "ask_plan"),
                         user_says("Und was umfasst Premier+ insgesamt?", "ask_plan"))
    assert "Kundenbetreuer" in answer["text"] and "Eskalation" in answer["text"]


async def test_an_elliptic_follow_up_keeps_the_feature_and_the_kind_of_question(nlg, domain):
    answer = await reply(nlg, domain, "utter_plan",
                         user_says("Hat Standard einen technischen Kundenbetreuer?", "ask_plan"),
                         user_says("und bei Premier+?", "ask_plan"))
    assert answer["text"].startswith("Ja") and "Kundenbetreuer" in answer["text"]


async def test_a_correction_takes_the_named_value_not_the_negated_one(nlg, domain):
    answer = await reply(nlg, domain, "utter_plan",
                         user_says("Was gehört zu Standard?", "ask_plan"),
                         user_says("nee, Premier+ statt Standard", "correction"))
    assert answer["text"].startswith("Premier+") and "Eskalation" in answer["text"]
    phone = await reply(nlg, domain, "utter_phone",
                        user_says("number for Austria", "ask_phone"),
                        user_says("oops, Australia, not Austria", "correction"))
    assert "611800768027" in digits(phone["text"]) and "43316231266" not in digits(phone["text"])


async def test_priority_ranges_name_every_level(nlg, domain):
    answer = await reply(nlg, domain, "utter_priority", user_says("Reaktionszeiten von P1 bis P4?", "ask_priority"))
    for level in ("P1", "P2", "P3", "P4"):
        assert level in answer["text"]


# --- the question asked gets its answer ---------------------------------------------------------

@pytest.mark.parametrize("question,lead", [
    ("Is an unlicensed member on Premier allowed to phone support?", "No"),
    ("May licensed members on Premier+ get phone support?", "Yes"),
    ("Dürfen Inhaber von API-Konten telefonischen Support bekommen?", "Ja, mit Lizenz"),
    ("Bekommen kostenlose Basic-Konten Telefon-Support?", "Nein"),
    ("Can the owner of a Pro account get phone support?", "Only"),
])
async def test_a_yes_no_question_about_someone_is_answered_for_them(question, lead, nlg, domain):
    answer = await reply(nlg, domain, "utter_plan", user_says(question, "ask_plan"))
    assert answer["text"].startswith(lead), answer["text"]


async def test_whether_the_sla_deadlines_apply_to_a_plan(nlg, domain):
    no = await reply(nlg, domain, "utter_priority", user_says("Gelten die SLA-Fristen auch bei Standard?", "ask_priority"))
    assert no["text"].startswith("Nein") and "Premier" in no["text"]
    yes = await reply(nlg, domain, "utter_priority", user_says("Do the SLA times apply to Premier+?", "ask_priority"))
    assert yes["text"].startswith("Yes")


async def test_when_live_chat_is_staffed(nlg, domain):
    answer = await reply(nlg, domain, "utter_live_chat", user_says("Sind nachts Mitarbeiter im Live-Chat?", "ask_live_chat"))
    assert "rund um die Uhr" in answer["text"] and "kostenpflichtig" in answer["text"]


async def test_an_extension_question_is_answered(nlg, domain):
    answer = await reply(nlg, domain, "utter_phone",
                         user_says("Brauche ich für die Nummer in Hongkong eine Durchwahl?", "ask_phone"))
    assert "keine Durchwahl" in answer["text"]


# --- walls of text: the phone answer ----------------------------------------------------------

async def test_the_phone_answer_is_number_then_what_to_have_ready_then_who_may_call_once(nlg, domain):
    answer = await reply(nlg, domain, "utter_phone", user_says("Hotline Deutschland?", "ask_phone"))
    lines = answer["text"].splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Telefon-Support in Deutschland: +49 30 80098621 Durchwahl 2")
    assert "Meeting-ID" in lines[1] and "Hostschlüssel" in lines[1]
    assert "lizenzierte" in lines[2] and "Anmeldung" in lines[2]
    assert answer["text"].count("Anrufen dürfen") == 1 and "Lizenzierte Besitzer" not in answer["text"]  # once, short


def test_the_phone_answer_is_tailored_to_a_signed_in_user():
    from bot.accounts.repository import AccountView, UserView
    from bot.answers import phone
    from bot.answers.context import Context
    from bot.entitlements import entitlements
    from bot.users import KnownUser

    def known(account_type, plan, role, licensed):
        account = AccountView("acc", "Muster GmbH", account_type, plan, None, None)
        user = UserView("u", role, licensed, "Eva", "eva@example.com", account)
        return KnownUser(user, entitlements(account_type, plan, role, licensed))

    def answer(user, lang="de"):
        context = Context(lang=lang, text="Nummer Schweiz", entities={"country": ("CH",)}, user=user)
        return phone.answer(context)["text"].splitlines()[-1]

    assert answer(known("business", "standard", "admin", True)) == "Mit Ihrem Konto dürfen Sie den Telefon-Support anrufen."
    no = answer(known("pro", "standard", "owner", True))
    assert no.startswith("Ihr Konto kann den Telefon-Support leider nicht nutzen") and "Pro-Konto" in no
    assert "keine Lizenz" in answer(known("business", "premier", "member", False))
    assert "kostenloses Konto" in answer(known("basic", "standard", "owner", True))
    assert answer(known("business", "standard", "member", True), "en").startswith("I'm sorry, your account can't")


# --- language --------------------------------------------------------------------------------

async def test_a_message_in_another_language_gets_the_bilingual_note_first(nlg, domain):
    events = user_says("Bonjour, je voudrais le numéro de téléphone en France", "ask_phone")
    events[0].parse_data["language"] = {"code": "other", "confidence": 0.95}
    answer = await reply(nlg, domain, "utter_phone", events)
    first = answer["text"].split("\n\n")[0]
    assert "Deutsch und Englisch" in first and "German and English" in first
    assert "33800946464" in digits(answer["text"])


async def test_a_live_chat_question_about_another_feature_gets_the_plan_answer(nlg, domain):
    answer = await reply(nlg, domain, "utter_live_chat",
                         user_says("Für wen sind Self-Service und Chatbot da?", "ask_live_chat"))
    assert "Alle Mitglieder" in answer["text"]


async def test_the_support_channels_overview_names_every_channel_of_the_seed(nlg, domain):
    answer = await reply(nlg, domain, "utter_channels", user_says("Wie kann ich euch erreichen?", "ask_channels"))
    for word in ("Help Center", "Community", "Webticket", "Live-Chat", "Telefon", "Abrechnung", "Social Media"):
        assert word in answer["text"], word


async def test_an_account_question_naming_a_plan_feature_gets_the_plan_answer(nlg, domain):
    answer = await reply(nlg, domain, "utter_account_rep",
                         user_says("Does Premier come with a technical account manager for us?", "ask_account_rep"))
    assert answer["text"].startswith("No") and "Premier+" in answer["text"]


async def test_the_previous_answer_again_in_the_language_asked_for(nlg, domain):
    from rasa.shared.core.events import BotUttered

    events = user_says("which number do I call in Japan", "ask_phone")
    first = await reply(nlg, domain, "utter_phone", events)
    events += [BotUttered(first["text"], metadata={"utter_action": "utter_phone"})]
    events += user_says("Kannst du mir das nochmal auf Deutsch sagen?", "repeat_in_language")
    again = await reply(nlg, domain, "utter_repeat_in_language", events)
    assert again["text"].startswith("Telefon-Support in Japan") and digits(again["text"]) == digits(first["text"])
    # asked in German for English: the language named wins, and it is still Japan's answer
    events += [BotUttered(again["text"], metadata={"utter_action": "utter_repeat_in_language"})]
    events += user_says("bitte auf Englisch", "repeat_in_language")
    english = await reply(nlg, domain, "utter_repeat_in_language", events)
    assert english["text"].startswith("Phone support in Japan")
    # nothing this NLG rendered to repeat (an action's answer): a fresh start in that language
    fresh = await reply(nlg, domain, "utter_repeat_in_language", user_says("in English please", "repeat_in_language"))
    assert fresh["text"].startswith("Sure, in English")
    # an action answered last: not the older answer this NLG rendered before it
    events += [BotUttered(english["text"], metadata={"utter_action": "utter_repeat_in_language"})]
    events += user_says("who is our technical account manager?", "ask_tam")
    events += [BotUttered("Your technical account manager is …", metadata={})]
    events += user_says("auf Deutsch bitte", "repeat_in_language")
    after_action = await reply(nlg, domain, "utter_repeat_in_language", events)
    assert "Japan" not in after_action["text"], after_action


async def test_a_correction_of_the_plan_answers_the_previous_question_for_the_corrected_plan(nlg, domain):
    answer = await reply(nlg, domain, "utter_plan",
                         user_says("Is direct access to Tier 2 part of Premier+?", "ask_plan"),
                         user_says("oops, I meant Standard, not Premier+", "correction"))
    assert answer["text"].startswith("No"), answer
    assert "Standard" in answer["text"] and "Tier 2" in answer["text"]


async def test_a_correction_keeps_what_the_previous_question_named_not_an_older_topic(nlg, domain):
    # the phone question two turns back must not narrow the corrected plan question
    whole = await reply(nlg, domain, "utter_plan",
                        user_says("Who may use phone support?", "ask_plan"),
                        user_says("what does premier+ include?", "ask_plan"),
                        user_says("sorry, Premier not Premier+", "correction"))
    asked = await reply(nlg, domain, "utter_plan", user_says("what does premier include?", "ask_plan"))
    assert whole["text"] == asked["text"], whole
    # an elliptic previous question took the feature from the slots: the correction keeps it
    chained = await reply(nlg, domain, "utter_plan",
                          user_says("Wer darf bei Premier telefonieren?", "ask_plan"),
                          user_says("und bei Standard?", "ask_plan"),
                          user_says("sorry, Premier+ nicht Standard", "correction"))
    direct = await reply(nlg, domain, "utter_plan", user_says("Wer darf bei Premier+ telefonieren?", "ask_plan"))
    assert chained["text"].endswith(direct["text"]), chained


async def test_a_live_chat_question_about_a_licence_or_account_type_answers_yes_or_no(nlg, domain):
    no = await reply(nlg, domain, "utter_live_chat", user_says("Dürfen Mitglieder ohne Lizenz den Live-Chat nutzen?", "ask_live_chat"))
    assert no["text"].startswith("Nein") and "rund um die Uhr" in no["text"], no
    yes = await reply(nlg, domain, "utter_live_chat", user_says("can a licensed member use live chat?", "ask_live_chat"))
    assert yes["text"].startswith("Yes"), yes
    general = await reply(nlg, domain, "utter_live_chat", user_says("when is live chat staffed?", "ask_live_chat"))
    assert not general["text"].startswith(("Yes", "No")), general


async def test_who_may_call_and_what_to_have_ready_are_both_answered(nlg, domain):
    answer = await reply(nlg, domain, "utter_plan",
                         user_says("Who may use phone support, and what do I need for the call?", "ask_plan"))
    assert re.search(r"(?i)licen[cs]ed", answer["text"]) and re.search(r"(?i)meeting ID", answer["text"]), answer
    alone = await reply(nlg, domain, "utter_plan", user_says("Who may use phone support?", "ask_plan"))
    assert not re.search(r"(?i)meeting ID", alone["text"]), alone


async def test_a_second_question_about_another_topic_is_answered_after_the_first(nlg, domain):
    both = await reply(nlg, domain, "utter_phone",
                       user_says("Telefonnummer für Italien und wie schnell reagiert ihr bei P2?", "ask_phone"))
    italy = await reply(nlg, domain, "utter_phone", user_says("Telefonnummer für Italien", "ask_phone"))
    p2 = await reply(nlg, domain, "utter_priority", user_says("wie schnell reagiert ihr bei P2?", "ask_priority"))
    assert both["text"] == f"{italy['text']}\n\n{p2['text']}", both
    back = await reply(nlg, domain, "utter_priority",
                       user_says("how fast is a P1 answered, and what's the number for Japan?", "ask_priority"))
    assert "P1" in back["text"] and "Japan" in back["text"].split("\n\n")[-1], back
    # the other topic first, named by its word instead of a question
    first = await reply(nlg, domain, "utter_priority",
                        user_says("hotline australien und wie lange dauert eine antwort bei p3", "ask_priority"))
    assert first["text"].startswith("P3") and "611800768027" in digits(first["text"]), first
    # one question naming two topics, or an elliptic tail: one answer
    for text in ("Telefonnummer für Premier-Kunden in Spanien", "Nummer für Spanien, und P2?"):
        single = await reply(nlg, domain, "utter_phone", user_says(text, "ask_phone"))
        assert "\n\n" not in single["text"], (text, single)
