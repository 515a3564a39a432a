"""The blank spaCy pipelines of scripts/build_spacy.py: built from knowledge/ with no download,
saved and loaded by path, chosen by language. (Measured and not used by the bot: see
docs/evaluation.md, `make compare-spacy`.)"""
from __future__ import annotations

import pytest

import spacy


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from scripts.build_spacy import build

    return build(tmp_path_factory.mktemp("spacy"))


def test_pipelines_load_by_path_with_lemmas_and_knowledge_entities(built):
    german = spacy.load(built / "de")
    assert german.pipe_names == ["lemmatizer", "entity_ruler"]
    doc = german("Die Meetings sind ausgefallen, Hotline in der Schweiz für Premier+?")
    assert "ausfallen" in [t.lemma_ for t in doc]
    assert ("country", "CH") in {(e.label_, e.ent_id_) for e in doc.ents}
    english = spacy.load(built / "en")
    assert [t.lemma_ for t in english("meetings keep dropping")][0] == "meeting"


def test_second_build_reuses_the_saved_pipelines(built):
    from scripts.build_spacy import build

    stamp = (built / "de" / "config.cfg").stat().st_mtime
    build(built)
    assert (built / "de" / "config.cfg").stat().st_mtime == stamp


def test_the_pipeline_follows_the_language():
    from scripts.build_spacy import pipeline_for

    assert pipeline_for("Wie erreiche ich den Support?").lang == "de"
    assert pipeline_for("How do I reach support?").lang == "en"
    assert pipeline_for("ok").lang == "de"
