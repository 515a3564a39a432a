"""The NLU's flags for the actions (bot/signals.py, bot/nlu_models.py): wants a person,
describes a problem, and how the actions read them from parse data.

Their quality is measured on held-out data by `make evaluate` (tests/signals/heldout.yml, the
blind triage set, tests/nlu/); these tests pin the families the issue names and the interface.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot import signals
from bot.nlu_models import clauses, flag_examples

ROOT = Path(__file__).resolve().parents[1]


def _parse(text: str) -> dict:
    return {"text": text, **signals.analyse([text])[0]}


@pytest.mark.parametrize("text", [
    "Mein Ton geht seit heute nicht, ich will sofort einen Mitarbeiter",
    "screen share is black, get me an agent",
    "Meine Meetings brechen ständig ab. Ich will sofort mit dem Support sprechen!",
    "Verbinden Sie mich bitte mit einem Agenten.",
    "Ich würde gern mit einem Mitarbeiter chatten",
    "Mitarbeiter bitte",
    "Connect me to an agent.",
    "I want to talk to a live agent",
    "I'd like to speak to someone from support.",
    "even on Premier+ screen sharing crashes, I need an agent",
    "Wir haben Premier+ und ich bin Enterprise-Admin. Bitte sofort an Tier 2 weiterleiten!",
    # phrased as a question (issue 9)
    "is there a human who could look at this?",
    "kann mir da jemand persönlich helfen?",
    "could somebody from your team have a look at my account?",
    "gibt es einen Techniker, der sich das anschauen kann?",
])
def test_requests_for_a_person(text):
    assert signals.wants_person(_parse(text))


@pytest.mark.parametrize("text", [
    "are you a human?",
    "bist du ein echter Mensch?",
    "is this a bot or a real person",
    "kein Mitarbeiter kann Meetings starten",
    "Keiner unserer Mitarbeiter kann sich anmelden",
    "Ich möchte, dass meine Mitarbeiter die Aufzeichnungen sehen können",
    "Our agents cannot start meetings",
    "Die Teilnehmer können nicht mit dem Moderator sprechen",
    "Kann ich euch anrufen?",
    "Welche Telefonnummer hat der Support in der Schweiz?",
])
def test_no_request_for_a_person(text):
    assert not signals.wants_person(_parse(text))


@pytest.mark.parametrize("text, expected", [
    ("Mein Ton geht seit heute nicht, ich will sofort einen Mitarbeiter", True),
    ("screen share is black, get me an agent", True),
    ("even on Premier+ screen sharing crashes, I need an agent", True),
    ("Unser Dienst ist komplett ausgefallen, verbinden Sie mich sofort mit einem Mitarbeiter", True),
    ("the whole service is down and I demand to talk to a person", True),
    ("Ich will jetzt einen Mitarbeiter", False),
    ("Can't you connect me to an agent?", False),
    ("Kann ich nicht einfach mit einem Mitarbeiter sprechen?", False),
    ("Wir haben Premier+ und ich bin Enterprise-Admin. Bitte sofort an Tier 2 weiterleiten!", False),
    ("How do I set up single sign-on?", False),
])
def test_what_counts_as_a_described_problem(text, expected):
    assert signals.describes_problem(_parse(text)) is expected


def test_outage_and_demand_in_one_message_carry_both_flags_and_the_level():
    parse = _parse("Bei uns ist seit einer Stunde alles down, ich will JETZT einen Menschen sprechen")
    assert signals.wants_person(parse) and signals.describes_problem(parse)
    assert signals.problem_level(parse) == "P1"


def test_the_parse_data_is_what_the_actions_read():
    # what the NLU wrote wins over what the text would give now
    parse = {"text": "Hallo", signals.SIGNALS: {"wants_person": {"value": True, "confidence": 0.9},
                                                 "describes_problem": {"value": True, "confidence": 0.8}},
             signals.TRIAGE: {"level": "P2", "confidence": 0.7}}
    assert signals.wants_person(parse) and signals.describes_problem(parse)
    assert signals.problem_level(parse) == "P2"


def test_missing_signals_are_computed_from_the_text():
    old_event = {"text": "Nichts geht mehr, niemand kommt ins Meeting. Verbinden Sie mich mit einem Techniker!",
                 "intent": {"name": "report_problem", "confidence": 0.9}}
    assert signals.wants_person(old_event) and signals.describes_problem(old_event)
    assert signals.problem_level(old_event) == "P1"
    assert not signals.wants_person({}) and not signals.describes_problem(None)
    assert signals.problem_level({}) in ("P1", "P2", "P3", "P4")


def test_button_payloads_are_not_read_as_text():
    assert signals.wants_person({"text": "/request_human", "intent": {"name": "request_human"}})
    assert not signals.describes_problem({"text": "/request_human", "intent": {"name": "request_human"}})
    assert not signals.wants_person({"text": '/set_priority{"problem_priority":"P1"}',
                                     "intent": {"name": "set_priority"}})


def test_analyse_shape():
    [found] = signals.analyse(["Zoom ist sehr langsam, kann mir jemand helfen?"])
    for flag in signals.FLAGS:
        assert isinstance(found[signals.SIGNALS][flag]["value"], bool)
        assert 0.5 <= found[signals.SIGNALS][flag]["confidence"] <= 1
    assert found[signals.TRIAGE]["level"] in ("P1", "P2", "P3", "P4")
    assert signals.analyse([]) == []


@pytest.mark.parametrize("text, parts", [
    ("X geht nicht, ich will einen Mitarbeiter", ["X geht nicht", "ich will einen Mitarbeiter"]),
    ("Alles down. Human please!", ["Alles down", "Human please"]),
    ("Mitarbeiter bitte", []),
    ("ok, danke", []),  # one-word clauses are no clauses
])
def test_clauses(text, parts):
    assert clauses(text) == parts


# --- the training data ------------------------------------------------------------------------

def _normalized(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def test_held_out_messages_are_not_training_data():
    training = {_normalized(example.text) for example in flag_examples(ROOT / "data")}
    held_out = yaml.safe_load((ROOT / "tests" / "signals" / "heldout.yml").read_text(encoding="utf-8"))
    assert [row["text"] for row in held_out if _normalized(row["text"]) in training] == []


def test_held_out_set_covers_every_combination_in_both_languages():
    rows = yaml.safe_load((ROOT / "tests" / "signals" / "heldout.yml").read_text(encoding="utf-8"))
    for person in (True, False):
        for problem in (True, False):
            for lang in ("de", "en"):
                assert sum(1 for r in rows if (r["person"], r["problem"], r["lang"]) == (person, problem, lang)) >= 10


def test_block_metadata_labels_mixed_requests():
    examples = flag_examples(ROOT / "data")
    mixed = [e for e in examples if e.labels.get("wants_person") and e.labels.get("describes_problem")]
    assert len(mixed) >= 40
    needs = [e for e in examples if e.labels.get("describes_problem") is False and "konfigur" in e.text.lower()]
    assert needs  # configuration requests filed as problem reports are no problems


def test_a_one_word_request_among_longer_clauses_counts():
    found = signals.analyse(["Das ist jetzt das dritte Mal. MITARBEITER. Die App stürzt bei allen ab."])[0]
    assert found["signals"]["wants_person"]["value"] is True
    assert not signals.analyse(["Hallo. Danke. Die App stürzt bei allen ab."])[0]["signals"]["wants_person"]["value"]


@pytest.mark.parametrize("text, expected", [
    ("wie richte ich einen warteraum ein? bitte an einen mitarbeiter", True),   # a how-to question
    ("could someone help me configure single sign-on?", True),              # the request names it
    ("verbinde mich mit einem mitarbeiter, ich brauche hilfe bei der installation", True),
    ("Can I speak with a support person?", False),                           # "can I" marks a question
    ("ich hätte da eine frage, kann ich mit jemandem sprechen?", False),
    ("Can't you just put me through to a person?", False),                  # "can't": no level cue
])
def test_need_besides_request(text, expected):
    assert signals.need_besides_request(text) is expected


def test_the_problem_is_rated_without_the_request_for_a_person():
    text = "Die Aufnahme bricht ab, sonst läuft alles. Kann ich mit jemandem vom Support sprechen?"
    assert "sprechen" not in signals.without_request(text)
    assert "Aufnahme" in signals.without_request(text)
    assert signals.without_request("Mitarbeiter bitte") == "Mitarbeiter bitte"


def test_clauses_end_at_an_emoji_and_before_a_need_said_in_the_first_person():
    from bot.nlu_models import clauses

    assert clauses("seit 9 uhr startet kein meeting ich brauche sofort einen menschen") == [
        "seit 9 uhr startet kein meeting", "ich brauche sofort einen menschen"]
    assert clauses("get me a person 🙄 the recording button is gone") == ["get me a person", "the recording button is gone"]


def test_a_request_that_names_its_case_stays_in_the_problem_to_rate():
    text = "Could someone help me configure the calendar integration? No rush at all."
    assert "configure the calendar integration" in signals.without_request(text)
    assert signals.without_request("Get me a person. The whiteboard does not save.") == "The whiteboard does not save"


def test_a_how_to_question_after_i_would_like_to_know_is_a_need_besides_the_request():
    assert signals.need_besides_request("kann mir jemand helfen? ich möchte wissen wie ich die warteraum-texte ändere")
    assert signals.need_besides_request("could a person help me, i was wondering how i set a default layout")
    assert not signals.need_besides_request("kann mir jemand helfen?")
