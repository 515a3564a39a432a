"""bot/language.py: per-message detection on a labelled set, and the conversation language rule."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from bot.language import (
    CONFIDENT,
    Detection,
    conversation_language,
    detect,
    identify,
    is_confident,
    normalize_locale,
)

LABELLED = yaml.safe_load((Path(__file__).parent / "data" / "language.yml").read_text("utf-8"))


def _labelled(code):
    return [str(text) for text in LABELLED[code]]


def test_labelled_set_is_big_enough():
    assert len(_labelled("de")) + len(_labelled("en")) + len(_labelled(None)) >= 300
    assert len(_labelled(None)) >= 30


@pytest.mark.parametrize("code", ["de", "en"])
def test_accuracy_when_confident(code):
    messages = _labelled(code)
    confident = [(m, detect(m)) for m in messages]
    confident = [(m, d) for m, d in confident if is_confident(d)]
    wrong = [(m, d) for m, d in confident if d.code != code]
    accuracy = 1 - len(wrong) / len(confident)
    assert accuracy >= 0.97, wrong
    # and it does not get there by abstaining: most real messages are decided
    assert len(confident) / len(messages) >= 0.9


def test_abstains_on_neutral_messages():
    confident = [(m, detect(m)) for m in _labelled(None) if is_confident(detect(m))]
    assert confident == []


@pytest.mark.parametrize(
    "text, code",
    [
        ("danke", "de"), ("hallo", "de"), ("ja", "de"), ("thanks", "en"), ("hello", "en"),
        ("yes", "en"), ("und in Portugal?", "de"), ("and for Austria?", "en"),
        ("Hallo! What's the phone number of support in Japan?", "en"),
        ("Mein Hostschlüssel lautet 739214, wieso geht er nicht?", "de"),
        ("i was charged twice", "en"),
        # a country code is no English "at" or "it"; a shouted English message stays English
        ("nummer AT", "de"), ("Hotline für IT?", "de"), ("I AM LOCKED OUT", "en"),
    ],
)
def test_clear_cases(text, code):
    detection = detect(text)
    assert detection.code == code and is_confident(detection), detection


@pytest.mark.parametrize("text", ["ok", "okay", "P1", "Premier+", "USA", "super", "cool", "hi",
                                  "", "   ", "12345", "UK?", "p3", "zoom"])
def test_neutral_words(text):
    assert not is_confident(detect(text))


def test_detection_shape():
    detection = detect("Wie erreiche ich den Support?")
    assert isinstance(detection, Detection)
    assert 0.0 <= detection.confidence <= 1.0
    assert detection.as_dict()["code"] == "de"
    with pytest.raises(Exception):
        detection.code = "en"  # frozen


def test_fast():
    messages = _labelled("de") + _labelled("en") + _labelled(None)
    start = time.perf_counter()
    for _ in range(5):
        for message in messages:
            detect(message)
    per_message = (time.perf_counter() - start) / (5 * len(messages))
    assert per_message < 0.0005  # typically ~0.01 ms; generous bound for a loaded machine


def test_is_confident_accepts_dicts():
    assert is_confident({"code": "de", "confidence": CONFIDENT})
    assert not is_confident({"code": "de", "confidence": CONFIDENT - 0.01})
    assert not is_confident({"code": None, "confidence": 1.0})
    assert not is_confident({"code": "fr", "confidence": 1.0})
    assert not is_confident(None)
    assert not is_confident({"code": "en", "confidence": "x"})


@pytest.mark.parametrize(
    "locale, code",
    [("de", "de"), ("en", "en"), ("de-DE", "de"), ("en_US", "en"), ("EN-gb", "en"),
     ("de_AT.UTF-8", "de"), ("fr-FR", None), ("", None), (None, None), (42, None)],
)
def test_normalize_locale(locale, code):
    assert normalize_locale(locale) == code


def _turn(text=None, locale=None):
    parse = None if text is None else {"text": text, "language": detect(text).as_dict()}
    meta = None if locale is None else {"locale": locale}
    return parse, meta


def test_default_without_anything():
    assert conversation_language([]) == "de"
    assert conversation_language([], default="en") == "en"
    assert conversation_language([_turn("ok"), _turn("P1")]) == "de"
    assert conversation_language([(None, None)], default="en") == "en"


def test_locale_sets_the_start():
    assert conversation_language([_turn("ok", "en-US")]) == "en"
    assert conversation_language([_turn("P1", "de_DE")], default="en") == "de"
    # the most recent valid locale wins; invalid ones are ignored
    assert conversation_language([_turn("ok", "de"), _turn("ok", "en_GB"), _turn("ok", "fr")]) == "en"


def test_confident_message_beats_locale():
    assert conversation_language([_turn("Wie erreiche ich euch telefonisch?", "en-US")]) == "de"
    assert conversation_language([_turn("ok", "de"), _turn("thanks, what about Japan?", "de")]) == "en"


def test_switching_mid_conversation():
    turns = [_turn("Hallo, welche Nummer gilt für Österreich?", "de"),
             _turn("What is the number for Japan?")]
    assert conversation_language(turns) == "en"
    turns.append(_turn("und in Portugal?"))
    assert conversation_language(turns) == "de"


def test_ok_does_not_flip():
    turns = [_turn("What's the phone number of support in Japan?", "de"), _turn("ok"),
             _turn("P1"), _turn("Premier+"), _turn("USA")]
    assert conversation_language(turns) == "en"
    turns = [_turn("Ich brauche die Hotline für Italien", "en"), _turn("ok"), _turn("cool")]
    assert conversation_language(turns) == "de"


def test_unconfident_detection_in_parse_data_is_ignored():
    turns = [({"language": {"code": "en", "confidence": 0.9}}, None),
             ({"language": {"code": "de", "confidence": 0.1}}, {"locale": "de"})]
    assert conversation_language(turns) == "en"
    turns = [({"language": Detection("de", 0.95)}, None), ({}, {"locale": "en"})]
    assert conversation_language(turns) == "de"


# --- neither German nor English ---------------------------------------------------------------

def test_other_languages_are_recognised():
    from bot.language import OTHER, identify

    messages = _labelled("other")
    assert len(messages) >= 40
    found = [m for m in messages if identify(m).code == OTHER]
    assert len(found) / len(messages) >= 0.9, sorted(set(messages) - set(found))


def test_german_english_and_neutral_messages_are_never_other():
    from bot.language import OTHER, identify

    wrong = [m for code in ("de", "en", None) for m in _labelled(code) if identify(m).code == OTHER]
    assert wrong == []


def test_identify_is_detect_for_german_and_english():
    from bot.language import identify

    for text in ("Welche Nummer hat der Support?", "What is the support number?", "ok", ""):
        assert identify(text) == detect(text)


def test_other_never_becomes_the_conversation_language():
    from bot.language import identify

    turns = [_turn("Hallo, welche Nummer gilt für Österreich?"),
             ({"language": identify("je voudrais parler à un conseiller").as_dict()}, None)]
    assert turns[1][0]["language"]["code"] == "other"
    assert conversation_language(turns) == "de"


def test_words_the_training_data_uses_in_one_language_decide_a_message_with_nothing_else():
    from bot.language import _DE, _EN, _learned

    learned = _learned()
    assert learned, "no words learned from the training data"
    assert not set(learned) & (set(_DE) | set(_EN)), "learned words must be words of no list"
    found = detect("support line AU?")
    assert found.code == "en" and found.confidence < CONFIDENT  # a guess, never a switch


def test_a_country_name_spelt_one_language_s_way_is_evidence_next_to_other_words():
    assert detect("Hong Kong support hotline?").code == "en"
    assert detect("Hongkong Support Hotline?").code == "de"
    assert not is_confident(detect("Hong Kong")) and not is_confident(detect("Hongkong"))


def test_short_english_with_levels_and_support_words_is_no_other_language():
    assert identify("p3 vs p4 response time?").code != "other"
    assert identify("Bonjour, est-ce que vous avez une assistance en français ?").code == "other"
