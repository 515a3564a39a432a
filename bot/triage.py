"""Rate a problem description P1..P4 by the seed's definitions (`knowledge/priorities.yml`).

The cues (German and English phrases with word stems) live in `knowledge/triage.yml`. Each
level scores the weights of its cues found in the text; the highest score wins, a tie goes to
the more severe level. A cue right after a negation ("nicht langsam", "no outage") does not
count. Without any level cue the text is P3 with low confidence when it reads like a problem
("funktioniert nicht", "error"), else P4 with low confidence.

    triage("Zoom ist komplett ausgefallen, niemand kann Meetings starten")
    -> Triage(level="P1", confidence=0.9, matched=("komplett ausgefallen", "niemand kann"), ...)

The result is a suggestion: the user can correct it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from bot.knowledge import Knowledge, KnowledgeError, TriageCue, load_knowledge
from bot.levels import PRIORITY_LEVELS
from bot.matching import canonical

_TOKEN = re.compile(r"[^\W_]+|[.!?;:]")
_GAP = r"(?: [^ .!?;:]+){0,3}"  # "...": up to three words, not across a sentence end
_APOSTROPHES = re.compile(r"['’`´]")
_MAX_CONFIDENCE = 0.95
_MIN_CONFIDENCE = 0.35


@dataclass(frozen=True)
class Triage:
    """The suggested priority of a problem description.

    level:      "P1".."P4"
    confidence: 0..1; below 0.35 only for the defaults (no cue of any level found)
    matched:    the cues found, as written in triage.yml, most severe level first
    scores:     the score of every level (for logs and agents)
    """

    level: str
    confidence: float
    matched: tuple[str, ...]
    scores: Mapping[str, float] = field(default_factory=dict)

    @property
    def reads_like_problem(self) -> bool:
        """P1..P3, including the P3 fallback: the text describes a problem, not a question,
        an installation/configuration request or a wish (P4)."""
        return self.level != "P4"

    @property
    def is_default(self) -> bool:
        """True when no cue of any level was found and the level is only the fallback."""
        return not any(self.scores.values())


class _CueSet:
    """Cues compiled into one regex over the canonical text (words joined by single spaces)."""

    def __init__(self, cues: tuple[TriageCue, ...], source: str) -> None:
        self.cues = cues
        ordered = sorted(range(len(cues)), key=lambda i: len(cues[i].text), reverse=True)
        alternatives = [f"(?P<c{i}>{_cue_pattern(cues[i].text, source)})" for i in ordered]
        self.regex = re.compile(r"(?<![^ ])(?:" + "|".join(alternatives) + r")(?![^ ])") if cues else None

    def find(self, text: str, negations: frozenset[str]) -> list[TriageCue]:
        if self.regex is None:
            return []
        found = []
        for match in self.regex.finditer(text):
            cue = self.cues[int(match.lastgroup[1:])]
            before = text[:match.start()].split()
            first_word = match.group().split(" ", 1)[0]
            if before and before[-1] in negations and first_word not in negations:
                continue
            found.append(cue)
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


class Triager:
    """The compiled cues of one `Knowledge`; use `triager_for(knowledge)`."""

    def __init__(self, knowledge: Knowledge) -> None:
        rules = knowledge.triage
        self.rules = rules
        self.levels = {level: _CueSet(rules.levels.get(level, ()), f"levels.{level}") for level in PRIORITY_LEVELS}
        self.problem = _CueSet(rules.problem_cues, "problem_cues")
        self.negations = frozenset(canonical(word) for word in rules.negations)

    def triage(self, text: str) -> Triage:
        normalized = " ".join(canonical(token) for token in _TOKEN.findall(_without_apostrophes(text)))
        found = {level: cues.find(normalized, self.negations) for level, cues in self.levels.items()}
        problem = self.problem.find(normalized, self.negations)
        scores = {level: sum(cue.weight for cue in cues) for level, cues in found.items()}
        matched = tuple(dict.fromkeys(cue.text for level in PRIORITY_LEVELS for cue in found[level]))
        if not any(scores.values()):
            if problem:
                return Triage("P3", self.rules.default_problem_confidence,
                              tuple(dict.fromkeys(cue.text for cue in problem)), scores)
            return Triage("P4", self.rules.default_other_confidence, (), scores)
        if problem:
            scores["P3"] += sum(cue.weight for cue in problem)
            matched += tuple(cue.text for cue in problem if cue.text not in matched)
        # max() keeps the first of equal scores, and PRIORITY_LEVELS runs from P1 to P4.
        level = max(PRIORITY_LEVELS, key=lambda name: scores[name])
        best = scores[level]
        runner_up = max((scores[name] for name in PRIORITY_LEVELS if name != level), default=0.0)
        confidence = min(_MAX_CONFIDENCE, max(_MIN_CONFIDENCE, best / (best + runner_up + 0.5)))
        return Triage(level, round(confidence, 2), matched, scores)


def triager_for(knowledge: Knowledge) -> Triager:
    """The compiled triage cues of `knowledge`, built on first use and kept with it."""
    triager = knowledge._derived.get("triager")
    if triager is None:
        triager = knowledge._derived.setdefault("triager", Triager(knowledge))
    return triager


def triage(text: str, knowledge: Knowledge | None = None) -> Triage:
    """Suggest P1..P4 for a problem description (German or English)."""
    return triager_for(knowledge or load_knowledge()).triage(text)
