"""`make evaluate`, the parts beyond the intents: the NLU's flags, triage, the blind sets' first
measures and the cost of the custom components. Pure functions; `scripts/evaluate.py` calls
them and renders the report, `scripts/nlu_gate.py` checks their thresholds.

- **Flags** (`bot.signals`: wants_person, describes_problem) on three held-out views:
  `tests/signals/heldout.yml` (labelled messages, both flags); the blind triage set
  (`tests/triage/heldout.yml`: P1-P3 describe a problem, P4 requests do not, none asks for a
  person); `tests/nlu/` (`request_human` asks for a person, `report_problem` describes a problem,
  every other intent does neither -- approximate: a held-out report that also asks for a person
  counts as a false positive).
- **Triage** on the blind triage set: per-level precision/recall/F1, macro-F1, the confusion
  matrix; the cue scorer alone (today's keyword triage before the model) in the same run.
- **Blind conversation sets**: the first-measure score of each, from the committed
  `tests/exam/blind/SCORES.yml` (the coordinator fills it; this only reports it).
- **Latency**: the custom components' own time per message, one message at a time as Rasa
  parses them, next to the whole pipeline's.
"""
from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from bot.levels import PRIORITY_LEVELS
from bot.settings import ROOT

SIGNALS_FILE = ROOT / "tests" / "signals" / "heldout.yml"
TRIAGE_FILE = ROOT / "tests" / "triage" / "heldout.yml"
# Every blind round's labelled set besides heldout.yml: sealed-b, c1, c2, ...
BLIND_TRIAGE_FILES = sorted(set((ROOT / "tests" / "triage").glob("*.yml")) - {ROOT / "tests" / "triage" / "heldout.yml"})
SCORES_FILE = ROOT / "tests" / "exam" / "blind" / "SCORES.yml"
LEVELS = PRIORITY_LEVELS
PERSON_INTENT = "request_human"
PROBLEM_INTENT = "report_problem"
# Intents whose held-out examples may or may not describe the problem again (as in training).
PROBLEM_UNLABELLED = ("set_priority", "share_secret")


def binary_scores(pairs: Iterable[Tuple[bool, bool]]) -> dict:
    """Precision, recall, F1 and counts of (true, predicted) booleans."""
    pairs = list(pairs)
    tp = sum(1 for t, p in pairs if t and p)
    fp = sum(1 for t, p in pairs if not t and p)
    fn = sum(1 for t, p in pairs if t and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n": len(pairs), "positives": tp + fn,
            "fp": fp, "fn": fn}


def level_scores(pairs: Sequence[Tuple[str, str]]) -> dict:
    """Per-level precision/recall/F1, macro-F1, accuracy and the confusion matrix."""
    counts = Counter(pairs)
    per_level = {}
    for level in LEVELS:
        tp = counts[(level, level)]
        fp = sum(counts[(t, level)] for t in LEVELS if t != level)
        fn = sum(counts[(level, p)] for p in LEVELS if p != level)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_level[level] = {"precision": precision, "recall": recall, "f1": f1, "n": tp + fn}
    return {
        "per_level": per_level,
        "macro_f1": sum(s["f1"] for s in per_level.values()) / len(LEVELS),
        "accuracy": sum(counts[(l, l)] for l in LEVELS) / len(pairs) if pairs else 0.0,
        "confusion": [[counts[(t, p)] for p in LEVELS] for t in LEVELS],
        "n": len(pairs),
    }


def _rows(path: Path) -> list:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or []


def triage_set_scores(path: Path) -> dict:
    """The triage model's level scores on a labelled set of descriptions ({text, priority})."""
    from bot.nlu_models import nlu_models

    rows = _rows(path)
    found = nlu_models().analyse([r["text"] for r in rows])
    return level_scores([(r["priority"], f.triage.level) for r, f in zip(rows, found)])


