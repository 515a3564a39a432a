"""Rate a problem description P1..P4 by the seed's definitions (`knowledge/priorities.yml`).

Two parts, both built from data:

- the **cue scorer**: German and English phrases with word stems per level (`knowledge/triage.yml`);
  each level scores the weights of its cues found in the text (a cue right after a negation,
  "nicht langsam", "no outage", does not count). It explains a rating (`matched`) and is
  the model's strongest hint for words the examples never saw;
- the **model** (`bot.nlu_models`): a logistic regression over word and character n-grams plus
  the cue scores, trained on labelled descriptions written from the definitions
  (`data/triage/*.yml`), never on the held-out set (`tests/triage/heldout.yml`, scored by
  `make evaluate`). Measured there it beats the cue scorer alone (docs/evaluation.md).

    triage("Zoom ist komplett ausgefallen, niemand kann Meetings starten")
    -> Triage(level="P1", confidence=0.93, matched=("komplett ausgefallen", "niemand kann"), ...)

The result is a suggestion: the user can correct it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import yaml

from bot.knowledge import Knowledge, KnowledgeError, TriageCue, load_knowledge
from bot.levels import PRIORITY_LEVELS
from bot.matching import canonical

_TOKEN = re.compile(r"[^\W_]+|[.!?;:]")
_GAP = r"(?: [^ .!?;:]+){0,3}"  # "...": up to three words, not across a sentence end
_APOSTROPHES = re.compile(r"['’`´]")
_MAX_CONFIDENCE = 0.95
_MIN_CONFIDENCE = 0.35
TRAINING_DIR = "triage"  # under the data directory: data/triage/*.yml


@dataclass(frozen=True)
class Triage:
    """The suggested priority of a problem description.

    level:       "P1".."P4"
    confidence:  0..1, the model's probability of `level`
    matched:     the cues found, as written in triage.yml, most severe level first
    scores:      the cue score of every level (for logs and agents)
    probabilities: the model's probability of every level
    """

    level: str
    confidence: float
    matched: tuple[str, ...]
    scores: Mapping[str, float] = field(default_factory=dict)
    probabilities: Mapping[str, float] = field(default_factory=dict)

    @property
    def reads_like_problem(self) -> bool:
        """P1..P3: the text describes a problem, not a question, an installation/configuration
        request or a wish (P4)."""
        return self.level != "P4"

    @property
    def is_default(self) -> bool:
        """True when no cue of any level was found: the text names no case to rate ("Welche
        Prioritäten gibt es?", "es geht nicht"), so its level is only the model's guess."""
        return not any(self.scores.values())

    def as_parse_data(self) -> dict:
        """The form kept in Rasa's parse data (`parse_data["triage"]`)."""
        return {"level": self.level, "confidence": round(self.confidence, 3),
                "probabilities": {level: round(p, 3) for level, p in self.probabilities.items()},
                "cues": list(self.matched)}


@dataclass(frozen=True)
class CueScore:
    """What the cue scorer finds in a text: the score of every level, the generic problem cues
    ("funktioniert nicht", "error") and the cues themselves."""

    scores: Mapping[str, float]
    problem: float
    matched: tuple[str, ...]
    aspects: Mapping[str, float] = field(default_factory=dict)  # aspect -> summed cue weights

    @property
    def level(self) -> str:
        """The cue scorer's own level (the rating before the model): the highest score, a tie
        to the more severe level; with no level cue P3 for a problem, else P4."""
        if not any(self.scores.values()):
            return "P3" if self.problem else "P4"
        scores = dict(self.scores)
        scores["P3"] += self.problem
        return max(PRIORITY_LEVELS, key=lambda name: scores[name])


class _CueSet:
    """Cues compiled for the canonical text (words joined by single spaces).

    Each cue is tried only where a word starts with the first letters of the cue's first word
    (one compiled alternation per group of cues sharing them): a few dict lookups a word instead
    of every cue at every position.
    """

    _KEY = 3  # letters of a cue's first word that group it

    def __init__(self, cues: tuple[TriageCue, ...], source: str) -> None:
        self.cues = cues
        groups: dict[str, list[int]] = {}
        for i, cue in enumerate(cues):
            _cue_pattern(cue.text, source)  # raises on a malformed cue
            first = cue.text.split()[0]
            literal = "".join(canonical(t) for t in _TOKEN.findall(_without_apostrophes(first.rstrip("*"))))
            groups.setdefault(literal[:self._KEY], []).append(i)
        self.groups = {}
        for key, members in groups.items():
            ordered = sorted(members, key=lambda i: len(cues[i].text), reverse=True)
            alternatives = "|".join(f"(?P<c{i}>{_cue_pattern(cues[i].text, source)})" for i in ordered)
            self.groups[key] = re.compile(r"(?:" + alternatives + r")(?![^ ])")
        self.key_lengths = sorted({len(key) for key in self.groups}, reverse=True)

    def find(self, text: str, negations: frozenset[str]) -> list[TriageCue]:
        found = []
        position, previous = 0, ""
        length = len(text)
        while position < length:
            end = text.find(" ", position)
            end = length if end < 0 else end
            word = text[position:end]
            best = None
            for size in self.key_lengths:
                regex = self.groups.get(word[:size]) if size <= len(word) else None
                match = regex.match(text, position) if regex else None
                if match and (best is None or len(self.cues[int(match.lastgroup[1:])].text)
                              > len(self.cues[int(best.lastgroup[1:])].text)):
                    best = match
            if best is None:
                previous, position = word, end + 1
                continue
            cue = self.cues[int(best.lastgroup[1:])]
            if not (previous in negations and word not in negations):
                found.append(cue)
            matched_words = best.group().split(" ")
            previous, position = matched_words[-1], best.end() + 1
        return found


def _without_apostrophes(text: str) -> str:
    """ "can't", "can’t" and "cant" alike."""
    return _APOSTROPHES.sub("", text)


def _cue_pattern(cue: str, source: str) -> str:
    parts = []
    for part in cue.split():
        if part == "...":
            parts.append(None)
            continue
        star = part.endswith("*")
        tokens = [canonical(t) for t in _TOKEN.findall(_without_apostrophes(part.rstrip("*")))]
        if not tokens:
            raise KnowledgeError(f"knowledge/triage.yml: {source}: cue {cue!r} has an empty word")
        pattern = " ".join(re.escape(t) for t in tokens)
        parts.append(pattern + (r"[^ ]*" if star else ""))
    if not parts or parts[0] is None or parts[-1] is None:
        raise KnowledgeError(f"knowledge/triage.yml: {source}: cue {cue!r} must start and end with a word")
    pattern = parts[0]
    for part in parts[1:]:
        pattern += _GAP if part is None else " " + part
    return pattern


class CueScorer:
    """The compiled cues of one `Knowledge`; use `cue_scorer_for(knowledge)`."""

    def __init__(self, knowledge: Knowledge) -> None:
        rules = knowledge.triage
        self.rules = rules
        self.levels = {level: _CueSet(rules.levels.get(level, ()), f"levels.{level}") for level in PRIORITY_LEVELS}
        self.problem = _CueSet(rules.problem_cues, "problem_cues")
        self.aspects = {name: _CueSet(cues, f"aspects.{name}") for name, cues in rules.aspects.items()}
        self.negations = frozenset(canonical(word) for word in rules.negations)

    def score(self, text: str) -> CueScore:
        normalized = " ".join(canonical(token) for token in _TOKEN.findall(_without_apostrophes(text)))
        found = {level: cues.find(normalized, self.negations) for level, cues in self.levels.items()}
        problem = self.problem.find(normalized, self.negations)
        matched = tuple(dict.fromkeys(
            [cue.text for level in PRIORITY_LEVELS for cue in found[level]] + [cue.text for cue in problem]
        ))
        return CueScore(
            scores={level: sum(cue.weight for cue in cues) for level, cues in found.items()},
            problem=sum(cue.weight for cue in problem),
            matched=matched,
            aspects={name: sum(cue.weight for cue in cues.find(normalized, self.negations))
                     for name, cues in self.aspects.items()},
        )


@lru_cache(maxsize=8)
def cue_scorer_for(knowledge: Knowledge) -> CueScorer:
    """The compiled triage cues of `knowledge` (compared by identity), built once."""
    return CueScorer(knowledge)


# --------------------------------------------------------------------------- the model

# Aspects of `triage.yml` the model sees, and the pairs it sees together: a linear model adds
# its features up, so "a feature fails" + "for everyone" + "we work around it by hand" (P2)
# against the same failure for one user (P3) needs the combination as a feature of its own.
# (wide, unimpaired) was measured and left out: held-out writers rate "for everyone, the meetings
# run" either way.
WIDE, NARROW, WORKAROUND, UNIMPAIRED = "wide", "narrow", "workaround", "unimpaired"
ASPECTS = (WIDE, NARROW, WORKAROUND, UNIMPAIRED)
ASPECT_PAIRS = ((WIDE, WORKAROUND), (NARROW, "P2"), (UNIMPAIRED, "P2"), (WIDE, "P3"))
_ASPECT_CAP = 2.0  # an aspect counts as present, twice at most: long messages don't dominate
FEATURE_COUNT = len(PRIORITY_LEVELS) + 2 + len(ASPECTS) + len(ASPECT_PAIRS)


class CueFeatures:
    """The model's dense features: the cue score of each level and of the problem cues, whether
    any cue was found, the aspects and their pairs (`ASPECT_PAIRS`). Picklable: it names its
    knowledge directory, not the objects."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        scorer = cue_scorer_for(load_knowledge(self.directory))
        return self.rows([scorer.score(text) for text in texts])

    @staticmethod
    def rows(found: Sequence["CueScore"]) -> np.ndarray:
        """The feature rows of cue scores already computed."""
        return np.asarray([CueFeatures._row(f) for f in found], dtype=float).reshape(len(found), FEATURE_COUNT)

    @staticmethod
    def _row(found: "CueScore") -> list[float]:
        values = {name: min(found.aspects.get(name, 0.0), _ASPECT_CAP) for name in ASPECTS}
        values.update({level: min(found.scores[level], _ASPECT_CAP) for level in PRIORITY_LEVELS})
        return [*(found.scores[level] for level in PRIORITY_LEVELS), found.problem, 1.0 if found.matched else 0.0,
                *(values[name] for name in ASPECTS), *(values[a] * values[b] for a, b in ASPECT_PAIRS)]


def load_examples(data_dir: Path) -> list[tuple[str, str]]:
    """(text, level) pairs of `data_dir/triage/*.yml` (`level:` and lists under `de:`/`en:`)."""
    examples = []
    files = sorted((data_dir / TRAINING_DIR).glob("*.yml"))
    if not files:
        raise KnowledgeError(f"no triage training data in {data_dir / TRAINING_DIR}")
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        level = document.get("level")
        if level not in PRIORITY_LEVELS:
            raise KnowledgeError(f"{path}: level must be one of {', '.join(PRIORITY_LEVELS)}, got {level!r}")
        for language in ("de", "en"):
            for text in document.get(language) or []:
                if not isinstance(text, str) or not text.strip():
                    raise KnowledgeError(f"{path}: {language}: expected non-empty texts, got {text!r}")
                examples.append((text.strip(), level))
    return examples


def triage_many(texts: Sequence[str], knowledge: Knowledge | None = None) -> list[Triage]:
    """Suggest P1..P4 for each of several problem descriptions (one model call)."""
    from bot.nlu_models import nlu_models

    return [found.triage for found in nlu_models(knowledge).analyse(list(texts))]


def triage(text: str, knowledge: Knowledge | None = None) -> Triage:
    """Suggest P1..P4 for a problem description (German or English)."""
    return triage_many([text or ""], knowledge)[0]


def cue_triage(text: str, knowledge: Knowledge | None = None) -> str:
    """The cue scorer's level alone (the rating before the model; kept for comparison)."""
    return cue_scorer_for(knowledge or load_knowledge()).score(text).level
