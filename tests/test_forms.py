"""The forms' questions and the ticket's summary, rendered in the Rasa process (bot.answers.forms,
bot.answers.ticket): every question can be cancelled by a button, and the ticket is only filed
after the user saw what will be sent."""
from __future__ import annotations

import pytest
from rasa.shared.core.events import SlotSet

from tests.test_answers import reply, user_says


@pytest.fixture
def nlg(domain):
    from bot.nlg import KnowledgeNLG

    return KnowledgeNLG(domain=domain)


@pytest.mark.parametrize("question", ["utter_ask_problem", "utter_ask_ticket_email",
                                      "utter_ask_ticket_subject", "utter_ask_ticket_description",
                                      "utter_ask_ticket_confirmed"])
@pytest.mark.parametrize("lang,cancel", [("de", "Abbrechen"), ("en", "Cancel")])
async def test_every_form_question_has_a_cancel_button(question, lang, cancel, nlg, domain):
    answer = await reply(nlg, domain, question, user_says("ok", "affirm", {"locale": lang}))
    assert {"title": cancel, "payload": "/cancel"} in answer["buttons"]


async def test_a_question_about_tickets_is_answered_with_a_start_button(nlg, domain):
    answer = await reply(nlg, domain, "utter_ticket", user_says("Wie kann ich ein Webticket einreichen?", "open_ticket"))
    assert "Webticket-Anfrage" in answer["text"] and answer["text"].endswith("?")
    assert answer["buttons"] == [{"title": "Webticket hier anlegen", "payload": '/open_ticket{"ticket_start":"here"}'}]


async def test_the_summary_shows_what_will_be_filed_masked(nlg, domain):
    events = user_says("ja", "affirm") + [
        SlotSet("ticket_email", "meine Adresse ist jo@example.org"),
        SlotSet("ticket_subject", "Aufnahme fehlt"),
        SlotSet("ticket_description", "Die Aufnahme von Montag fehlt, Passwort: Geheim!42"),
    ]
    answer = await reply(nlg, domain, "utter_ask_ticket_confirmed", events)
    assert "Aufnahme fehlt" in answer["text"] and "jo@example.org" in answer["text"]
    assert "Geheim!42" not in answer["text"] and "[REDACTED password]" in answer["text"]
    assert answer["buttons"][0]["payload"] == "/affirm"


@pytest.mark.parametrize("requested,text,words", [
    ("ticket_email", "hmm keine Ahnung", "brauche ich zuerst Ihre E-Mail-Adresse"),
    ("ticket_email", "meine Adresse ist anna(at)firma", "brauche ich zuerst Ihre E-Mail-Adresse"),
    ("ticket_email", "anna@firma", "Das sieht nicht nach einer E-Mail-Adresse aus"),
    ("ticket_subject", "hmm keine Ahnung", "Betreff"),
    ("ticket_description", "hmm keine Ahnung", "Beschreibung"),
    ("ticket_confirmed", "hmm keine Ahnung", "absenden"),
])
async def test_a_non_answer_is_told_what_the_question_needs(requested, text, words, nlg, domain):
    events = user_says(text, "nlu_fallback") + [SlotSet("requested_slot", requested)]
    answer = await reply(nlg, domain, "utter_ticket_not_an_answer", events)
    assert words in answer["text"]
