"""The spaCy and rapidfuzz comparisons behind docs/evaluation.md (issue 9, "spaCy"), one run:

1. **Entities**: the `entity_ruler` of the blank pipelines (`var/spacy/`, patterns from
   `knowledge/`) against `bot.matching.find_mentions`, on `tests/data/entities.yml` (F1 per
   message as in `make evaluate`) and time per message.
2. **Typo tolerance for countries**: `bot.matching`'s one-edit index against a rapidfuzz
   fallback (`fuzz.ratio` >= 85 over the one-word country names), on spelling variants made
   from the knowledge's country names (one letter dropped / doubled / swapped; synthetic, so
   the figure is about the mechanism, not real users), and false alarms on every held-out
   message (`tests/nlu/`, `tests/signals/`, the triage set) that names no country; and the same
   spellings as one-word answers to "which country?" (`bot.matching.resolve_country`).
3. **Lemma features for the flags and the triage**: `bot.nlu_models` trained with spaCy lemma
   unigrams/bigrams appended to the n-gram text, against the same models without, on the
   held-out sets (tests/signals, the blind triage set).

    python -m scripts.compare_spacy            # about 2 minutes (trains the models twice)

4. (`--intents`) **Lemma features for the intent classifier**: `config.yml` with
   `BilingualSpacyTokenizer` (below: tokens with the lemmas of the German or English pipeline)
   instead of the whitespace tokenizer, trained into a temp dir and scored by
   `scripts/evaluate.py` like the committed model (about 5 minutes more).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

from bot.settings import ROOT
from scripts.evaluate import ENTITIES_FILE, ENTITY_TYPES, HELD_OUT, load_examples, multiset_counts, prf

from bot.components import NO_WORDS_TOKEN, NeverEmptyTokenizer
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

FUZZ_MIN = 85
FUZZ_MIN_LENGTH = 5


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class BilingualSpacyTokenizer(NeverEmptyTokenizer):
    """Tokens with lemmas from the German or English pipeline (by the detected language), so the
    featurizers (`use_lemma`) see "ausfallen" for "ausgefallen" and "meeting" for "Meetings"."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        from scripts.build_spacy import pipeline_for

        text = message.get(attribute) or ""
        if not text.strip() or text == NO_WORDS_TOKEN:
            return [Token(NO_WORDS_TOKEN, 0)]
        doc = pipeline_for(text)(text)
        tokens = [Token(t.text, t.idx, lemma=t.lemma_.lower()) for t in doc if t.text.strip() and not t.is_punct]
        return self._apply_token_pattern(tokens) or [Token(NO_WORDS_TOKEN, 0)]


def intents_with_lemmas() -> dict:
    """Train config.yml with BilingualSpacyTokenizer and score it as `make evaluate` does."""
    import tempfile

    from scripts.evaluate import evaluate_held_out, train

    variant = (ROOT / "config.yml").read_text(encoding="utf-8").replace(
        "bot.components.NeverEmptyTokenizer", "scripts.compare_spacy.BilingualSpacyTokenizer")
    with tempfile.TemporaryDirectory(prefix="bolt-spacy-") as tmp:
        config = Path(tmp) / "config-spacy-tokenizer.yml"
        config.write_text(variant, encoding="utf-8")
        model, seconds = train(config, Path(tmp))
        found = evaluate_held_out(model)
    return {"served": found["served"]["macro avg"]["f1"], "classifier": found["classifier"]["macro avg"]["f1"],
            "oos_recall": found["oos_recall"], "fallback": found["in_scope_fallback_n"],
            "parse_ms": found["parse_ms"], "load_s": found["model_load_seconds"], "train_s": seconds}


def _entity_f1(find) -> tuple[float, float]:
    rows = yaml.safe_load(ENTITIES_FILE.read_text(encoding="utf-8"))
    total = [0, 0, 0]
    started = time.perf_counter()
    for row in rows:
        found = find(row["text"])
        for kind, expected in row["expected"].items():
            got = [value for entity, value in found if entity == kind]
            for i, n in enumerate(multiset_counts(expected, got)):
                total[i] += n
    ms = (time.perf_counter() - started) * 1000 / len(rows)
    return prf(*total)[2], ms


