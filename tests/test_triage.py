"""Problem descriptions rated P1..P4 by the seed's definitions."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeError, load_knowledge
from bot.triage import triage

KNOWLEDGE_DIR = Path(__file__).resolve().parents[1] / "knowledge"


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge(KNOWLEDGE_DIR)


@pytest.mark.parametrize(
    "text, level",
    [
        # P1: service down, nobody can work, no workaround
        ("Zoom ist komplett ausgefallen", "P1"),
        ("Niemand kann Meetings starten", "P1"),
        ("Bei uns ist alles ausgefallen!", "P1"),
        ("Keine einzige Besprechung funktioniert", "P1"),
        ("Seit heute morgen geht gar nichts mehr, die ganze Firma steht still", "P1"),
        ("The service is down", "P1"),
        ("We have an outage in all our offices", "P1"),
        ("Nobody in the company can join meetings", "P1"),
        ("We can't start any meeting since this morning", "P1"),
        ("Our whole company can't use Zoom, there is no workaround", "P1"),
        ("Ich habe eine Frage: unser Zoom ist komplett ausgefallen", "P1"),
        # P2: important aspects impaired, poor performance, partial workaround
        ("Zoom ist sehr langsam", "P2"),
        ("Wir haben ständig Verbindungsabbrüche", "P2"),
        ("Das Video ruckelt bei vielen Teilnehmern", "P2"),
        ("Es ist kein Ausfall, aber sehr langsam", "P2"),
        ("Many users affected by bad audio quality", "P2"),
        ("Audio keeps dropping for everyone", "P2"),
        ("Video freezes and lags for many participants", "P2"),
        ("Meetings are very slow, we have a partial workaround", "P2"),
        # P3: a general problem with a feature, operation not impaired
        ("Die Bildschirmfreigabe zeigt ein schwarzes Fenster", "P3"),
        ("Meine Aufnahmen werden nicht gespeichert", "P3"),
        ("Der virtuelle Hintergrund geht nicht", "P3"),
        ("Recordings are not saved to the cloud", "P3"),
        ("A feature doesn't work", "P3"),
        ("Screen sharing doesn't work", "P3"),
        ("Breakout rooms show an error message", "P3"),
        # P4: information, installation/configuration help, feature requests
        ("Ich wünsche mir eine neue Funktion", "P4"),
        ("Feature request: dark mode for the client", "P4"),
        ("Wie installiere ich den Client?", "P4"),
        ("How do I configure single sign-on?", "P4"),
        ("Ich habe eine Frage zu Aufnahmen", "P4"),
        ("Is there a beta for the new version?", "P4"),
        ("Wo finde ich die Einstellungen für Untertitel?", "P4"),
    ],
)
def test_levels(knowledge, text, level):
    result = triage(text, knowledge)
    assert result.level == level, (text, result)
    assert result.confidence >= 0.35
    assert result.matched and not result.is_default


@pytest.mark.parametrize("text", ["Es funktioniert nicht", "I get an error", "Zoom stürzt ab", "it is broken"])
def test_default_for_a_problem_is_p3_with_low_confidence(knowledge, text):
    result = triage(text, knowledge)
    assert (result.level, result.is_default) == ("P3", True)
    assert result.confidence < 0.35
    assert result.matched  # the problem cues found


@pytest.mark.parametrize("text", ["Hallo", "Hello there", "", "Danke schön"])
def test_default_otherwise_is_p4_with_low_confidence(knowledge, text):
    result = triage(text, knowledge)
    assert (result.level, result.is_default, result.matched) == ("P4", True, ())
    assert result.confidence < 0.35


def test_negated_cue_does_not_count(knowledge):
    assert triage("Es gibt keinen Ausfall", knowledge).level != "P1"
    assert triage("not slow at all, but the recording is not saved", knowledge).level == "P3"


def test_stronger_evidence_gives_higher_confidence(knowledge):
    one = triage("Zoom ist ausgefallen", knowledge)
    two = triage("Zoom ist komplett ausgefallen, niemand kann arbeiten, kein Workaround", knowledge)
    assert one.level == two.level == "P1"
    assert two.confidence > one.confidence
    assert 0 < one.confidence <= 1 and 0 < two.confidence <= 1


def test_umlauts_may_be_written_out(knowledge):
    assert triage("Wir haben staendig Verbindungsabbrueche", knowledge).level == "P2"
    assert triage("Wir haben standig Verbindungsabbruche", knowledge).level == "P2"


def test_cues_come_from_the_data(tmp_path):
    directory = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, directory)
    path = directory / "triage.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("[ausgefallen,", "[ausgefallen, kaffeemaschine,", 1),
                    encoding="utf-8")
    assert triage("Die Kaffeemaschine", load_knowledge(directory)).level == "P1"


def test_malformed_cue_is_reported(tmp_path):
    directory = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, directory)
    path = directory / "triage.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("[ausgefallen,", "[... ausgefallen,", 1),
                    encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"triage\.yml: levels\.P1: cue '\.\.\. ausgefallen'"):
        triage("egal", load_knowledge(directory))


@pytest.mark.parametrize(
    "text, problem",
    [("Zoom ist komplett ausgefallen", True), ("Die Aufnahme wird nicht gespeichert", True),
     ("Es funktioniert nicht", True), ("i cant log in", True), ("meeting wont start", True),
     ("Wie installiere ich den Client?", False), ("Hallo", False), ("I don't think so", False),
     ("Feature request: dark mode", False)],
)
def test_reads_like_problem(knowledge, text, problem):
    assert triage(text, knowledge).reads_like_problem is problem


def test_apostrophes_do_not_matter(knowledge):
    assert triage("we can't start any meeting", knowledge).level == "P1"
    assert triage("we cant start any meeting", knowledge).level == "P1"
    assert triage("we can’t start any meeting", knowledge).level == "P1"
