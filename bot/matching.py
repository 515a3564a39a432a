"""Find countries, plans, priorities and plan features named in a message.

The vocabulary comes from `knowledge/` (aliases, codes, city names); this module only knows
how to look it up quickly and without false alarms:

- the text is split into words once and every word is brought into a canonical form
  (lower case, accents dropped, "ä"/"ae"/"a" alike), so "Österreich", "Oesterreich" and
  "osterreich" are the same key;
- at each word the longest known phrase wins (up to the longest alias), looked up in dicts
  built once per `Knowledge` (no per-message regex scan over hundreds of alternatives);
- codes ("AT", "US", "UK", "TAM") count only written in upper case as a standalone word, and
  not in a message typed in capitals; "in", "es", "it", "at", "us" never count;
- "Premier+" is one word, so it is premier_plus and never also premier.

    find_mentions("Hotline in der Schweiz für Premier+?")
    -> [Mention("country", "CH", ...), Mention("plan", "premier_plus", ...)]
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, NamedTuple

from bot.knowledge import Country, Knowledge, KnowledgeError, load_knowledge

ENTITIES = ("country", "plan", "priority", "feature")

_WORD = re.compile(r"[^\W_]+\+?|\+")
# What may stand between the words of one phrase: "Mexiko-Stadt", "U.S.A.", "St. Gallen".
_PHRASE_GAP = re.compile(r"[\s\-.]{0,3}")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_DIGRAPHS = re.compile(r"ae|oe|ue")
# A message typed in capitals ("MY MEETING IS DOWN IN BERLIN") has no upper-case codes.
_SHOUTING_MIN_LETTERS = 8
_SHOUTING_SHARE = 0.6
# Words dropped in front of a country name given to `resolve_country`.
_NAME_PREFIXES = frozenset({"in", "im", "aus", "von", "nach", "der", "die", "das", "den", "dem", "the",
                            "from", "to", "for", "fur", "und", "and"})


@dataclass(frozen=True)
class Mention:
    """A span of the text naming a knowledge entity.

    entity: "country" | "plan" | "priority" | "feature"
    value:  ISO code ("CH"), plan id ("premier_plus"), "P1".."P4" or feature id
    start, end: character offsets into the text; text: the text[start:end]
    """

    entity: str
    value: str
    start: int
    end: int
    text: str


def canonical(word: str) -> str:
    """The comparison form of a word: lower case, no accents, "ä", "ae" and "a" alike."""
    word = word.lower().translate(_UMLAUTS)
    if not word.isascii():
        word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return _DIGRAPHS.sub(lambda m: m.group()[0], word)


def words(text: str) -> list[tuple[int, int, str]]:
    """The words of `text` as (start, end, word); a trailing "+" belongs to its word."""
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


class _Target(NamedTuple):
    entity: str  # "" for an ignore phrase
    value: str


_IGNORE = _Target("", "")


class Matcher:
    """The lookup tables built from one `Knowledge`; use `matcher_for(knowledge)`."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.phrases: dict[str, _Target] = {}  # canonical words joined by " "
        self.exact: dict[str, _Target] = {}  # words as written, joined by " "
        self.prefixes: dict[str, _Target] = {}  # canonical word prefixes ("telefon*")
        self.adjectives: dict[str, str] = {}  # language adjective prefix -> country code
        self.noun_codes: dict[str, _Target] = {}  # "us" -> US, only before a phone noun
        self.nouns: set[str] = set()  # prefixes of the words that make an adjective a country
        self.contextual: dict[str, _Target] = {}  # words that count only next to a sibling ("standard")
        self.codes: dict[str, Country] = {}  # the countries' upper-case codes
        self.code_guards: dict[str, tuple[frozenset[str], frozenset[str]]] = {}  # code -> (not after, not before)
        self._build()
        self.prefix_lengths = sorted({len(p) for p in self.prefixes}, reverse=True)
        self.adjective_lengths = sorted({len(p) for p in self.adjectives}, reverse=True)
        self.noun_lengths = sorted({len(p) for p in self.nouns}, reverse=True)
        self.phrase_starts = {key.split(" ")[0] for key in self.phrases if " " in key}
        self.exact_starts = {key.split(" ")[0] for key in self.exact if " " in key}
        self.max_words = max(key.count(" ") + 1 for key in [*self.phrases, *self.exact])
        self.typos = self._typo_index()
        self._fuzzy_names: dict[str, str] | None = None  # built on the first fuzzy look-up

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        k = self.knowledge
        for country in k.countries.values():
            target = _Target("country", country.code)
            self._vocabulary(target, country.vocabulary.aliases, country.vocabulary.exact)
            guards = (_canonical_phrases(country.code_not_after), _canonical_phrases(country.code_not_before))
            for name in country.vocabulary.short:
                self._alias(target, name, strict=False)
            for code in country.vocabulary.before_nouns:
                self.noun_codes[canonical(code)] = target
            for code in country.vocabulary.exact:
                self.codes[code] = country
                self.code_guards[code] = guards
            for adjective in country.language_adjectives:
                self._prefix(self.adjectives, adjective.rstrip("*"), country.code)
        for noun in k.adjective_nouns:
            self.nouns.add(canonical(noun.rstrip("*")))
        for plan in k.plans.values():
            target = _Target("plan", plan.id)
            self._vocabulary(target, plan.vocabulary.aliases, plan.vocabulary.exact)
            for word in plan.vocabulary.contextual:
                self._put(self.contextual, canonical(word), target, word)
        for feature in k.features.values():
            self._vocabulary(_Target("feature", feature.id), feature.vocabulary.aliases, feature.vocabulary.exact)
        for level in k.priorities:
            target, number = _Target("priority", level), level[1:]
            self._alias(target, level, strict=False)
            for prefix in k.priority_prefixes:
                self._alias(target, f"{prefix} {number}", strict=False)
                self._alias(target, f"{prefix}{number}", strict=False)
        for phrase in k.ignore_phrases:
            if phrase.endswith("*"):
                self._prefix(self.prefixes, phrase[:-1], _IGNORE)
            else:
                self._alias(_IGNORE, phrase, strict=False)

    def _vocabulary(self, target: _Target, aliases: Iterable[str], exact: Iterable[str]) -> None:
        for alias in aliases:
            if alias.endswith("*"):
                self._prefix(self.prefixes, alias[:-1], target)
            else:
                self._alias(target, alias, strict=True)
        for form in exact:
            key = " ".join(w for _, _, w in words(form))
            self._put(self.exact, key, target, form)

    def _alias(self, target: _Target, alias: str, strict: bool) -> None:
        parts = [canonical(w) for _, _, w in words(alias)]
        key = " ".join(parts)
        if strict and len(parts) == 1 and len(alias.strip()) < 3:
            raise KnowledgeError(
                f"knowledge/{_source(target)}: alias {alias!r} of {target.value} is too short to match "
                "case-insensitively; list it under codes/exact (upper case only)"
            )
        self._put(self.phrases, key, target, alias)
        # "Hong Kong" also as "Hongkong"; not for "U.S." ("us" is a word).
        if len(parts) > 1 and all(len(p) > 1 for p in parts):
            self.phrases.setdefault("".join(parts), target)

    def _prefix(self, table: dict, stem: str, target) -> None:
        key = canonical(stem)
        if len(words(stem)) != 1 or len(stem) < 3:
            raise KnowledgeError(
                f"knowledge/{_source(target)}: prefix alias {stem + '*'!r} must be one word of 3+ letters"
            )
        self._put(table, key, target, stem + "*")

    @staticmethod
    def _put(table: dict, key: str, target, alias: str) -> None:
        if not key:
            raise KnowledgeError(f"knowledge/{_source(target)}: alias {alias!r} has no letters or digits")
        known = table.setdefault(key, target)
        if known != target:
            raise KnowledgeError(
                f"knowledge/{_source(target)}: {alias!r} would mean both {_describe(known)} and {_describe(target)}"
            )

    def _typo_index(self) -> dict[str, _Target]:
        """One-letter deletions of every long one-word country name → that country.

        A typed word matches when it, or one of its own one-letter deletions, is in this index:
        one letter missing, extra, wrong or swapped ("Östereich", "Frankriech"). Names shorter
        than `_TYPO_MIN_LENGTH` are left out: among short words a typo is too often another word.
        """
        index: dict[str, _Target] = {}
        ambiguous: set[str] = set()
        for key, target in self.phrases.items():
            if target.entity != "country":
                continue
            if " " in key:  # two words: a typo in the second ("new zeland", "united kingdon")
                first, _, last = key.partition(" ")
                if " " in last or len(last) < _TYPO_MIN_LAST_WORD:
                    continue
                variants = {f"{first} {variant}" for variant in _deletions(last)}
            elif len(key) >= _TYPO_MIN_LENGTH:
                # Not a short name less its last letter: that is mostly an adjective ("German"); a
                # long one ("Frankreic") is just cut short.
                dropped_last = {key[:-1]} if len(key) < _TYPO_CUT_SHORT_LENGTH else set()
                variants = {key, *_deletions(key)} - dropped_last
            else:
                continue
            for variant in variants:
                if index.setdefault(variant, target) != target:
                    ambiguous.add(variant)
        for variant in ambiguous:
            del index[variant]
        return index

    def _typo(self, word: str) -> _Target | None:
        if len(word) < _TYPO_MIN_LENGTH:
            return None
        for variant in (word, *_deletions(word)):
            target = self.typos.get(variant)
            if target is not None:
                return target
        return None

    def _typo_of_pair(self, first: str, last: str) -> _Target | None:
        """A two-word country name with a one-letter typo in its second word."""
        if len(last) < _TYPO_MIN_LAST_WORD - 1:
            return None
        for variant in (last, *_deletions(last)):
            target = self.typos.get(f"{first} {variant}")
            if target is not None:
                return target
        return None

    # ------------------------------------------------------------------ matching

    def find(self, text: str) -> list[Mention]:
        found = words(text)
        if not found:
            return []
        raw = [w for _, _, w in found]
        canon = [canonical(w) for w in raw]
        count = len(found)
        joins = [
            _PHRASE_GAP.fullmatch(text, found[i][1], found[i + 1][0]) is not None for i in range(count - 1)
        ]
        shouting: bool | None = None
        mentions: list[Mention] = []
        maybe: list[tuple[int, _Target]] = []  # contextual words, kept if a sibling is named
        i = 0
        while i < count:
            target, width = None, 1
            longest = min(self.max_words, count - i)
            if longest > 1 and (canon[i] in self.phrase_starts or raw[i] in self.exact_starts):
                for n in range(longest, 1, -1):
                    if not all(joins[i:i + n - 1]):
                        continue
                    target = self.exact.get(" ".join(raw[i:i + n])) or self.phrases.get(" ".join(canon[i:i + n]))
                    if target is None and n == 2:
                        target = self._typo_of_pair(canon[i], canon[i + 1])
                    if target:
                        width = n
                        break
            if target is None:
                target = self.exact.get(raw[i])
                if target is not None and raw[i] in self.codes:
                    if shouting is None:
                        shouting = _is_shouting(text)
                    if shouting or not self._code_counts(raw[i], text, found, canon, i):
                        target = None
            if target is None:
                target = self._single(canon, joins, i)
            if target is None and canon[i] in self.contextual:
                maybe.append((i, self.contextual[canon[i]]))
            if target is not None and target.entity:
                start, end = found[i][0], found[i + width - 1][1]
                mentions.append(Mention(target.entity, target.value, start, end, text[start:end]))
            i += width
        if maybe:
            named = {(m.entity, m.value) for m in mentions}
            for i, target in maybe:
                if any(entity == target.entity and value != target.value for entity, value in named):
                    start, end = found[i][0], found[i][1]
                    mentions.append(Mention(target.entity, target.value, start, end, text[start:end]))
            mentions.sort(key=lambda m: m.start)
        return mentions

    def _single(self, canon: list[str], joins: list[bool], i: int) -> _Target | None:
        word = canon[i]
        target = self.phrases.get(word)
        if target is not None:
            return target
        for length in self.prefix_lengths:
            if length <= len(word) and (target := self.prefixes.get(word[:length])) is not None:
                return target
        # German genitive: "Österreichs", "Japans Nummer"
        if len(word) >= 5 and word.endswith("s"):
            target = self.phrases.get(word[:-1])
            if target is not None and target.entity == "country":
                return target
        # "us support number", "nz hotline": a code that is a word too, before a phone noun, at the
        # start or after an article or preposition ("give us support" is no country)
        if (word in self.noun_codes and i + 1 < len(canon) and joins[i] and self._is_noun(canon[i + 1])
                and (i == 0 or canon[i - 1] in _NOUN_CODE_LEADS)):
            return self.noun_codes[word]
        # "deutsche Nummer", "French number": a language adjective naming the country
        if i + 1 < len(canon) and joins[i]:
            for length in self.adjective_lengths:
                if length <= len(word) and (code := self.adjectives.get(word[:length])) is not None:
                    if self._is_noun(canon[i + 1]):
                        return _Target("country", code)
                    break
        # Last resort, countries only: a one-letter typo of a long name ("Östereich").
        return self._typo(word)

    def _is_noun(self, word: str) -> bool:
        """One of the phone nouns after which a language adjective names a country."""
        return any(word[:n] in self.nouns for n in self.noun_lengths if n <= len(word))

    def _code_counts(self, code: str, text: str, found: list, canon: list[str], i: int) -> bool:
        """Whether an upper-case code word really names its country here."""
        start, end = found[i][0], found[i][1]
        if text[start - 1:start] == "&" or text[end:end + 1] == "&":  # AT&T
            return False
        not_after, not_before = self.code_guards[code]
        if i + 1 < len(canon) and canon[i + 1] in not_before:
            return False
        if i >= 1 and canon[i - 1] in not_after:
            return False
        return not (i >= 2 and f"{canon[i - 2]} {canon[i - 1]}" in not_after)

    def resolve_country(self, name: str) -> Country | None:
        countries = self.knowledge.countries
        found = words(name)
        # "in der Schweiz" -> "der Schweiz" -> "Schweiz"; "the States" is found before "States".
        while found:
            rest = name[found[0][0]:].strip().rstrip("?!.").strip()
            if rest.upper() in countries:
                return countries[rest.upper()]
            for code, country in self.codes.items():
                if code.upper() == rest.upper():
                    return country
            parts = [canonical(w) for _, _, w in found]
            target = self.phrases.get(" ".join(parts)) or self.phrases.get("".join(parts))
            if target is None and len(parts) == 1:
                target = self._single(parts, [], 0)
            if target is not None and target.entity == "country":
                return countries[target.value]
            if len(found) == 1 or parts[0] not in _NAME_PREFIXES:
                break
            found = found[1:]
        for mention in self.find(name):
            if mention.entity == "country":
                return countries[mention.value]
        return self._fuzzy_country(name)

    def _fuzzy_country(self, name: str) -> Country | None:
        """A misspelt one-word answer to "which country?" ("Frankreic", "Östereich", "Brasillien"):
        the closest one-word country name by rapidfuzz's ratio, if close enough. Only here, where
        the caller says the text IS a country: inside free text the same rule takes "Portal" for
        Portugal and "letzte" for Latvia (docs/evaluation.md, `python -m scripts.compare_spacy`)."""
        found = [canonical(w) for _, _, w in words(name) if canonical(w) not in _NAME_PREFIXES]
        if len(found) != 1 or len(found[0]) < _FUZZY_MIN_LENGTH:
            return None
        from rapidfuzz import fuzz, process

        if self._fuzzy_names is None:
            self._fuzzy_names = {key: target.value for key, target in self.phrases.items()
                                 if target.entity == "country" and " " not in key and len(key) >= _FUZZY_MIN_LENGTH}
        best = process.extractOne(found[0], list(self._fuzzy_names), scorer=fuzz.ratio, score_cutoff=_FUZZY_MIN_SCORE)
        return self.knowledge.countries[self._fuzzy_names[best[0]]] if best else None