def entities() -> dict:
    from bot.knowledge import load_knowledge
    from bot.matching import find_mentions
    from scripts.build_spacy import pipeline_for

    knowledge = load_knowledge()
    find_mentions("warm up", knowledge)
    pipeline_for("warm up")("warm up")
    ruler = _entity_f1(lambda text: [(e.label_, e.ent_id_) for e in pipeline_for(text)(text).ents
                                     if e.label_ in ENTITY_TYPES])
    matcher = _entity_f1(lambda text: [(m.entity, m.value) for m in find_mentions(text, knowledge)])
    return {"entity_ruler": ruler, "bot.matching": matcher}


def _variants(word: str) -> list[str]:
    """Deterministic one-edit spellings: a middle letter dropped, the last doubled, two swapped."""
    middle = len(word) // 2
    return [word[:middle] + word[middle + 1:], word + word[-1], word[:middle - 1] + word[middle] + word[middle - 1] + word[middle + 1:]]


def typos() -> dict:
    from rapidfuzz import fuzz, process

    from bot.knowledge import load_knowledge
    from bot.matching import canonical, find_mentions, words

    knowledge = load_knowledge()
    names = {}
    for country in knowledge.countries.values():
        for name in (country.name.de, country.name.en, *country.vocabulary.aliases):
            name = name.rstrip("*")
            if " " not in name and len(name) >= FUZZ_MIN_LENGTH:
                names[canonical(name)] = country.code
    choices = list(names)

    def fuzzy(text: str) -> set[str]:
        found = {m.value for m in find_mentions(text, knowledge) if m.entity == "country"}
        if found:
            return found
        for _, _, word in words(text):
            word = canonical(word)
            if len(word) < FUZZ_MIN_LENGTH:
                continue
            best = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=FUZZ_MIN)
            if best:
                found.add(names[best[0]])
        return found

    def exact(text: str) -> set[str]:
        return {m.value for m in find_mentions(text, knowledge) if m.entity == "country"}

    cases = []
    for name, code in names.items():
        for variant in _variants(name):
            if variant != name and variant not in names:
                cases.append((f"hotline {variant}", code))
    from scripts.evaluate_signals import SIGNALS_FILE, TRIAGE_FILE

    negatives = [text for text, _ in load_examples(HELD_OUT) if not exact(text)]
    negatives += [row["text"] for path in (SIGNALS_FILE, TRIAGE_FILE)
                  for row in yaml.safe_load(path.read_text(encoding="utf-8")) if not exact(row["text"])]
    result = {}
    for label, find in (("bot.matching (one-edit index)", exact), ("+ rapidfuzz fallback", fuzzy)):
        started = time.perf_counter()
        hits = sum(1 for text, code in cases if code in find(text))
        false = sum(1 for text in negatives if find(text))
        ms = (time.perf_counter() - started) * 1000 / (len(cases) + len(negatives))
        result[label] = {"recall": hits / len(cases), "false_alarms": false, "negatives": len(negatives),
                         "cases": len(cases), "ms": ms}
    # As an answer to "which country?" (bot.matching.resolve_country, where the fallback is used):
    from bot.matching import resolve_country

    answers = [(text.split(" ", 1)[1], code) for text, code in cases]
    resolved = sum(1 for word, code in answers if (found := resolve_country(word, knowledge)) and found.code == code)
    not_countries = ["keine ahnung", "weiss nicht", "egal", "nochmal bitte", "anderes land", "whatever",
                     "no idea", "never mind", "support", "hotline", "premier", "danke", "thanks", "später"]
    wrong = [text for text in not_countries if resolve_country(text, knowledge)]
    result["resolve_country"] = {"recall": resolved / len(answers), "cases": len(answers), "not_countries": len(not_countries),
                                 "false": wrong}
    return result


