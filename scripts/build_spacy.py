"""Build the blank German and English spaCy pipelines under `var/spacy/` (no model download),
and load them by path, the one for a message's detected language.

Each is `spacy.blank(lang)` with the lookup lemmatizer (tables from `spacy-lookups-data`) and
an `entity_ruler` whose patterns come from `knowledge/` (countries, plans, features,
priorities: the same vocabulary as `bot.matching`). Rebuilt when the knowledge data or this
script changes (a digest file beside the pipelines). Rasa's `SpacyNLP` loads one model per
pipeline; a bilingual chat needs both, so `pipeline_for(text)` picks German or English with
`bot.language.detect` (German when unsure).

Measured against what the bot uses instead (`python -m scripts.compare_spacy`, docs/evaluation.md):
the held-out figures did not support them anywhere, so nothing in the running bot loads them.

    make spacy                             # = python -m scripts.build_spacy
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from functools import lru_cache
from pathlib import Path

from bot.knowledge import Knowledge, load_knowledge
from bot.settings import ROOT

OUT = ROOT / "var" / "spacy"
LANGUAGES = ("de", "en")


def ruler_patterns(knowledge: Knowledge) -> list[dict]:
    """EntityRuler patterns (`LOWER` token sequences; codes as written) from the knowledge."""
    import spacy

    tokenizer = spacy.blank("en").tokenizer
    patterns: list[dict] = []

    def add(label: str, value: str, phrase: str, exact: bool = False) -> None:
        phrase = phrase.rstrip("*").strip()
        if not phrase:
            return
        key = "ORTH" if exact else "LOWER"
        tokens = [{key: t.text if exact else t.text.lower()} for t in tokenizer(phrase)]
        patterns.append({"label": label, "pattern": tokens, "id": value})

    for country in knowledge.countries.values():
        for name in (*country.vocabulary.aliases, country.name.de, country.name.en):
            add("country", country.code, name)
        for code in country.vocabulary.exact:
            add("country", country.code, code, exact=True)
    for plan in knowledge.plans.values():
        for name in (*plan.vocabulary.aliases, plan.name.de, plan.name.en):
            add("plan", plan.id, name)
        for form in plan.vocabulary.exact:
            add("plan", plan.id, form, exact=True)
    for feature in knowledge.features.values():
        for name in feature.vocabulary.aliases:
            add("feature", feature.id, name)
        for form in feature.vocabulary.exact:
            add("feature", feature.id, form, exact=True)
    for level in knowledge.priorities:
        add("priority", level, level)
        for prefix in knowledge.priority_prefixes:
            add("priority", level, f"{prefix} {level[1:]}")
    return patterns


def digest(knowledge: Knowledge) -> str:
    hasher = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(knowledge.directory.glob("*.yml")):
        hasher.update(path.read_bytes())
    return hasher.hexdigest()[:16]


def build(out: Path = OUT, knowledge: Knowledge | None = None) -> Path:
    import spacy

    knowledge = knowledge or load_knowledge()
    wanted = digest(knowledge)
    stamp = out / "inputs.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("digest") == wanted and all(
            (out / lang / "config.cfg").exists() for lang in LANGUAGES):
        return out
    patterns = ruler_patterns(knowledge)
    out.mkdir(parents=True, exist_ok=True)
    for lang in LANGUAGES:
        nlp = spacy.blank(lang)
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": None})
        nlp.initialize()
        ruler.add_patterns(patterns)
        target = out / lang
        if target.exists():
            shutil.rmtree(target)
        nlp.to_disk(target)
    stamp.write_text(json.dumps({"digest": wanted}))
    return out


@lru_cache(maxsize=4)
def load(lang: str, directory: Path = OUT):
    """The saved pipeline of `lang` ("de" | "en"), built first if missing."""
    import spacy

    build(directory)
    return spacy.load(directory / lang)


def pipeline_for(text: str):
    """The German or English pipeline, by the detected language of `text`."""
    from bot.language import detect, is_confident

    detection = detect(text)
    return load(detection.code if is_confident(detection) else "de")


def lemmas(text: str) -> list[str]:
    """The lower-cased lemmas of `text`'s tokens (punctuation left out)."""
    return [t.lemma_.lower() for t in pipeline_for(text)(text) if not t.is_punct and not t.is_space]


def main() -> int:
    path = build()
    print(f"spaCy pipelines ready: {path.relative_to(ROOT)}/{{{','.join(LANGUAGES)}}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