def evaluate_signals(nlu_examples: Sequence[Tuple[str, str]]) -> dict:
    """Flags and triage on the held-out sets; `nlu_examples` are tests/nlu's (text, intent)."""
    from bot.knowledge import load_knowledge
    from bot.nlu_models import nlu_models
    from bot.triage import cue_triage

    models = nlu_models()
    signals_rows = _rows(SIGNALS_FILE)
    triage_rows = _rows(TRIAGE_FILE)
    found_signals = models.analyse([r["text"] for r in signals_rows])
    found_triage = models.analyse([r["text"] for r in triage_rows])
    found_nlu = models.analyse([text for text, _ in nlu_examples])

    def flag(found, name):
        return found.flags[name]["value"]

    knowledge = load_knowledge()
    result = {
        "signals_n": len(signals_rows),
        "wants_person": {
            "signals": binary_scores((r["person"], flag(f, "wants_person")) for r, f in zip(signals_rows, found_signals)),
            "nlu": binary_scores((i == PERSON_INTENT, flag(f, "wants_person")) for (_, i), f in zip(nlu_examples, found_nlu)),
            "triage_false_positives": sum(1 for f in found_triage if flag(f, "wants_person")),
        },
        "describes_problem": {
            "signals": binary_scores((r["problem"], flag(f, "describes_problem"))
                                     for r, f in zip(signals_rows, found_signals)),
            "triage": binary_scores((r["priority"] != "P4", flag(f, "describes_problem"))
                                    for r, f in zip(triage_rows, found_triage)),
            "nlu": binary_scores((i == PROBLEM_INTENT, flag(f, "describes_problem"))
                                 for (_, i), f in zip(nlu_examples, found_nlu) if i not in PROBLEM_UNLABELLED),
        },
        "triage": {
            "model": level_scores([(r["priority"], f.triage.level) for r, f in zip(triage_rows, found_triage)]),
            "cues": level_scores([(r["priority"], cue_triage(r["text"], knowledge)) for r in triage_rows]),
            "per_language": {
                lang: level_scores([(r["priority"], f.triage.level) for r, f in zip(triage_rows, found_triage)
                                    if r.get("lang") == lang])
                for lang in ("de", "en")
            },
        },
        "triage_n": len(triage_rows),
    }
    return result


def blind_scores(path: Path = SCORES_FILE) -> List[dict]:
    """The first-measure rows of the blind conversation sets (empty when the file is missing)."""
    if not path.exists():
        return []
    rows = []
    for row in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        if not isinstance(row, dict) or "set" not in row:
            continue
        cases = int(row.get("cases") or 0)
        passed = int(row.get("passed") or 0)
        rows.append({"set": row["set"], "file": row.get("file", ""), "measured": str(row.get("measured", "")),
                     "commit": str(row.get("commit", "")), "passed": passed, "cases": cases,
                     "share": passed / cases if cases else None})
    return rows


def component_latency(texts: Sequence[str], repeat: int = 2) -> Dict[str, float]:
    """Milliseconds a message of each custom component's work, one message at a time."""
    from bot.knowledge import load_knowledge
    from bot.language import identify
    from bot.matching import find_mentions
    from bot.nlu_models import nlu_models
    from bot.redaction import find_secrets

    knowledge = load_knowledge()
    models = nlu_models()
    steps = {
        "signals + triage (bot.nlu_models)": lambda text: models.analyse([text]),
        "language incl. other (bot.language.identify)": identify,
        "entities (bot.matching.find_mentions)": lambda text: find_mentions(text, knowledge),
        "secrets (bot.redaction.find_secrets)": find_secrets,
    }
    timings = {}
    for name, step in steps.items():
        step(texts[0])  # warm
        started = time.perf_counter()
        for _ in range(repeat):
            for text in texts:
                step(text)
        timings[name] = (time.perf_counter() - started) * 1000 / (repeat * len(texts))
    return timings


# --------------------------------------------------------------------------- report

def _f(x: Optional[float]) -> str:
    return "–" if x is None else f"{x:.3f}"


