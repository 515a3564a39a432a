"""The knowledge data against the seed page: every fact copied right, every alias resolving."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeError, load_knowledge
from bot.matching import find_mentions
from bot.matching import resolve_country as _resolve


def resolve_country(knowledge, name):
    return _resolve(name, knowledge)

REPO = Path(__file__).resolve().parents[1]
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "support-page-de.txt"
KNOWLEDGE_DIR = REPO / "knowledge"


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge(KNOWLEDGE_DIR)


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    # The seed is at ../shared/seed/ in every checkout and in CI: a missing seed is a failure.
    assert SEED.exists(), f"seed page not found at {SEED}"
    return SEED.read_text(encoding="utf-8").splitlines()


def _table(lines: list[str], header: str, end: str) -> list[list[str]]:
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith(end) or "|" not in line:
            break
        rows.append([cell.strip() for cell in line.split("|")])
    return rows


@pytest.fixture(scope="module")
def seed_phones(seed_lines) -> dict[str, list[tuple[str, str | None]]]:
    """Seed country name -> [(number as written, extension or None)]."""
    phones = {}
    for name, numbers, *_ in _table(seed_lines, "Land | Telefonnummer", "Bitte beachten"):
        entries = []
        for part in numbers.split(" oder "):
            match = re.fullmatch(r"(.+?)(?: Durchwahl (\d+))?", part.strip())
            entries.append((match.group(1), match.group(2)))
        phones[name] = entries
    return phones


# --------------------------------------------------------------------------- phones


def test_every_seed_country_has_its_numbers_digit_for_digit(knowledge, seed_phones):
    assert len(seed_phones) == 17  # the seed's table has 17 rows (SPEC §1.2 says 18)
    assert len(knowledge.phone_countries) == len(seed_phones)
    for seed_name, seed_numbers in seed_phones.items():
        country = resolve_country(knowledge, seed_name)
        assert country is not None, seed_name
        numbers = knowledge.phones_for(country.code)
        assert [re.sub(r"\D", "", n) for n, _ in seed_numbers] == [p.digits for p in numbers], seed_name
        assert [n for n, _ in seed_numbers] == [p.number for p in numbers], seed_name
        assert [e for _, e in seed_numbers] == [p.extension for p in numbers], seed_name


def test_phone_countries_follow_the_seed_order(knowledge, seed_phones):
    resolved = [resolve_country(knowledge, name).code for name in seed_phones]
    assert [c.code for c in knowledge.phone_countries] == resolved


def test_extensions_where_the_seed_gives_them(knowledge):
    assert [p.extension for p in knowledge.phones_for("HK")] == [None]
    assert [p.extension for p in knowledge.phones_for("JP")] == [None, "2"]
    assert all(p.extension == "2" for p in knowledge.phones_for("AT"))


def test_phone_number_rendering(knowledge):
    us = knowledge.phones_for("US")[0]
    assert us.text("de") == "+1.888.799.9666 Durchwahl 2"
    assert us.text("en") == "+1.888.799.9666 extension 2"
    assert us.tel == "tel:+18887999666"
    assert knowledge.phones_for("HK")[0].text("de") == "+852.3002.3757"
    assert knowledge.phones_for("BR")[0].tel == "tel:08007612618"


def test_phone_notes_from_the_seed(knowledge, seed_lines):
    text = "\n".join(seed_lines)
    assert knowledge.phone_info.long_distance.de in text
    assert "Meeting-ID" in knowledge.phone_info.have_ready.de and "Hostschlüssel" in knowledge.phone_info.have_ready.de
    assert "host key" in knowledge.phone_info.have_ready.en
    assert "API" in knowledge.phone_info.eligibility.de and "Premier+" in knowledge.phone_info.eligibility.de


def test_countries_without_a_number(knowledge):
    assert knowledge.phones_for("NO") == ()
    assert not knowledge.country("PL").has_phone
    assert knowledge.phones_for("XX") == ()


# --------------------------------------------------------------------------- countries


def test_every_alias_and_code_resolves_to_its_country(knowledge):
    for country in knowledge.countries.values():
        for alias in (*country.vocabulary.aliases, *country.vocabulary.exact):
            resolved = resolve_country(knowledge, alias.rstrip("*"))
            assert resolved is not None and resolved.code == country.code, (alias, country.code)


def test_every_alias_is_found_in_a_sentence(knowledge):
    for country in knowledge.countries.values():
        for alias in country.vocabulary.aliases:
            sentence = f"Gibt es eine Nummer für {alias.rstrip('*')}?"
            values = [m.value for m in find_mentions(sentence, knowledge) if m.entity == "country"]
            assert values == [country.code], (alias, values)


def test_country_names_and_dative_forms_resolve(knowledge):
    for country in knowledge.countries.values():
        for form in (country.name.de, country.name.en, country.dative.de, country.dative.en, country.code):
            assert resolve_country(knowledge, form) is country, form
            assert resolve_country(knowledge, f"in {form}") is country, form


def test_language_adjectives_mean_the_country_before_a_phone_word(knowledge):
    for country in knowledge.countries.values():
        for adjective in country.language_adjectives:
            found = find_mentions(f"the {adjective} number", knowledge)
            assert [(m.entity, m.value) for m in found] == [("country", country.code)], adjective


def test_country_codes_are_iso_and_the_phone_countries_known(knowledge):
    assert len(knowledge.countries) >= 55
    for code in ("US", "AU", "AT", "BR", "FR", "DE", "HK", "IN", "IT", "JP", "MY", "MX", "NZ", "SG", "ES",
                 "CH", "GB", "NO", "PL", "NL", "BE", "SE", "DK", "FI", "CZ", "PT", "IE", "CA", "CN", "KR",
                 "RU", "TR", "ZA", "AR", "CL", "LU", "LI", "GR", "HU", "RO", "UA", "IL", "AE", "SA", "EG",
                 "NG", "KE", "TH", "ID", "PH", "VN", "TW", "CO", "PE", "HR", "SK", "SI", "BG", "IS"):
        assert code in knowledge.countries, code


@pytest.mark.parametrize(
    "name, code",
    [("der Schweiz", "CH"), ("in der Schweiz", "CH"), ("aus Graz", "AT"), ("den USA", "US"),
     ("den Niederlanden", "NL"), ("the UK", "GB"), ("uk", "GB"), ("at", "AT"), ("Oesterreich", "AT"),
     ("England", "GB"), ("Scotland", "GB"), ("Wales", "GB"), ("Northern Ireland", "GB"),
     ("Great Britain", "GB"), ("Britain", "GB"), ("Mexico City", "MX"), ("Hong Kong", "HK")],
)
def test_resolve_country_phrases(knowledge, name, code):
    assert resolve_country(knowledge, name).code == code


def test_resolve_country_unknown(knowledge):
    assert resolve_country(knowledge, "Atlantis") is None
    assert resolve_country(knowledge, "") is None


def test_country_phrases_for_answers(knowledge):
    assert knowledge.country("ch").in_("de") == "in der Schweiz"
    assert knowledge.country("US").in_("de") == "in den USA"
    assert knowledge.country("US").in_("en") == "in the United States"
    assert knowledge.country("AT").in_("en") == "in Austria"


# --------------------------------------------------------------------------- plans


def test_plans_in_order(knowledge):
    assert list(knowledge.plans) == ["standard", "premier", "premier_plus"]
    assert knowledge.plans["premier_plus"].name.de == "Premier+"


def test_plans_are_cumulative(knowledge):
    standard, premier, plus = knowledge.plans.values()
    assert set(standard.feature_ids) <= set(premier.feature_ids) <= set(plus.feature_ids)
    assert premier.previous == "standard" and plus.previous == "premier" and standard.previous is None


def test_plan_table_as_in_spec(knowledge):
    expected = {
        "standard": {"help_center": "everyone_all_accounts", "self_service": "everyone_all_accounts",
                     "tier1_chat": "admins_and_licensed_members", "tier1_phone": "licensed_admins"},
        "premier": {"help_center": "everyone", "self_service": "everyone", "tier1_chat": "licensed_members",
                    "tier1_phone": "licensed_members", "prioritized_response": "included",
                    "direct_tier2": "licensed_admins"},
        "premier_plus": {"help_center": "everyone", "self_service": "everyone", "tier1_chat": "licensed_members",
                         "tier1_phone": "licensed_members", "prioritized_response": "included",
                         "direct_tier2": "licensed_admins", "automatic_escalation": "included",
                         "technical_account_manager": "included"},
    }
    for plan_id, features in expected.items():
        plan = knowledge.plans[plan_id]
        assert {pf.feature.id: pf.audience.id for pf in plan.features} == features


def test_plan_audience_texts_are_the_seeds(knowledge, seed_lines):
    text = "\n".join(seed_lines)
    for audience in knowledge.audiences.values():
        assert audience.text.de in text, audience.id


def test_footnotes(knowledge):
    phone = knowledge.plans["standard"].feature("tier1_phone")
    assert "Business" in phone.footnote.de and "API" in phone.footnote.en
    assert knowledge.plans["premier"].feature("prioritized_response").footnote is not None
    assert knowledge.plans["standard"].feature("prioritized_response") is None


def test_what_each_plan_adds(knowledge):
    assert knowledge.plans["standard"].adds == ()
    premier = {(c.feature.id, c.is_new) for c in knowledge.plans["premier"].adds}
    assert premier == {("prioritized_response", True), ("direct_tier2", True), ("tier1_phone", False)}
    plus = {(c.feature.id, c.is_new) for c in knowledge.plans["premier_plus"].adds}
    assert plus == {("automatic_escalation", True), ("technical_account_manager", True)}


def test_prioritized_plans(knowledge):
    assert knowledge.prioritized_plans == ("premier", "premier_plus")
    assert knowledge.plan_is_prioritized("premier") and not knowledge.plan_is_prioritized("standard")


# --------------------------------------------------------------------------- priorities


def test_priority_times_as_in_seed(knowledge, seed_lines):
    rows = _table(seed_lines, "Priorität | Dauer bis zur ersten", "Priorität | Definition")
    assert [row[0] for row in rows] == ["P1", "P2", "P3", "P4"]
    for level, first, restoration, *_ in [row + ["", ""] for row in rows]:
        priority = knowledge.priorities[level]
        assert priority.first_response.text("de") == first
        assert (priority.restoration.text("de") if priority.restoration else "") == restoration


def test_priority_hours(knowledge):
    hours = {p.level: (p.first_response.hours, p.restoration and p.restoration.hours)
             for p in knowledge.priorities.values()}
    assert hours == {"P1": (1, 4), "P2": (4, 8), "P3": (24, None), "P4": (24, None)}
    assert knowledge.priorities["P1"].first_response.text("en") == "1 hour"
    assert knowledge.priorities["P2"].restoration.text("en") == "8 hours"


def _squash(text: str) -> str:
    return re.sub(r"\s+([.,])", r"\1", re.sub(r"/\s+", "/", " ".join(text.split())))


def test_priority_definitions_and_resources_are_the_seeds(knowledge, seed_lines):
    for level, definition, resources, *_ in _table(seed_lines, "Priorität | Definition", "\x00"):
        priority = knowledge.priorities[level]
        assert _squash(priority.definition.de) == _squash(definition)
        assert _squash(priority.resources.de) == _squash(resources)
        assert priority.definition.en and priority.resources.en


# --------------------------------------------------------------------------- channels


def test_channels(knowledge):
    assert set(knowledge.channels) == {"help_center", "community", "billing_support", "social_media",
                                       "web_ticket", "account_rep", "chatbot"}
    assert knowledge.channels["help_center"].availability.en == "24/7"
    assert "Anmeldeinformationen" in knowledge.channels["community"].how.de
    assert "Webticket-Anfrage" in knowledge.channels["web_ticket"].how.de
    assert "kostenpflichtiger Konten" in knowledge.channels["chatbot"].description.de


# --------------------------------------------------------------------------- loading


def test_loading_is_cached_per_directory(knowledge):
    assert load_knowledge(KNOWLEDGE_DIR) is knowledge
    assert load_knowledge(str(KNOWLEDGE_DIR)) is knowledge


def _broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    directory = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, directory)
    text = (directory / file).read_text(encoding="utf-8")
    assert old in text
    (directory / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    "file, old, new, expected",
    [
        ("phones.yml", '{number: "+81 120427732", extension: null}', "{extension: null}",
         r"phones\.yml: countries\.JP\[0\]: missing key 'number'"),
        ("phones.yml", '"+852.3002.3757"', '"+852 call us"', r"phones\.yml: countries\.HK\[0\]\.number"),
        ("plans.yml", "direct_tier2: licensed_admins\n  premier_plus", "direct_tier2: admins\n  premier_plus",
         r"plans\.yml: plans\.premier\.features\.direct_tier2: unknown audience 'admins'"),
        ("plans.yml", "      automatic_escalation: included\n", "",
         None),
        ("priorities.yml", "first_response_hours: 1\n", "first_response_hours: one\n",
         r"priorities\.yml: levels\.P1\.first_response_hours"),
        ("channels.yml", "    name: {de: Zoom Community, en: Zoom Community}", "    name: {de: Zoom Community}",
         r"channels\.yml: channels\.community\.name: missing language\(s\) en"),
    ],
)
def test_malformed_data_names_file_and_key(tmp_path, file, old, new, expected):
    directory = _broken_copy(tmp_path, file, old, new)
    if expected is None:  # removing a feature from a plan is fine as long as the chain stays cumulative
        assert "automatic_escalation" not in load_knowledge(directory).plans["premier_plus"].feature_ids
        return
    with pytest.raises(KnowledgeError, match=expected):
        load_knowledge(directory)


def test_plans_must_be_cumulative(tmp_path):
    directory = _broken_copy(tmp_path, "plans.yml", "      direct_tier2: licensed_admins\n      automatic_escalation",
                             "      automatic_escalation")
    with pytest.raises(KnowledgeError, match=r"plans\.yml: plans\.premier_plus\.features: plans are cumulative"):
        load_knowledge(directory)


def test_ambiguous_alias_is_rejected(tmp_path):
    directory = _broken_copy(tmp_path, "countries.yml", "aliases: [Polen,", "aliases: [Wien, Polen,")
    with pytest.raises(KnowledgeError, match=r"countries\.yml: 'Wien' would mean both country AT and country PL"):
        find_mentions("Wien", load_knowledge(directory))


def test_short_case_insensitive_alias_is_rejected(tmp_path):
    directory = _broken_copy(tmp_path, "countries.yml", "aliases: [Polen,", "aliases: [pl, Polen,")
    with pytest.raises(KnowledgeError, match=r"countries\.yml: alias 'pl' of PL is too short"):
        find_mentions("Polen", load_knowledge(directory))


def test_missing_directory(tmp_path):
    with pytest.raises(KnowledgeError, match="features.yml: file not found"):
        load_knowledge(tmp_path / "nowhere")
