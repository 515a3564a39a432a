"""NLU training data and the held-out set: loadable, disjoint, covering the domain's intents."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TRAIN_FILES = [ROOT / "data" / "nlu.yml", *sorted((ROOT / "data" / "nlu").glob("*.yml"))]
TEST_FILES = sorted((ROOT / "tests" / "nlu").glob("*.yml"))
DOMAIN_FILES = [ROOT / "domain.yml"]
# Intents the classifier never learns from examples (predicted by Rasa's FallbackClassifier).
BUILTIN_INTENTS = {"nlu_fallback"}

def _domain_intents() -> set[str]:
    """Every intent the domain declares (the one list of intents), less the built-in ones."""
    intents: set[str] = set()
    for path in DOMAIN_FILES:
        for intent in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents") or []:
            intents.add(intent if isinstance(intent, str) else next(iter(intent)))
    return intents - BUILTIN_INTENTS


ARCHITECTURE_INTENTS = _domain_intents()


def _examples(files) -> list[tuple[str, str]]:
    """(intent, text) pairs from Rasa 3.x NLU YAML files, read plainly (no Rasa import)."""
    pairs = []
    for path in files:
        document = yaml.safe_load(path.read_text("utf-8")) or {}
        assert str(document.get("version")) == "3.1", path
        for block in document.get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((block["intent"], line[2:].strip()))
    return pairs


def normalize(text: str) -> str:
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def shape(text: str) -> str:
    """Like normalize, and every number counts as the same number (near-copy check)."""
    return re.sub(r"\d+", "0", normalize(text))


TRAIN = _examples(TRAIN_FILES)
TEST = _examples(TEST_FILES)


def test_files_exist():
    assert TRAIN and TEST


def test_no_entity_annotations():
    for _, text in TRAIN + TEST:
        assert not re.search(r"\]\([a-z_]+\)|\]\{", text), text


def test_training_examples_unique():
    counts = Counter(normalize(text) for _, text in TRAIN)
    assert [t for t, n in counts.items() if n > 1] == []


def test_held_out_set_is_disjoint_from_training():
    train = {normalize(text) for _, text in TRAIN}
    assert [text for _, text in TEST if normalize(text) in train] == []
    train_shapes = {shape(text) for _, text in TRAIN}
    assert [text for _, text in TEST if shape(text) in train_shapes] == []


def test_held_out_set_unique():
    counts = Counter(normalize(text) for _, text in TEST)
    assert [t for t, n in counts.items() if n > 1] == []


def test_intents_match_architecture():
    assert {intent for intent, _ in TRAIN} == ARCHITECTURE_INTENTS
    assert {intent for intent, _ in TEST} == ARCHITECTURE_INTENTS


@pytest.mark.parametrize("intent", sorted(ARCHITECTURE_INTENTS))
def test_example_counts(intent):
    train = sum(1 for i, _ in TRAIN if i == intent)
    test = sum(1 for i, _ in TEST if i == intent)
    # out_of_scope must cover the whole world; set_priority is one narrow sentence shape.
    minimum = {"out_of_scope": 150, "set_priority": 20}.get(intent, 40)
    assert train >= minimum, (intent, train)
    assert test >= 8, (intent, test)


@pytest.mark.parametrize("intent", ["ask_phone", "ask_plan", "ask_priority", "report_problem",
                                    "request_human", "out_of_scope", "greet", "share_secret"])
def test_both_languages_present(intent):
    from bot.language import detect, is_confident

    codes = Counter()
    for i, text in TRAIN:
        if i == intent:
            detection = detect(text)
            if is_confident(detection):
                codes[detection.code] += 1
    total = codes["de"] + codes["en"]
    assert codes["de"] >= 0.3 * total and codes["en"] >= 0.3 * total, codes


# The action server's HTTP paths ("/health", "/webhook", "/actions"): strings, not payloads.
HTTP_PATHS = {"health", "webhook", "actions"}


def _button_only_intents() -> set[str]:
    """Intents sent as button payloads ("/set_priority{...}") by the domain or the actions:
    they need no training examples."""
    names = set()
    for folder, pattern in ((".", "domain.yml"), ("actions", "**/*.py"), ("bot", "**/*.py")):
        for path in (ROOT / folder).glob(pattern):
            names.update(re.findall(r"['\"]/([a-z_]+)(?:\{|['\"])", path.read_text("utf-8")))
    return names - HTTP_PATHS


def test_every_button_payload_names_a_domain_intent():
    """A payload ("/set_priority{...}") of a domain response or an action whose intent the domain
    lacks is refused by Rasa at run time; the scan itself must find the known payloads."""
    payloads = _button_only_intents()
    assert {"request_human", "set_priority", "leave_queue"} <= payloads, payloads
    assert payloads - ARCHITECTURE_INTENTS == set()


def test_rasa_loads_training_and_test_data():
    from rasa.shared.nlu.training_data import loading

    # file by file: data/ also holds rules and stories, possibly mid-edit by someone else
    parts = [loading.load_data(str(path)) for path in TRAIN_FILES]
    train = parts[0].merge(*parts[1:])
    assert set(train.intents) == ARCHITECTURE_INTENTS
    assert len(train.training_examples) == len(TRAIN)
    test = loading.load_data(str(ROOT / "tests" / "nlu"))
    assert set(test.intents) == ARCHITECTURE_INTENTS


SHARED_EXAM = ROOT.parent / "shared" / "exam"


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _sample_sentences() -> set[str]:
    """Every sentence a user says in the public exam samples (longer than a bare keyword)."""
    found: set[str] = set()
    for name in ("sample.yml", "dialogue-sample.yml"):
        for case in yaml.safe_load((SHARED_EXAM / name).read_text(encoding="utf-8")):
            turns = list(case.get("say") or []) + [turn.get("say") if isinstance(turn, dict) else turn
                                                   for turn in case.get("turns") or []]
            found |= {_words(text) for text in turns if isinstance(text, str) and len(_words(text)) > 12}
    return found


def test_public_sample_stays_out_of_training_and_tests():
    """The public exam sample is a check, not an example (issue 9): none of its sentences in the
    training data, the knowledge, the rules or the tests. Fails when ../shared is missing."""
    sentences = _sample_sentences()
    assert len(sentences) > 40
    sources = [path for folder in ("data", "knowledge", "tests") for path in (ROOT / folder).rglob("*")
               if path.suffix in (".yml", ".py", ".md") and "blind" not in path.parts]
    leaks = sorted({f"{path.relative_to(ROOT)}: {sentence}" for path in sources
                    for line in path.read_text(encoding="utf-8").splitlines()
                    for sentence in sentences if sentence in _words(line)})
    assert leaks == []