_SOURCES = {"country": "countries.yml", "plan": "plans.yml", "feature": "features.yml", "priority": "priorities.yml"}


_TYPO_MIN_LENGTH = 7
_TYPO_CUT_SHORT_LENGTH = 9
_NOUN_CODE_LEADS = frozenset({"the", "a", "an", "for", "in", "of", "to", "and", "or", "die", "der", "das", "den",
                              "dem", "eine", "einer", "fur", "fuer", "und", "oder", "von", "vom", "zur", "zum"})
_TYPO_MIN_LAST_WORD = 6  # of a two-word name: "zealand", "kingdom", not "kong"
_FUZZY_MIN_LENGTH = 5
_FUZZY_MIN_SCORE = 85


def _deletions(word: str) -> set[str]:
    """`word` with one letter left out, in every position; the first letter is kept."""
    return {word[:i] + word[i + 1:] for i in range(1, len(word))}


def _source(target) -> str:
    if isinstance(target, _Target):
        return _SOURCES.get(target.entity, "features.yml/countries.yml (ignore)")
    return "countries.yml"  # language adjectives


def _describe(target) -> str:
    if isinstance(target, _Target):
        return f"{target.entity} {target.value}" if target.entity else "an ignore phrase"
    return f"country {target}"


def _canonical_phrases(phrases: Iterable[str]) -> frozenset[str]:
    return frozenset(" ".join(canonical(w) for _, _, w in words(p)) for p in phrases)