def lemma_features() -> dict:
    """The NLU models with and without spaCy lemmas appended to their n-gram text."""
    from bot import textmodel
    from bot.knowledge import load_knowledge
    from bot.nlu_models import NLUModels, train
    from scripts.build_spacy import lemmas
    from bot.triage import CueFeatures, cue_scorer_for
    from scripts.evaluate_signals import SIGNALS_FILE, TRIAGE_FILE, binary_scores, level_scores

    knowledge = load_knowledge()
    data = (ROOT / "data").resolve()
    signals_rows = yaml.safe_load(SIGNALS_FILE.read_text(encoding="utf-8"))
    triage_rows = yaml.safe_load(TRIAGE_FILE.read_text(encoding="utf-8"))
    plain = textmodel.normalize
    memo: dict[str, str] = {}

    def with_lemmas(text: str) -> str:
        if text not in memo:
            memo[text] = plain(text) + " " + " ".join("l_" + textmodel.canonical(w) for w in lemmas(text) if w.strip())
        return memo[text]

    results = {}
    for label, normalize in (("n-grams", plain), ("n-grams + spaCy lemmas", with_lemmas)):
        textmodel.normalize = normalize
        try:
            started = time.perf_counter()
            bundle = train(knowledge, data)
            seconds = time.perf_counter() - started
            models = NLUModels.__new__(NLUModels)
            models.knowledge, models.cues, models.scorer = knowledge, CueFeatures(knowledge.directory), cue_scorer_for(knowledge)
            models.featurizer, models.heads = bundle["featurizer"], bundle["heads"]
            on_signals = models.analyse([r["text"] for r in signals_rows])
            on_triage = models.analyse([r["text"] for r in triage_rows])
            started = time.perf_counter()
            for row in signals_rows:
                models.analyse([row["text"]])
            ms = (time.perf_counter() - started) * 1000 / len(signals_rows)
        finally:
            textmodel.normalize = plain
        results[label] = {
            "wants_person": binary_scores((r["person"], f.flags["wants_person"]["value"]) for r, f in zip(signals_rows, on_signals))["f1"],
            "describes_problem": binary_scores((r["problem"], f.flags["describes_problem"]["value"]) for r, f in zip(signals_rows, on_signals))["f1"],
            "describes_problem_blind": binary_scores((r["priority"] != "P4", f.flags["describes_problem"]["value"]) for r, f in zip(triage_rows, on_triage))["f1"],
            "triage_macro_f1": level_scores([(r["priority"], f.triage.level) for r, f in zip(triage_rows, on_triage)])["macro_f1"],
            "train_seconds": seconds, "ms": ms,
        }
    return results


def main() -> int:
    import os

    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n1. entities on tests/data/entities.yml: F1, ms/message")
    for name, (f1, ms) in entities().items():
        print(f"  {name:<14} F1 {f1:.3f}  {ms:.3f} ms")
    print("\n2. country typos (synthetic one-edit spellings) and false alarms on tests/nlu without a country")
    found = typos()
    answer = found.pop("resolve_country")
    for name, r in found.items():
        print(f"  {name:<32} recall {r['recall']:.3f} ({r['cases']} spellings)  false alarms {r['false_alarms']}/{r['negatives']}  {r['ms']:.3f} ms")
    print(f"  resolve_country (a one-word answer to 'which country?', with the rapidfuzz fallback): recall "
          f"{answer['recall']:.3f} ({answer['cases']} spellings); non-country answers resolved: {answer['false']} of {answer['not_countries']}")
    print("\n3. lemma features in the flag and triage models (held-out)")
    for name, r in lemma_features().items():
        print(f"  {name:<24} wants_person {r['wants_person']:.3f}  describes_problem {r['describes_problem']:.3f} "
              f"(blind triage set {r['describes_problem_blind']:.3f})  triage macro-F1 {r['triage_macro_f1']:.3f}  "
              f"train {r['train_seconds']:.0f} s  {r['ms']:.2f} ms/message")
    if "--intents" in sys.argv[1:]:
        print("\n4. intents with spaCy lemmas (BilingualSpacyTokenizer), held-out tests/nlu/")
        r = intents_with_lemmas()
        print(f"  macro-F1 as served {r['served']:.3f}, classifier view {r['classifier']:.3f}, OOS recall "
              f"{r['oos_recall']:.3f}, in-scope fallback {r['fallback']}, parse {r['parse_ms']:.1f} ms/message, "
              f"model load {r['load_s']:.1f} s, training {r['train_s']:.0f} s (the committed model: make evaluate)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
