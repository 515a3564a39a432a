"""The NLU's trained text models: one featurizer, three linear heads.

- `wants_person` and `describes_problem` (`bot.signals`): binary, trained from the NLU training
  data (every `request_human` example asks for a person, every `report_problem` example
  describes a problem, every other intent's example does neither; an intent block's
  `metadata` may say otherwise for its examples) and from the triage descriptions (P1-P3 are
  problems, P4 requests are not, none asks for a person);
- `triage` (`bot.triage`): P1..P4, trained from `data/triage/*.yml` and the problem reports of
  the NLU data whose block metadata names their level (`triage: P3`).

They share one word + character n-gram featurizer (`bot.textmodel`), so a message is
featurized once; `describes_problem` and `triage` also see the cue scores of
`knowledge/triage.yml`, computed once per message. A flag's probability is the highest of the
whole message and of each of its clauses, so a request next to a problem report ("X is down,
get me a person") is not outvoted by the problem's words, nor the reverse.

Models are trained on first use (a few seconds) and kept under `var/nlu/` (`make train` builds
them), named by a digest of their data, cues and code. Never trained on held-out data
(`tests/signals/`, `tests/triage/`, `tests/nlu/`); `make evaluate` scores them there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from bot.knowledge import Knowledge, load_knowledge
from bot.levels import PRIORITY_LEVELS
from bot.triage import CueFeatures, Triage, cue_scorer_for, load_examples as triage_examples

WANTS_PERSON = "wants_person"
DESCRIBES_PROBLEM = "describes_problem"
FLAGS = (WANTS_PERSON, DESCRIBES_PROBLEM)
TRIAGE = "triage"

# How the intents of the NLU data label the flags.
PERSON_INTENTS = frozenset({"request_human"})
PROBLEM_INTENTS = frozenset({"report_problem"})
# Intents whose examples say nothing reliable about a flag: a correction of the level ("no,
# everything is down, P1") or a secret ("my host key 663201 is rejected") may or may not
# describe the problem again. Left out of that flag's training.
UNLABELLED = {DESCRIBES_PROBLEM: frozenset({"set_priority", "share_secret"}), WANTS_PERSON: frozenset()}

THRESHOLD = 0.5
C = 4.0  # all three heads; 5-fold cross-validation on the training data is flat around it
# Unweighted classes: the flags are rare (about one example in ten), and weighting them up
# turned "kann ich einen live chat nutzen?" and "bitte nicht" into requests and problems.
CLASS_WEIGHT = None
CUE_SCALE = 0.5  # weight of the cue-score columns next to the TF-IDF columns
# describes_problem sees the level and problem cue scores only; the aspects and their pairs
# (bot.triage.ASPECT_PAIRS) separate levels, not problems from non-problems.
FLAG_CUE_COLUMNS = len(PRIORITY_LEVELS) + 2
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")
# Also at an emoji, and before a need said in the first person in a run-on message without punctuation (voice
# input: "kein meeting startet ich brauch sofort jemanden", "nothing works i need a person").
_CLAUSE_BREAK = re.compile(
    r"[.!?;:]+(?:\s|$)|,|\s?—\s?|\s[-–]\s|\s(?:und|aber|sondern|and|but)\s"
    r"|\s(?=(?:ich|i)\s+(?:brauch\w*|bräuchte|will|möchte|hätte\s+gern|need|want|would\s+like)\b)"
    r"|\s*[\U0001F300-\U0001FAFF\u2600-\u27BF]+\s*",  # an emoji ends a clause as a full stop does
    re.IGNORECASE)
_MIN_CLAUSE_WORDS = 2


@dataclass(frozen=True)
class Example:
    text: str
    labels: Mapping[str, bool]  # flag -> label; a flag missing here is not trained on


@dataclass(frozen=True)
class Understanding:
    """What the models make of one message."""

    flags: Mapping[str, Mapping[str, Any]]  # flag -> {"value": bool, "confidence": float}
    triage: Triage


# --------------------------------------------------------------------------- training data

def nlu_files(data_dir: Path) -> list[Path]:
    """The NLU training files: `data/nlu.yml` and everything under `data/nlu/`."""
    files = [data_dir / "nlu.yml"] if (data_dir / "nlu.yml").exists() else []
    return files + sorted((data_dir / "nlu").rglob("*.yml"))


def intent_examples(path: Path) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(intent, text, block metadata) of a Rasa 3 NLU file, read as plain YAML (no Rasa import:
    the action server uses these models too)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for block in document.get("nlu") or []:
        if not isinstance(block, dict) or "intent" not in block:
            continue
        metadata = block.get("metadata") or {}
        examples = block.get("examples") or ""
        items = (examples.splitlines() if isinstance(examples, str)
                 else [f"- {item.get('text', '')}" for item in examples if isinstance(item, dict)])
        for line in items:
            line = line.strip()
            if line.startswith("- "):
                text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", line[2:]).strip()
                if text:
                    found.append((block["intent"], text, metadata))
    return found


def flag_examples(data_dir: Path) -> list[Example]:
    """The labelled messages the flags learn from (see the module docstring)."""
    examples = []
    for path in nlu_files(data_dir):
        for intent, text, metadata in intent_examples(path):
            labels = {}
            for flag, intents in ((WANTS_PERSON, PERSON_INTENTS), (DESCRIBES_PROBLEM, PROBLEM_INTENTS)):
                if isinstance(metadata.get(flag), bool):
                    labels[flag] = metadata[flag]
                elif intent not in UNLABELLED[flag]:
                    labels[flag] = intent in intents
            examples.append(Example(text, labels))
    for text, level in triage_examples(data_dir):
        examples.append(Example(text, {WANTS_PERSON: False, DESCRIBES_PROBLEM: level != "P4"}))
    return examples


def triage_training(data_dir: Path) -> list[tuple[str, str]]:
    """(text, level) for the triage head: `data/triage/*.yml`, and the NLU examples whose
    block metadata names their level (`triage: P2`: problem reports rated by the definitions)."""
    examples = list(triage_examples(data_dir))
    for path in nlu_files(data_dir):
        for _, text, metadata in intent_examples(path):
            if metadata.get(TRIAGE) in PRIORITY_LEVELS:
                examples.append((text, metadata[TRIAGE]))
    return examples


def clauses(text: str, min_words: int = _MIN_CLAUSE_WORDS) -> list[str]:
    """The clauses of a message of more than one ("X geht nicht, ich will einen Mitarbeiter"
    -> both parts); [] for a message of one clause. Clauses of fewer than `min_words` words are
    left out."""
    parts = [part.strip() for part in _CLAUSE_BREAK.split(text or "")]
    parts = [part for part in parts if part and len(part.split()) >= min_words]
    return parts if len(parts) > 1 else []


def one_word_clauses(text: str) -> list[str]:
    """The clauses of one word of a longer message ("third time I'm asking. PERSON. the app
    crashes"): a request for a person may be one word, a problem description is not."""
    return [part for part in clauses(text, min_words=1) if len(part.split()) == 1]


# --------------------------------------------------------------------------- the models

class NLUModels:
    """The featurizer and the three heads of one knowledge directory and one data directory."""

    def __init__(self, knowledge: Knowledge, data_dir: Path) -> None:
        from bot import textmodel, triage
        from bot.textmodel import cached_model, digest, file_inputs

        self.knowledge = knowledge
        self.cues = CueFeatures(knowledge.directory)
        self.scorer = cue_scorer_for(knowledge)
        files = (nlu_files(data_dir) + sorted((data_dir / "triage").glob("*.yml"))
                 + [knowledge.directory / "triage.yml"])
        # bot.triage shapes the cue features (CueFeatures): its code is part of the models too.
        key = digest([Path(__file__).read_bytes(), Path(textmodel.__file__).read_bytes(),
                      Path(triage.__file__).read_bytes(),
                      repr((C, CLASS_WEIGHT, CUE_SCALE)), *file_inputs(files)])
        bundle = cached_model("nlu", key, lambda: train(knowledge, data_dir))
        self.featurizer = bundle["featurizer"]
        self.heads = bundle["heads"]

    def analyse(self, texts: Sequence[str]) -> list[Understanding]:
        texts = [text or "" for text in texts]
        if not texts:
            return []
        segments, owners, one_word = [], [], []
        for index, text in enumerate(texts):
            for segment in [text, *clauses(text)]:
                segments.append(segment)
                owners.append(index)
                one_word.append(False)
            for segment in one_word_clauses(text):
                segments.append(segment)
                owners.append(index)
                one_word.append(True)
        rows = self.featurizer.rows(segments)
        width = self.featurizer.width
        found_cues = [self.scorer.score(text) for text in texts]
        cues = CueFeatures.rows(found_cues) * CUE_SCALE  # per message; every clause sees its message's cues
        segment_cues = cues[owners][:, :FLAG_CUE_COLUMNS]

        flags: list[dict[str, dict[str, Any]]] = [{} for _ in texts]
        for flag in FLAGS:
            head = self.heads[flag]
            dense = segment_cues if flag == DESCRIBES_PROBLEM else None
            column = head.classes.index(True)
            best = [0.0] * len(texts)
            for owner, alone, row in zip(owners, one_word, head.predict_rows(rows, dense, width)):
                if alone and flag != WANTS_PERSON:
                    continue
                best[owner] = max(best[owner], float(row[column]))
            for result, probability in zip(flags, best):
                value = probability >= THRESHOLD
                result[flag] = {"value": value, "confidence": round(probability if value else 1 - probability, 3)}

        head = self.heads[TRIAGE]
        whole = [owners.index(index) for index in range(len(texts))]  # a message's first segment
        levels = head.predict_rows([rows[i] for i in whole], cues, width)
        results = []
        for found, row, found_flags in zip(found_cues, levels, flags):
            by_level = {level: float(row[head.classes.index(level)]) for level in PRIORITY_LEVELS}
            level = max(PRIORITY_LEVELS, key=lambda name: by_level[name])
            results.append(Understanding(found_flags, Triage(level, by_level[level], found.matched,
                                                             found.scores, by_level)))
        return results


def train(knowledge: Knowledge, data_dir: Path) -> dict[str, Any]:
    """Fit the featurizer on every training text, then the three heads."""
    from bot.textmodel import LinearHead, TextFeaturizer, with_dense

    flag_data = flag_examples(data_dir)
    triage_data = triage_training(data_dir)
    featurizer = TextFeaturizer().fit(list(dict.fromkeys([e.text for e in flag_data] + [t for t, _ in triage_data])))
    cues = CueFeatures(knowledge.directory)
    heads = {}
    for flag in FLAGS:
        labelled = [(e.text, e.labels[flag]) for e in flag_data if flag in e.labels]
        texts = [t for t, _ in labelled]
        features = featurizer.transform(texts)
        if flag == DESCRIBES_PROBLEM:
            features = with_dense(features, cues(texts)[:, :FLAG_CUE_COLUMNS], CUE_SCALE)
        heads[flag] = LinearHead.fit(features, [label for _, label in labelled], c=C, class_weight=CLASS_WEIGHT)
    texts = [t for t, _ in triage_data]
    heads[TRIAGE] = LinearHead.fit(with_dense(featurizer.transform(texts), cues(texts), CUE_SCALE),
                                   [level for _, level in triage_data], c=C, class_weight="balanced")
    return {"featurizer": featurizer, "heads": heads}


def nlu_models(knowledge: Knowledge | None = None, data_dir: Path | None = None) -> NLUModels:
    """The models of `knowledge` (default: `knowledge/`) and `data_dir` (default: `data/`),
    built once per process."""
    from bot.settings import ROOT

    return _models(knowledge or load_knowledge(), Path(data_dir or ROOT / "data").resolve())


@lru_cache(maxsize=8)
def _models(knowledge: Knowledge, data_dir: Path) -> NLUModels:
    return NLUModels(knowledge, data_dir)
