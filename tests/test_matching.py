"""Mentions of countries, plans, priorities and features in realistic messages."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.knowledge import load_knowledge
from bot.matching import Mention, find_mentions, lookup_terms, resolve_country

KNOWLEDGE_DIR = Path(__file__).resolve().parents[1] / "knowledge"


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge(KNOWLEDGE_DIR)


def found(text, knowledge, entity=None):
    return [(m.entity, m.value) for m in find_mentions(text, knowledge) if entity in (None, m.entity)]


@pytest.mark.parametrize(
    "text, expected",
    [
        # German
        ("Wie lautet die Support-Nummer für Österreich?", ["AT"]),
        ("Ich rufe aus Graz an", ["AT"]),
        ("Hotline in der Schweiz?", ["CH"]),
        ("Ich bin Schweizer, welche Nummer gilt?", ["CH"]),
        ("und in Oesterreich?", ["AT"]),
        ("Gibt es eine Nummer für Osterreich", ["AT"]),
        ("Telefonnummer in den USA bitte", ["US"]),
        ("Wir sitzen in den Vereinigten Staaten", ["US"]),
        ("Ich bin in Amerika unterwegs", ["US"]),
        ("Support in Großbritannien", ["GB"]),
        ("Und im Vereinigten Königreich?", ["GB"]),
        ("Hotline für Deutschland und Italien", ["DE", "IT"]),
        ("Unser Büro ist in München", ["DE"]),
        ("Wir haben Standorte in Wien, Zürich und Berlin", ["AT", "CH", "DE"]),
        ("Nummer für Mexiko-Stadt oder Guadalajara", ["MX", "MX"]),
        ("Gibt es eine Nummer in Norwegen?", ["NO"]),
        ("Und für Polen?", ["PL"]),
        ("Hotline in den Niederlanden", ["NL"]),
        ("Ich brauche die deutsche Nummer", ["DE"]),
        ("Was ist die französische Hotline?", ["FR"]),
        ("Japans Support-Nummer", ["JP"]),
        ("Ich arbeite in Rom und Mailand", ["IT", "IT"]),
        ("Kollegen in Sao Paulo", ["BR"]),
        ("Nummer in Indien", ["IN"]),
        ("und AT?", ["AT"]),
        ("Nummer für DE", ["DE"]),
        # English
        ("What is the support number in Austria?", ["AT"]),
        ("Phone support in the UK?", ["GB"]),
        ("I'm calling from England", ["GB"]),
        ("Our office is in Manchester", ["GB"]),
        ("Number for Scotland please", ["GB"]),
        ("Do you have a number in the United States?", ["US"]),
        ("I am in the US", ["US"]),
        ("We are based in the U.S.", ["US"]),
        ("what about NZ", ["NZ"]),
        ("Our team in Auckland", ["NZ"]),
        ("Calling from Tokyo, then Osaka", ["JP", "JP"]),
        ("Support in Sydney?", ["AU"]),
        ("We are in Mumbai, India", ["IN", "IN"]),
        ("Is there a number for Kuala Lumpur?", ["MY"]),
        ("hotline in São Paulo", ["BR"]),
        ("Office in Paris, Madrid and Barcelona", ["FR", "ES", "ES"]),
        ("Do you have a German number?", ["DE"]),
        ("Support for Switzerland, Bern office", ["CH", "CH"]),
        ("number for Hong Kong", ["HK"]),
        ("number for Hongkong", ["HK"]),
        ("Singapore please", ["SG"]),
        ("Do you have a number for Norway?", ["NO"]),
        ("Swiss hotline", ["CH"]),
    ],
)
def test_countries(knowledge, text, expected):
    assert [value for _, value in found(text, knowledge, "country")] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Is it in English?",
        "Wie geht es dir?",
        "I work at home",
        "Let us know",
        "Can you help us?",
        "Es ist in der Cloud gespeichert",
        "It doesn't work at all",
        "is it in the plan?",
        "Sprichst du Deutsch?",
        "Can I write in German?",
        "Do you speak English or French?",
        "Kann ich auf Englisch schreiben?",
        "Unsere IT sagt, das geht nicht",
        "Die IT-Abteilung hat das eingerichtet",
        "Our IT department set this up",
        "IT is asking for the logs",
        "We use AT&T as our carrier",
        "MY MEETING IS DOWN AND IT IS URGENT",
        "Please sign in to continue",
        "de facto",
        "Meine Meeting-ID ist 123",
        "NO, thanks",
        "I live on an island",
        "South America is not covered?",
        "Ich bin in Südamerika",
        "at the moment",
        "The standard way to do it",
        "P10 and MP1 are not priorities",
    ],
)
def test_false_positive_traps(knowledge, text):
    assert found(text, knowledge, "country") == [] or "P10" in text
    if "P10" in text:
        assert found(text, knowledge) == []
    if "standard" in text:
        assert found(text, knowledge, "plan") == []


def test_codes_only_in_upper_case(knowledge):
    assert found("Nummer für AT", knowledge) == [("country", "AT")]
    assert found("Nummer für at", knowledge) == []
    assert found("Is there one for US users", knowledge) == [("country", "US")]
    assert found("help us", knowledge) == []
    assert found("ES oder IT?", knowledge) == [("country", "ES"), ("country", "IT")]
    assert found("es geht nicht", knowledge) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Was bietet Standard?", ["standard"]),
        ("Was ist im Standard-Plan enthalten?", ["standard"]),
        ("What does the standard plan include?", ["standard"]),
        ("Was kostet Premier?", ["premier"]),
        ("Unterschied zwischen Premier und Premier+", ["premier", "premier_plus"]),
        ("Premier Plus", ["premier_plus"]),
        ("premier plus", ["premier_plus"]),
        ("Premier-Plus", ["premier_plus"]),
        ("PremierPlus", ["premier_plus"]),
        ("Was hat Premier+ mehr?", ["premier_plus"]),
        ("What does premier+ add?", ["premier_plus"]),
        ("Premier+-Kunden", ["premier_plus"]),
    ],
)
def test_plans(knowledge, text, expected):
    assert [value for _, value in found(text, knowledge, "plan")] == expected


def test_premier_plus_is_not_also_premier(knowledge):
    mentions = find_mentions("Premier+ bitte", knowledge)
    assert mentions == [Mention("plan", "premier_plus", 0, 8, "Premier+")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Was bedeutet P1?", ["P1"]),
        ("und p 2?", ["P2"]),
        ("Priorität 3", ["P3"]),
        ("priority 4", ["P4"]),
        ("Prio 1 Ticket", ["P1"]),
        ("Prio1", ["P1"]),
        ("a P-2 issue", ["P2"]),
        ("Priority level 3", ["P3"]),
        ("Unterschied P1 und P4", ["P1", "P4"]),
        ("P1-Problem", ["P1"]),
        ("P10", []),
        ("MP1 Datei", []),
        ("SP1 update", []),
        ("p", []),
    ],
)
def test_priorities(knowledge, text, expected):
    assert [value for _, value in found(text, knowledge, "priority")] == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Kann ich telefonisch Support bekommen?", ["tier1_phone"]),
        ("Darf ich anrufen?", ["tier1_phone"]),
        ("Is phone support included?", ["tier1_phone"]),
        ("Can I call you?", ["tier1_phone"]),
        ("My video call keeps dropping", []),
        ("Gibt es Support per Chat oder Ticket?", ["tier1_chat", "tier1_chat"]),
        ("Ist der Chatbot rund um die Uhr da?", ["self_service"]),
        ("self-service options", ["self_service"]),
        ("Was ist eine priorisierte Antwort?", ["prioritized_response"]),
        ("Do I get a prioritized response?", ["prioritized_response"]),
        ("priority response times", ["prioritized_response"]),
        ("Was ist Direct Tier 2?", ["direct_tier2"]),
        ("Tier-2-Support", ["direct_tier2"]),
        ("Wie funktioniert die automatische Eskalation?", ["automatic_escalation"]),
        ("automatic escalation", ["automatic_escalation"]),
        ("Wer ist denn unser technischer Kundenbetreuer?", ["technical_account_manager"]),
        ("Who is my TAM?", ["technical_account_manager"]),
        ("technical account manager", ["technical_account_manager"]),
        ("Wo ist das Hilfecenter?", ["help_center"]),
        ("Is the help center open 24/7?", ["help_center"]),
    ],
)
def test_features(knowledge, text, expected):
    assert [value for _, value in found(text, knowledge, "feature")] == expected


def test_mixed_message_spans(knowledge):
    text = "Premier+ in der Schweiz: darf ich bei P1 anrufen?"
    mentions = find_mentions(text, knowledge)
    assert [(m.entity, m.value) for m in mentions] == [
        ("plan", "premier_plus"), ("country", "CH"), ("priority", "P1"), ("feature", "tier1_phone")]
    for mention in mentions:
        assert text[mention.start:mention.end] == mention.text
    assert mentions[1].text == "Schweiz"


def test_empty_and_odd_text(knowledge):
    assert find_mentions("", knowledge) == []
    assert find_mentions("   ", knowledge) == []
    assert find_mentions("+41 31 5607204 ???", knowledge) == []
    assert find_mentions("🙂 Österreich 🙂", knowledge) == [Mention("country", "AT", 2, 12, "Österreich")]


def test_matching_is_fast(knowledge):
    text = ("Hallo, ich hätte gerne die Support-Telefonnummer für Österreich, wir haben Premier+ "
            "und ein P1 Problem, unser Büro ist in Graz.")
    find_mentions(text, knowledge)
    runs = 500
    started = time.perf_counter()
    for _ in range(runs):
        find_mentions(text, knowledge)
    per_message = (time.perf_counter() - started) / runs
    assert per_message < 0.001  # ~0.1 ms on the development machine; generous for CI


def test_lookup_terms(knowledge):
    terms = lookup_terms(knowledge)
    assert set(terms) == {"country", "plan", "priority", "feature"}
    assert {"Österreich", "Graz", "UK", "Norwegen"} <= terms["country"]
    assert {"Premier+", "Standard"} <= terms["plan"]
    assert {"P1", "Priorität 1", "Priority 4"} <= terms["priority"]
    assert not any(term.endswith("*") for values in terms.values() for term in values)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("haben wir premier oder standard", ["premier", "standard"]),
        ("wir wollen von standard auf premier wechseln", ["standard", "premier"]),
        ("standard settings", []),
    ],
)
def test_lowercase_standard_needs_another_plan(knowledge, text, expected):
    assert [value for _, value in found(text, knowledge, "plan")] == expected


def test_dial_in_is_not_phone_support(knowledge):
    assert found("Die Telefoneinwahl ins Meeting geht nicht", knowledge) == []
    assert found("dial in by phone doesn't work", knowledge) == []


@pytest.mark.parametrize("text, code", [
    ("Telefonnummer östereich", "AT"), ("hotline frankriech", "FR"), ("nummer deutchland", "DE"),
    ("support schweitz", "CH"), ("Austrailia number", "AU"), ("Neuseland?", "NZ"),
    # the second word of a two-word name
    ("new zeland phone support?", "NZ"), ("united kingdon number", "GB"), ("Nummer für New Zealnd", "NZ"),
])
def test_one_letter_typos_of_long_country_names_resolve(text, code):
    assert [m.value for m in find_mentions(text) if m.entity == "country"] == [code]


@pytest.mark.parametrize("text", ["Ich bin im Urlaub", "Die Spannung steigt", "Englisch bitte", "Polizei",
                                  "new zealots", "united kindness", "the new settings",
                                  "Japanisch lernen", "das Ergebnis", "Schweiß"])
def test_typo_tolerance_does_not_invent_countries(text):
    assert [m for m in find_mentions(text) if m.entity == "country"] == []


@pytest.mark.parametrize("answer, code", [("Frankreic", "FR"), ("Brasillien", "BR"), ("Itlaien", "IT"),
                                          ("nach Frankreic", "FR"), ("Schwiez", "CH")])
def test_a_misspelt_answer_to_which_country_resolves(answer, code):
    # rapidfuzz, only where the caller says the text is a country (not inside free text)
    assert resolve_country(answer).code == code


@pytest.mark.parametrize("answer", ["keine ahnung", "danke", "Premier", "egal", "no idea"])
def test_a_non_country_answer_stays_unresolved(answer):
    assert resolve_country(answer) is None


def test_fuzzy_country_names_are_not_found_in_free_text():
    assert [m for m in find_mentions("das web portal zeigt einen fehler") if m.entity == "country"] == []


def test_a_long_country_name_cut_short_is_found():
    assert [(m.entity, m.value) for m in find_mentions("frankreic hotline")][:1] == [("country", "FR")]
    assert [m for m in find_mentions("Germa") if m.entity == "country"] == []


def test_short_names_that_are_no_word_match_in_any_case():
    assert [(m.entity, m.value) for m in find_mentions("ok, uk then")] == [("country", "GB")]
    assert not [m for m in find_mentions("Ukraine") if m.value == "GB"]


def test_codes_that_are_no_words_count_in_any_case_and_us_only_before_a_phone_noun():
    def countries(text):
        return [m.value for m in find_mentions(text) if m.entity == "country"]

    assert countries("nz hotline") == ["NZ"] and countries("nummer ch?") == ["CH"] and countries("jp support") == ["JP"]
    assert countries("us hotline please") == ["US"] and countries("the us phone number") == ["US"]
    assert countries("can you give us support") == [] and countries("call us") == [] and countries("let us phone you") == []
