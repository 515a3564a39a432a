"""The support knowledge (plans, phone numbers, countries, priorities, channels, triage cues).

Every fact lives in the YAML files of `knowledge/` (German and English text); this module
turns them into typed, immutable objects and checks them on load, so that a typo in the data
fails loudly with the file and key instead of producing a wrong answer later.

    knowledge = load_knowledge()                # cached per directory
    knowledge.plans["premier"].adds             # what Premier adds over Standard
    knowledge.phones_for("AT")                  # the two Austrian numbers
    knowledge.priorities["P1"].first_response.text("de")  # "1 Stunde"

Nothing is read at import time. Finding names in text ("aus Graz" -> AT) is `bot.matching`'s
job, built on these objects; this module imports nothing of it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from bot.levels import PRIORITY_LEVELS

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
FILES = ("features.yml", "plans.yml", "countries.yml", "phones.yml", "priorities.yml",
         "channels.yml", "triage.yml")


class KnowledgeError(ValueError):
    """The knowledge data is missing or malformed; the message names the file and the key."""


# --------------------------------------------------------------------------- value types


@dataclass(frozen=True)
class Localized:
    """A text in German and English."""

    de: str
    en: str

    def get(self, language: str | None) -> str:
        """The text in `language`; German for anything but "en" (the project's default)."""
        return self.en if language == "en" else self.de

    __call__ = get


@dataclass(frozen=True)
class Hours:
    """A whole number of hours, rendered as "1 Stunde" / "4 hours"."""

    hours: int

    def text(self, language: str | None) -> str:
        if language == "en":
            return f"{self.hours} hour" if self.hours == 1 else f"{self.hours} hours"
        return f"{self.hours} Stunde" if self.hours == 1 else f"{self.hours} Stunden"


@dataclass(frozen=True)
class Vocabulary:
    """How users name something (see the header of `knowledge/countries.yml`).

    `aliases` are matched case-insensitively (a trailing "*" = word prefix), `exact` only as
    written, as a standalone word, `contextual` in any case but only when the same message
    names another value of the same entity ("von standard auf premier").
    """

    aliases: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    contextual: tuple[str, ...] = ()
    # short forms that are no word of German or English ("uk"), matched in any case
    short: tuple[str, ...] = ()
    # codes that are words too ("us"): in any case, but only right before a phone noun
    before_nouns: tuple[str, ...] = ()


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class Feature:
    """One row of the plan table (`features.yml`). `id` is the `feature` entity value."""

    id: str
    name: Localized
    short: Localized
    vocabulary: Vocabulary


@dataclass(frozen=True)
class Audience:
    """Who gets a feature in a plan ("Lizenzierte Mitglieder"); `id` e.g. "licensed_members"."""

    id: str
    text: Localized


@dataclass(frozen=True)
class PlanFeature:
    """A feature as a plan includes it: for whom, with an optional footnote."""

    feature: Feature
    audience: Audience
    footnote: Localized | None = None


@dataclass(frozen=True)
class PlanChange:
    """What a plan adds over the previous one: a new feature, or one for more people
    (marked `widens: true` in plans.yml)."""

    feature: Feature
    audience: Audience
    previous_audience: Audience | None  # None: the feature is new in this plan

    @property
    def is_new(self) -> bool:
        return self.previous_audience is None


@dataclass(frozen=True)
class Plan:
    """A support plan (`plans.yml`). `id` is the `plan` entity value.

    `features` holds everything the plan includes (table order); `adds` what it adds over
    `previous` (the next cheaper plan; None for Standard).
    """

    id: str
    name: Localized
    rank: int
    previous: str | None
    features: tuple[PlanFeature, ...]
    adds: tuple[PlanChange, ...]
    vocabulary: Vocabulary

    def feature(self, feature_id: str) -> PlanFeature | None:
        """The plan's entry for `feature_id`, or None when the plan does not include it."""
        return next((pf for pf in self.features if pf.feature.id == feature_id), None)

    def includes(self, feature_id: str) -> bool:
        return self.feature(feature_id) is not None

    @property
    def feature_ids(self) -> tuple[str, ...]:
        return tuple(pf.feature.id for pf in self.features)


# --------------------------------------------------------------------------- countries, phones


@dataclass(frozen=True)
class PhoneNumber:
    """A support number exactly as the seed writes it, with its extension ("Durchwahl")."""

    number: str
    extension: str | None

    @property
    def digits(self) -> str:
        """Only the digits of `number` ("+43.3162 31266" -> "43316231266")."""
        return re.sub(r"\D", "", self.number)

    @property
    def tel(self) -> str:
        """A `tel:` URI for the number (without the extension)."""
        return "tel:" + ("+" if self.number.startswith("+") else "") + self.digits

    def text(self, language: str | None) -> str:
        """The number with its extension: "+1.888.799.9666 Durchwahl 2" / "… extension 2"."""
        if self.extension is None:
            return self.number
        label = "extension" if language == "en" else "Durchwahl"
        return f"{self.number} {label} {self.extension}"


@dataclass(frozen=True)
class Country:
    """A country users may name (`countries.yml`); `code` is ISO 3166 alpha-2, upper case.

    `name` is the nominative ("Schweiz"), `dative` the form after a preposition with the
    article the language needs ("der Schweiz", "the United States"). `phones` is empty for
    countries without a support number.
    """

    code: str
    name: Localized
    dative: Localized
    vocabulary: Vocabulary
    language_adjectives: tuple[str, ...]
    code_not_after: frozenset[str]  # an upper-case code right after one of these is no country
    code_not_before: frozenset[str]  # ... nor right before one of these ("IT department")
    phones: tuple[PhoneNumber, ...] = ()

    @property
    def has_phone(self) -> bool:
        return bool(self.phones)

    def in_(self, language: str | None) -> str:
        """ "in der Schweiz" / "in the United States"."""
        phrase = f"in {self.dative.get(language)}"
        # German contracts "in dem" ("im Vereinigten Königreich").
        return "im " + phrase[len("in dem "):] if phrase.startswith("in dem ") else phrase


@dataclass(frozen=True)
class PhoneInfo:
    """The notes that go with the phone numbers (`phones.yml`)."""

    eligibility: Localized
    have_ready: Localized
    long_distance: Localized
    countries: tuple[str, ...]  # codes of the countries with numbers, in the seed's order


# --------------------------------------------------------------------------- priorities, channels


@dataclass(frozen=True)
class Priority:
    """A priority level P1..P4 (`priorities.yml`). `restoration` is None when none is stated."""

    level: str
    summary: Localized
    definition: Localized
    first_response: Hours
    restoration: Hours | None
    resources: Localized
    resources_summary: Localized


@dataclass(frozen=True)
class Channel:
    """A support channel (`channels.yml`): help_center, community, billing_support,
    social_media, web_ticket, account_rep, chatbot."""

    id: str
    name: Localized
    description: Localized
    availability: Localized | None
    how: Localized | None


# --------------------------------------------------------------------------- triage


@dataclass(frozen=True)
class TriageCue:
    """A phrase that points to a level (`triage.yml`), in the cue syntax described there."""

    text: str
    language: str
    weight: float


@dataclass(frozen=True)
class TriageRules:
    """The cue lists of `triage.yml`; `bot.triage` compiles them."""

    levels: Mapping[str, tuple[TriageCue, ...]]
    problem_cues: tuple[TriageCue, ...]
    negations: frozenset[str]
    default_problem_confidence: float
    default_other_confidence: float
    # Aspects of a description that decide between two levels only together ("for everyone"
    # with "the meetings themselves run" is P2, without it P3): name -> cues (bot.triage).
    aspects: Mapping[str, tuple[TriageCue, ...]] = field(default_factory=dict)


# --------------------------------------------------------------------------- the whole


@dataclass(frozen=True, eq=False)  # identity hash: derived indexes (bot.matching, bot.triage) key on it
class Knowledge:
    """Everything in `knowledge/`. Mappings keep the files' order."""

    directory: Path
    features: Mapping[str, Feature]
    audiences: Mapping[str, Audience]
    plans: Mapping[str, Plan]  # standard, premier, premier_plus (cheapest first)
    countries: Mapping[str, Country]
    phone_info: PhoneInfo
    priorities: Mapping[str, Priority]  # P1..P4
    prioritized_plans: tuple[str, ...]
    prioritized_note: Localized
    priority_prefixes: tuple[str, ...]
    channels: Mapping[str, Channel]
    triage: TriageRules
    ignore_phrases: tuple[str, ...]
    adjective_nouns: tuple[str, ...]

    def country(self, code: str) -> Country:
        """The country with ISO code `code` (any case); KeyError if unknown."""
        return self.countries[code.upper()]

    def phones_for(self, code: str) -> tuple[PhoneNumber, ...]:
        """The support numbers of a country; empty if it has none or is unknown."""
        country = self.countries.get(code.upper())
        return country.phones if country else ()

    @property
    def phone_countries(self) -> tuple[Country, ...]:
        """The countries with a support number, in the seed's order."""
        return tuple(self.countries[code] for code in self.phone_info.countries)

    def plan_is_prioritized(self, plan_id: str) -> bool:
        """Whether the plan gets prioritized responses with the P1..P4 deadlines."""
        return plan_id in self.prioritized_plans


# --------------------------------------------------------------------------- loading


def load_knowledge(directory: Path | str | None = None) -> Knowledge:
    """Load and check `knowledge/` (default: `Settings.knowledge_dir`), cached per directory.

    Raises `KnowledgeError` naming the file and key when something is missing or malformed.
    """
    if directory is None:
        from bot.settings import get_settings

        directory = get_settings().knowledge_dir
    return _load_cached(Path(directory).resolve())


@lru_cache(maxsize=8)
def _load_cached(directory: Path) -> Knowledge:
    return _Loader(directory).load()


class _Node:
    """A value read from a YAML file together with where it came from, for error messages."""

    def __init__(self, file: str, path: str, value: Any) -> None:
        self.file, self.path, self.value = file, path, value

    def fail(self, problem: str) -> KnowledgeError:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return KnowledgeError(f"knowledge/{where}: {problem}")

    def child(self, key: str | int, value: Any) -> "_Node":
        step = f"[{key}]" if isinstance(key, int) else (f".{key}" if self.path else str(key))
        return _Node(self.file, f"{self.path}{step}", value)

    def __getitem__(self, key: str) -> "_Node":
        mapping = self.mapping()
        if key not in mapping:
            raise self.fail(f"missing key {key!r}")
        return self.child(key, mapping[key])

    def get(self, key: str, default: Any = None) -> "_Node":
        return self.child(key, self.mapping().get(key, default))

    def mapping(self) -> dict:
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping, got {type(self.value).__name__}")
        return self.value

    def items(self) -> Iterator[tuple[str, "_Node"]]:
        for key, value in self.mapping().items():
            if not isinstance(key, str):
                raise self.fail(f"key {key!r} is not a string")
            yield key, self.child(key, value)

    def list(self, allow_missing: bool = False) -> list["_Node"]:
        if self.value is None and allow_missing:
            return []
        if not isinstance(self.value, list):
            raise self.fail(f"expected a list, got {type(self.value).__name__}")
        return [self.child(i, v) for i, v in enumerate(self.value)]

    def text(self) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.fail("expected a non-empty string")
        return self.value.strip()

    def strings(self, allow_missing: bool = True) -> tuple[str, ...]:
        return tuple(node.text() for node in self.list(allow_missing=allow_missing))

    def localized(self) -> Localized:
        mapping = self.mapping()
        missing = [lang for lang in LANGUAGES if lang not in mapping]
        if missing:
            raise self.fail(f"missing language(s) {', '.join(missing)}")
        return Localized(**{lang: self[lang].text() for lang in LANGUAGES})

    def optional_localized(self) -> Localized | None:
        return None if self.value is None else self.localized()

    def hours(self, allow_none: bool = False) -> Hours | None:
        if self.value is None and allow_none:
            return None
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value <= 0:
            raise self.fail("expected a positive whole number of hours")
        return Hours(self.value)

    def number(self) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise self.fail("expected a number")
        return float(self.value)


_FEATURE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_ISO_CODE = re.compile(r"^[A-Z]{2}$")


class _Loader:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def read(self, name: str) -> _Node:
        path = self.directory / name
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KnowledgeError(f"knowledge/{name}: file not found in {self.directory}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise KnowledgeError(f"knowledge/{name}: not valid YAML: {error}") from None
        node = _Node(name, "", data)
        node.mapping()
        return node

    def load(self) -> Knowledge:
        features_file = self.read("features.yml")
        features = self.features(features_file)
        plans_file = self.read("plans.yml")
        audiences = {key: Audience(key, node.localized()) for key, node in plans_file["audiences"].items()}
        plans = self.plans(plans_file, features, audiences)
        countries_file = self.read("countries.yml")
        phones_file = self.read("phones.yml")
        phones = self.phones(phones_file)
        countries = self.countries(countries_file, phones, phones_file)
        priorities_file = self.read("priorities.yml")
        priorities = self.priorities(priorities_file)
        prioritized_plans = priorities_file["prioritized_plans"].strings(allow_missing=False)
        for i, plan_id in enumerate(prioritized_plans):
            if plan_id not in plans:
                raise priorities_file["prioritized_plans"].child(i, plan_id).fail(f"unknown plan {plan_id!r}")
        channels_file = self.read("channels.yml")
        channels = {
            key: Channel(
                id=key,
                name=node["name"].localized(),
                description=node["description"].localized(),
                availability=node.get("availability").optional_localized(),
                how=node.get("how").optional_localized(),
            )
            for key, node in channels_file["channels"].items()
        }
        return Knowledge(
            directory=self.directory,
            features=features,
            audiences=audiences,
            plans=plans,
            countries=countries,
            phone_info=PhoneInfo(
                eligibility=phones_file["eligibility"].localized(),
                have_ready=phones_file["have_ready"].localized(),
                long_distance=phones_file["long_distance"].localized(),
                countries=tuple(phones),
            ),
            priorities=priorities,
            prioritized_plans=prioritized_plans,
            prioritized_note=priorities_file["prioritized_note"].localized(),
            priority_prefixes=priorities_file["mention_prefixes"].strings(allow_missing=False),
            channels=channels,
            triage=self.triage(self.read("triage.yml")),
            ignore_phrases=features_file.get("ignore").strings() + countries_file.get("ignore").strings(),
            adjective_nouns=countries_file.get("adjective_nouns").strings(),
        )

    @staticmethod
    def vocabulary(node: _Node) -> Vocabulary:
        return Vocabulary(
            aliases=node.get("aliases").strings(),
            exact=node.get("exact").strings(),
            contextual=node.get("contextual").strings(),
        )

    def features(self, file: _Node) -> dict[str, Feature]:
        features = {}
        for key, node in file["features"].items():
            if not _FEATURE_ID.match(key):
                raise node.fail("feature ids are lower_snake_case")
            features[key] = Feature(key, node["name"].localized(), node["short"].localized(), self.vocabulary(node))
        return features

    def plans(self, file: _Node, features: Mapping[str, Feature], audiences: Mapping[str, Audience]) -> dict[str, Plan]:
        footnotes = {key: node.localized() for key, node in file["footnotes"].items()}
        plans: dict[str, Plan] = {}
        previous: Plan | None = None
        for rank, (plan_id, node) in enumerate(file["plans"].items()):
            entries: list[PlanFeature] = []
            adds: list[PlanChange] = []
            for feature_id, entry in node["features"].items():
                if feature_id not in features:
                    raise entry.fail(f"unknown feature {feature_id!r} (see features.yml)")
                widens = False
                if isinstance(entry.value, str):
                    audience_id, footnote_id = entry.value, None
                else:
                    audience_id = entry["audience"].text()
                    footnote_id = entry.get("footnote").value
                    widens = entry.get("widens", False).value is True
                if audience_id not in audiences:
                    raise entry.fail(f"unknown audience {audience_id!r} (see audiences)")
                if footnote_id is not None and footnote_id not in footnotes:
                    raise entry.fail(f"unknown footnote {footnote_id!r} (see footnotes)")
                plan_feature = PlanFeature(
                    features[feature_id], audiences[audience_id],
                    footnotes[footnote_id] if footnote_id else None,
                )
                entries.append(plan_feature)
                before = previous.feature(feature_id) if previous else None
                if widens and (before is None or before.audience == plan_feature.audience):
                    raise entry.fail("widens: true needs the previous plan to have this feature for another audience")
                if previous is not None and (before is None or widens):
                    adds.append(PlanChange(plan_feature.feature, plan_feature.audience, before.audience if before else None))
            if previous is not None:
                missing = [fid for fid in previous.feature_ids if fid not in {e.feature.id for e in entries}]
                if missing:
                    raise node["features"].fail(
                        f"plans are cumulative, but {plan_id!r} lacks {', '.join(missing)} of {previous.id!r}"
                    )
            plan = Plan(
                id=plan_id,
                name=node["name"].localized(),
                rank=rank,
                previous=previous.id if previous else None,
                features=tuple(entries),
                adds=tuple(adds),
                vocabulary=self.vocabulary(node),
            )
            plans[plan_id] = previous = plan
        if not plans:
            raise file["plans"].fail("no plans")
        return plans

    def phones(self, file: _Node) -> dict[str, tuple[PhoneNumber, ...]]:
        phones = {}
        for code, node in file["countries"].items():
            if not _ISO_CODE.match(code):
                raise node.fail("country keys are ISO 3166 alpha-2 codes in upper case")
            numbers = []
            for entry in node.list():
                number = entry["number"].text()
                if not re.fullmatch(r"\+?[0-9][0-9 .]*[0-9]", number):
                    raise entry["number"].fail(f"{number!r} is not a phone number")
                extension = entry["extension"].value
                if extension is not None:
                    extension = str(extension)
                    if not extension.isdigit():
                        raise entry["extension"].fail("expected digits or null")
                numbers.append(PhoneNumber(number, extension))
            if not numbers:
                raise node.fail("no numbers")
            phones[code] = tuple(numbers)
        return phones

    def countries(self, file: _Node, phones: Mapping[str, tuple[PhoneNumber, ...]], phones_file: _Node) -> dict[str, Country]:
        countries = {}
        for code, node in file["countries"].items():
            if not _ISO_CODE.match(code):
                raise node.fail("country keys are ISO 3166 alpha-2 codes in upper case")
            name = node["name"].localized()
            guard = node.get("code_guard", {})
            countries[code] = Country(
                code=code,
                name=name,
                dative=node["dative"].localized() if "dative" in node.mapping() else name,
                vocabulary=Vocabulary(node.get("aliases").strings(), node.get("codes").strings(),
                                      short=node.get("short_names").strings(),
                                      before_nouns=node.get("codes_before_nouns").strings()),
                language_adjectives=node.get("language_adjectives").strings(),
                code_not_after=frozenset(guard.get("not_after").strings()),
                code_not_before=frozenset(guard.get("not_before").strings()),
                phones=phones.get(code, ()),
            )
        for code in phones:
            if code not in countries:
                raise phones_file["countries"][code].fail(f"country {code!r} is not in countries.yml")
        return countries

    def priorities(self, file: _Node) -> dict[str, Priority]:
        levels = file["levels"]
        found = tuple(key for key, _ in levels.items())
        if found != PRIORITY_LEVELS:
            raise levels.fail(f"expected the levels {', '.join(PRIORITY_LEVELS)} in order, got {', '.join(found)}")
        return {
            level: Priority(
                level=level,
                summary=node["summary"].localized(),
                definition=node["definition"].localized(),
                first_response=node["first_response_hours"].hours(),
                restoration=node["restoration_hours"].hours(allow_none=True),
                resources=node["resources"].localized(),
                resources_summary=node["resources_summary"].localized(),
            )
            for level, node in levels.items()
        }

    @staticmethod
    def cues(node: _Node, default_weight: float) -> tuple[TriageCue, ...]:
        cues = []
        for language in LANGUAGES:
            for entry in node[language].list():
                if isinstance(entry.value, dict):
                    cues.append(TriageCue(entry["cue"].text(), language, entry["weight"].number()))
                else:
                    cues.append(TriageCue(entry.text(), language, default_weight))
        return tuple(cues)

    def triage(self, file: _Node) -> TriageRules:
        levels = {}
        for level, node in file["levels"].items():
            if level not in PRIORITY_LEVELS:
                raise node.fail(f"unknown level {level!r}")
            levels[level] = self.cues(node["cues"], node["weight"].number())
            if "topics" in node.mapping():
                topics = node["topics"]
                levels[level] += self.cues(topics, topics["weight"].number())
        problem = file["problem_cues"]
        defaults = file["default_confidence"]
        aspects = {name: self.cues(node, 1.0) for name, node in file["aspects"].items()} \
            if "aspects" in file.mapping() else {}
        return TriageRules(
            aspects=aspects,
            levels=levels,
            problem_cues=self.cues(problem, problem["weight"].number()),
            negations=frozenset(w.lower() for w in file["negations"].strings(allow_missing=False)),
            default_problem_confidence=defaults["problem"].number(),
            default_other_confidence=defaults["other"].number(),
        )