def _is_shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < _SHOUTING_MIN_LETTERS:
        return False
    return sum(c.isupper() for c in letters) / len(letters) > _SHOUTING_SHARE


@lru_cache(maxsize=8)
def matcher_for(knowledge: Knowledge) -> Matcher:
    """The lookup tables of `knowledge` (compared by identity), built once."""
    return Matcher(knowledge)


def find_mentions(text: str, knowledge: Knowledge | None = None) -> list[Mention]:
    """Every country, plan, priority and feature named in `text`, in text order.

    Spans never overlap; where phrases compete, the longest wins ("Premier Plus" is one
    premier_plus mention, "priority response" a feature, not a priority).
    """
    return matcher_for(knowledge or load_knowledge()).find(text)


def resolve_country(name: str, knowledge: Knowledge | None = None) -> Country | None:
    """The country a name means ("AT", "at", "Österreich", "aus Graz", "in der Schweiz"), or None.

    Unlike `find_mentions`, codes count in any case: the caller says this is a country name.
    """
    return matcher_for(knowledge or load_knowledge()).resolve_country(name)


def lookup_terms(knowledge: Knowledge | None = None) -> dict[str, set[str]]:
    """Surface forms per entity for Rasa lookup tables (`scripts/build_lookups.py`).

    Whole words only: prefix aliases ("telefon*") and ignore phrases are left out, since
    lookup tables match whole words.
    """
    k = knowledge or load_knowledge()
    terms: dict[str, set[str]] = {entity: set() for entity in ENTITIES}
    for country in k.countries.values():
        terms["country"].update(a for a in country.vocabulary.aliases if not a.endswith("*"))
        terms["country"].update(country.vocabulary.exact)
        terms["country"].update({country.name.de, country.name.en})
    for plan in k.plans.values():
        terms["plan"].update(a for a in plan.vocabulary.aliases if not a.endswith("*"))
        terms["plan"].update(plan.vocabulary.exact)
        terms["plan"].update({plan.name.de, plan.name.en})
    for feature in k.features.values():
        terms["feature"].update(a for a in feature.vocabulary.aliases if not a.endswith("*"))
        terms["feature"].update(feature.vocabulary.exact)
    for level in k.priorities:
        terms["priority"].add(level)
        terms["priority"].update(f"{prefix} {level[1:]}" for prefix in k.priority_prefixes if len(prefix) > 1)
    return terms