def render(signals: dict, blind: List[dict], latency: Dict[str, float], parse_ms: float) -> List[str]:
    wp, dp, tr = signals["wants_person"], signals["describes_problem"], signals["triage"]
    lines = ["", "## Flags for the actions (`bot.signals`), held-out", "",
             "| flag | held-out view | n | positives | precision | recall | F1 |", "|---|---|---|---|---|---|---|"]
    views = [
        ("wants_person", "`tests/signals/heldout.yml`", wp["signals"]),
        ("wants_person", "`tests/nlu/` (`request_human` = asks for a person)", wp["nlu"]),
        ("describes_problem", "`tests/signals/heldout.yml`", dp["signals"]),
        ("describes_problem", "blind `tests/triage/heldout.yml` (P1-P3 = problem)", dp["triage"]),
        ("describes_problem", "`tests/nlu/` (`report_problem` = problem)", dp["nlu"]),
    ]
    for name, view, s in views:
        lines.append(f"| {name} | {view} | {s['n']} | {s['positives']} | {s['precision']:.3f} | "
                     f"{s['recall']:.3f} | **{s['f1']:.3f}** |")
    lines += ["", f"wants_person on the blind triage descriptions (none asks for a person): "
                  f"{wp['triage_false_positives']} false positives of {signals['triage_n']}.",
              "`tests/signals/heldout.yml` was written by the NLU engineer before the signal training data "
              "(not blind); the triage set is blind; `tests/nlu/` labels are the intents (approximate)."]
    model, cues = tr["model"], tr["cues"]
    lines += ["", f"## Triage, blind held-out `tests/triage/heldout.yml` ({signals['triage_n']} descriptions)", "",
              "| level | precision | recall | F1 | F1 cue scorer alone | n |", "|---|---|---|---|---|---|"]
    for level in LEVELS:
        s, c = model["per_level"][level], cues["per_level"][level]
        lines.append(f"| {level} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {c['f1']:.3f} | {s['n']} |")
    lines.append(f"| **macro** | | | **{model['macro_f1']:.3f}** | {cues['macro_f1']:.3f} | {model['n']} |")
    lines += ["", f"Accuracy {model['accuracy']:.3f} (cue scorer alone {cues['accuracy']:.3f}). "
                  + "Per language macro-F1: " + ", ".join(f"{lang} {s['macro_f1']:.3f} (n={s['n']})"
                                                         for lang, s in tr["per_language"].items()) + ".",
              "", "Confusion (rows = true level, columns = predicted):", "",
              "| true \\ predicted | " + " | ".join(LEVELS) + " |", "|---|" + "---|" * len(LEVELS)]
    for level, row in zip(LEVELS, model["confusion"]):
        lines.append(f"| {level} | " + " | ".join(str(v) for v in row) + " |")
    lines += ["", "## Blind conversation sets: first measure", "",
              "Each set was run once against the bot before any change it motivated "
              "(`tests/exam/blind/SCORES.yml`, filled by the coordinator).", ""]
    if blind:
        lines += ["| set | measured | commit | passed | share |", "|---|---|---|---|---|"]
        for row in blind:
            share = f"{row['share']:.0%}" if row["share"] is not None else "–"
            lines.append(f"| `{row['set']}` | {row['measured']} | {row['commit']} | {row['passed']}/{row['cases']} | {share} |")
    else:
        lines.append("(no `tests/exam/blind/SCORES.yml` yet)")
    lines += ["", "## Latency of the custom components (one message at a time)", "",
              "| step | ms / message | share of the whole parse |", "|---|---|---|"]
    for name, ms in latency.items():
        lines.append(f"| {name} | {ms:.2f} | {ms / parse_ms:.0%} |" if parse_ms else f"| {name} | {ms:.2f} | – |")
    lines.append(f"| whole pipeline (`Agent.parse_message`) | {parse_ms:.2f} | 100% |")
    return lines
