"""`make evaluate`: NLU quality on the held-out set, 5-fold cross-validation, entities, language.

What it measures (report: `reports/evaluation.md`, plot: `reports/confusion.png`):

- **Held-out intents** (`tests/nlu/`, never training data): the trained model
  (`models/bolt.tar.gz`, or `--config X` trains one into a temporary directory) parses every
  held-out message in-process, exactly as the Rasa server would, FallbackClassifier and
  SecretGuard included. Two views:
  * *as served*: `nlu_fallback` counts as a wrong answer for the true intent (the stricter view,
    the one the issue's targets are checked against);
  * *classifier* (what `rasa test nlu` and `scripts/nlu_gate.py` report): a fallback prediction is
    undone, i.e. the top-ranked real intent counts.
  Per-intent precision/recall/F1 and macro-F1 over the real intents; out-of-scope recall
  (held-out `out_of_scope` predicted as `out_of_scope` or `nlu_fallback`); the share of in-scope
  held-out messages sent to `nlu_fallback`.
- **Cross-validation**: `rasa test nlu --nlu data --config config.yml --cross-validation --folds 5`
  (classifier view, folds accumulated).
- **Entities**: `bot.matching.find_mentions` (what `KnowledgeEntityExtractor` runs) against
  `tests/data/entities.yml`; precision/recall/F1 over (type, value) per message, per type.
- **Language**: `bot.language.identify` (German, English, `other`) on `tests/data/language.yml`.
- **Flags, triage, blind first measures, component latency**: `scripts/evaluate_signals.py`.

    python -m scripts.evaluate                 # everything (make evaluate)
    python -m scripts.evaluate --skip-cv       # held-out + entities + language only (fast)
    python -m scripts.evaluate --config /tmp/variant.yml --skip-cv --out /tmp/variant
                                               # train a variant into a temp dir, score it
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from bot.settings import ROOT
from scripts.runtime import rasa_env

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
MODEL = ROOT / "models" / "bolt.tar.gz"
HELD_OUT = ROOT / "tests" / "nlu"
ENTITIES_FILE = ROOT / "tests" / "data" / "entities.yml"
LANGUAGE_FILE = ROOT / "tests" / "data" / "language.yml"
ENTITY_TYPES = ("country", "plan", "priority", "feature")


# --------------------------------------------------------------------------- pure helpers

def prf(tp: int, fp: int, fn: int) -> Tuple[float, float, float]:
    """Precision, recall, F1 from counts; 0.0 where undefined (like sklearn's zero_division=0)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def intent_scores(pairs: Sequence[Tuple[str, str]], labels: Optional[Iterable[str]] = None) -> Dict[str, dict]:
    """Per-label precision/recall/F1/support from (true, predicted) pairs, plus "macro avg".

    `labels`: the classes to score (default: every true label). Predictions outside them (e.g.
    `nlu_fallback`) are misses for the true label and false positives of nobody.
    """
    labels = sorted(set(labels) if labels is not None else {t for t, _ in pairs})
    scores: Dict[str, dict] = {}
    for label in labels:
        tp = sum(1 for t, p in pairs if t == label and p == label)
        fp = sum(1 for t, p in pairs if t != label and p == label)
        fn = sum(1 for t, p in pairs if t == label and p != label)
        precision, recall, f1 = prf(tp, fp, fn)
        scores[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    n = len(labels) or 1
    scores["macro avg"] = {
        key: sum(scores[label][key] for label in labels) / n for key in ("precision", "recall", "f1")
    }
    scores["macro avg"]["support"] = len(pairs)
    scores["accuracy"] = sum(1 for t, p in pairs if t == p) / len(pairs) if pairs else 0.0
    return scores


def multiset_counts(expected: Iterable[str], found: Iterable[str]) -> Tuple[int, int, int]:
    """tp, fp, fn between two multisets of values."""
    e, f = Counter(expected), Counter(found)
    tp = sum((e & f).values())
    return tp, sum(f.values()) - tp, sum(e.values()) - tp


def confusion(pairs: Sequence[Tuple[str, str]], labels: Sequence[str]) -> List[List[int]]:
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in pairs:
        matrix[index[t]][index[p]] += 1
    return matrix


def machine() -> Dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "python": platform.python_version(),
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def rasa_version() -> str:
    try:
        import rasa

        return rasa.__version__
    except Exception:  # pragma: no cover
        return "?"


# --------------------------------------------------------------------------- held-out

def load_examples(path: Path) -> List[Tuple[str, str]]:
    from rasa.shared.importers.importer import TrainingDataImporter

    files = [str(f) for f in sorted(path.rglob("*.yml"))] if path.is_dir() else [str(path)]
    data = TrainingDataImporter.load_from_dict(training_data_paths=files).get_nlu_data()
    return [(ex.get("text"), ex.get("intent")) for ex in data.intent_examples]


def _classifier_view(parse: dict) -> str:
    """The intent with the fallback undone (what `rasa test nlu` scores)."""
    name = (parse.get("intent") or {}).get("name")
    if name != FALLBACK:
        return name
    for item in parse.get("intent_ranking") or []:
        if item.get("name") != FALLBACK:
            return item["name"]
    return name


def _quiet() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    try:
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)
    except Exception:  # pragma: no cover - older/newer Rasa
        pass


async def _parse_all(model: Path, texts: List[str]) -> Tuple[List[dict], float, float]:
    from rasa.core.agent import Agent

    _quiet()

    started = time.perf_counter()
    agent = Agent.load(str(model))
    load_seconds = time.perf_counter() - started
    parses = []
    started = time.perf_counter()
    for text in texts:
        parses.append(await agent.parse_message(text))
    return parses, load_seconds, (time.perf_counter() - started) / max(len(texts), 1)


def agent_intents(model: Path) -> List[str]:
    """The intents the model's domain knows (a held-out intent it doesn't know can't be predicted)."""
    import tarfile

    with tarfile.open(model) as archive:
        for member in archive.getmembers():
            if member.name.endswith("domain.yml"):
                domain = yaml.safe_load(archive.extractfile(member).read())
                return [next(iter(i)) if isinstance(i, dict) else i for i in domain.get("intents", [])]
    return []


def evaluate_held_out(model: Path) -> dict:
    examples = load_examples(HELD_OUT)
    training_texts = {text.strip().lower() for text, _ in load_examples(ROOT / "data")}
    leaked = [text for text, _ in examples if text.strip().lower() in training_texts]
    parses, load_seconds, parse_seconds = asyncio.run(_parse_all(model, [t for t, _ in examples]))
    served = [(intent, (p.get("intent") or {}).get("name")) for (_, intent), p in zip(examples, parses)]
    classifier = [(intent, _classifier_view(p)) for (_, intent), p in zip(examples, parses)]
    labels = sorted({intent for _, intent in examples})
    known = set(agent_intents(model))
    per_file = {}
    for file in sorted(HELD_OUT.rglob("*.yml")):
        texts = {t for t, _ in load_examples(file)}
        pairs = [pair for (text, _), pair in zip(examples, served) if text in texts]
        file_labels = sorted({t for t, _ in pairs})
        per_file[str(file.relative_to(ROOT))] = {
            "n": len(pairs), "macro_f1": intent_scores(pairs, file_labels)["macro avg"]["f1"],
            "macro_f1_known": intent_scores([p for p in pairs if p[0] in known], [l for l in file_labels if l in known])["macro avg"]["f1"],
        }
    oos = [p for t, p in served if t == OUT_OF_SCOPE]
    in_scope = [p for t, p in served if t != OUT_OF_SCOPE]
    errors = [
        {"text": text, "intent": intent, "predicted": (p.get("intent") or {}).get("name"),
         "confidence": round((p.get("intent") or {}).get("confidence") or 0.0, 3)}
        for (text, intent), p in zip(examples, parses) if (p.get("intent") or {}).get("name") != intent
    ]
    return {
        "n": len(examples),
        "labels": labels,
        "unknown_intents": sorted(set(labels) - known),
        "served_known": intent_scores([p for p in served if p[0] in known], [l for l in labels if l in known]),
        "per_file": per_file,
        "leaked": leaked,
        "served": intent_scores(served, labels),
        "classifier": intent_scores(classifier, labels),
        "served_pairs": served,
        "oos_recall": sum(1 for p in oos if p in (OUT_OF_SCOPE, FALLBACK)) / len(oos) if oos else None,
        "oos_n": len(oos),
        "in_scope_fallback": sum(1 for p in in_scope if p == FALLBACK) / len(in_scope) if in_scope else 0.0,
        "in_scope_fallback_n": sum(1 for p in in_scope if p == FALLBACK),
        "in_scope_n": len(in_scope),
        "errors": errors,
        "model_load_seconds": load_seconds,
        "parse_ms": parse_seconds * 1000,
    }


def plot_confusion(pairs: Sequence[Tuple[str, str]], labels: Sequence[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = list(labels) + ([FALLBACK] if any(p == FALLBACK for _, p in pairs) else [])
    extra = sorted({p for _, p in pairs} - set(columns))
    columns += extra
    matrix = confusion(pairs, columns)[: len(labels)]
    fig, ax = plt.subplots(figsize=(12, 10))
    ax.imshow([[min(v, 5) for v in row] for row in matrix], cmap="Blues")
    ax.set_xticks(range(len(columns)), columns, rotation=70, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=7,
                        color="white" if value >= 4 else ("red" if i != j else "black"))
    ax.set_xlabel("predicted (as served: FallbackClassifier and SecretGuard applied)")
    ax.set_ylabel("true intent (tests/nlu, held out)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


# --------------------------------------------------------------------------- entities, language

def evaluate_entities(path: Path = ENTITIES_FILE) -> dict:
    from bot.knowledge import load_knowledge
    from bot.matching import find_mentions

    knowledge = load_knowledge()
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    counts = {kind: [0, 0, 0] for kind in ENTITY_TYPES}
    wrong = []
    started = time.perf_counter()
    for row in rows:
        mentions = find_mentions(row["text"], knowledge)
        for kind, expected in row["expected"].items():
            found = [m.value for m in mentions if m.entity == kind]
            tp, fp, fn = multiset_counts(expected, found)
            for i, value in enumerate((tp, fp, fn)):
                counts[kind][i] += value
            if fp or fn:
                wrong.append({"text": row["text"], "type": kind, "expected": expected, "found": found})
    per_ms = (time.perf_counter() - started) * 1000 / max(len(rows), 1)
    per_type = {kind: dict(zip(("precision", "recall", "f1"), prf(*c)), support=c[0] + c[2])
                for kind, c in counts.items()}
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    micro = dict(zip(("precision", "recall", "f1"), prf(*total)), support=total[0] + total[2])
    return {"n": len(rows), "per_type": per_type, "micro": micro, "wrong": wrong, "ms_per_message": per_ms}


def evaluate_language(path: Path = LANGUAGE_FILE) -> dict:
    """`bot.language.identify` (what the NLU writes) on the labelled messages: German, English,
    another language ("other"), and neutral messages on which it must abstain."""
    from bot.language import OTHER, identify, is_confident

    labelled = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = {}
    started = time.perf_counter()
    count = 0
    for code in ("de", "en", OTHER):
        messages = [str(m) for m in labelled.get(code) or []]
        detections = [identify(m) for m in messages]
        count += len(messages)
        decided = [d for d in detections if is_confident(d) or d.code == OTHER]
        right = sum(1 for d in decided if d.code == code)
        result[code] = {"n": len(messages), "decided": len(decided), "right": right,
                        "accuracy_when_confident": right / len(decided) if decided else 0.0,
                        "coverage": len(decided) / len(messages) if messages else 0.0,
                        "accuracy_overall": right / len(messages) if messages else 0.0,
                        "called_other": sum(1 for d in detections if d.code == OTHER)}
    neutral = [str(m) for m in labelled.get(None) or []]
    count += len(neutral)
    abstained = sum(1 for m in neutral if not is_confident(identify(m)) and identify(m).code != OTHER)
    result["neutral"] = {"n": len(neutral), "abstained": abstained,
                         "abstain_rate": abstained / len(neutral) if neutral else 0.0}
    result["ms_per_message"] = (time.perf_counter() - started) * 1000 / max(count, 1)
    total = sum(result[c]["n"] for c in ("de", "en", OTHER)) + len(neutral)
    result["overall"] = (sum(result[c]["right"] for c in ("de", "en", OTHER)) + abstained) / total if total else 0.0
    result["false_other"] = result["de"]["called_other"] + result["en"]["called_other"]
    return result


# --------------------------------------------------------------------------- training, CV

def train(config: Path, out_dir: Path) -> Tuple[Path, float]:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--data", "data", "--domain", "domain.yml", "--config", str(config),
         "--out", str(out_dir), "--fixed-model-name", "variant"],
        cwd=ROOT, env=dict(rasa_env(), RASA_CACHE_DIRECTORY=str(out_dir / "cache")),  # cold: honest time
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return out_dir / "variant.tar.gz", time.monotonic() - started


def cross_validate(config: Path, out: Path, folds: int) -> dict:
    command = [sys.executable, "-m", "rasa", "test", "nlu", "--nlu", "data", "--config", str(config),
               "--cross-validation", "--folds", str(folds), "--out", str(out), "--no-plot"]
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, env=rasa_env(), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    report = json.loads((out / "intent_report.json").read_text())
    per_intent = {name: s for name, s in report.items()
                  if isinstance(s, dict) and "support" in s and name not in {"micro avg", "macro avg", "weighted avg"}}
    return {"macro_f1": report["macro avg"]["f1-score"], "accuracy": report.get("accuracy"),
            "per_intent": per_intent, "seconds": time.monotonic() - started,
            "command": "rasa " + " ".join(shlex.quote(c) for c in command[3:])}


# --------------------------------------------------------------------------- report

def _fmt(x: Optional[float]) -> str:
    return "–" if x is None else f"{x:.3f}"


def render(result: dict) -> str:
    h, m = result["held_out"], result["machine"]
    served, classifier = h["served"], h["classifier"]
    lines = [
        "# NLU evaluation",
        "",
        f"- date: {result['date']}",
        f"- machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}, Rasa {result['rasa']}",
        f"- load average at start / end: {result['load_start']} / {m['load']}",
        f"- command: `{result['command']}`",
        f"- model: `{result['model']}`" + (f" (trained by this run in {result['train_seconds']:.0f} s)"
                                              if result.get("train_seconds") else ""),
        f"- held-out set: `tests/nlu/`, {h['n']} messages, {len(h['labels'])} intents; "
        f"{len(h['leaked'])} of them also in `data/` (should be 0)",
        "",
        "| held-out file | n | macro-F1 as served | macro-F1 on intents the model knows |",
        "|---|---|---|---|",
        *[f"| `{name}` | {v['n']} | {v['macro_f1']:.3f} | {v['macro_f1_known']:.3f} |" for name, v in h["per_file"].items()],
        "",
        *([f"Intents in the held-out set but not in the model's domain (always missed): "
           f"{', '.join(h['unknown_intents'])}; macro-F1 without them (as served): "
           f"{h['served_known']['macro avg']['f1']:.3f}.", ""] if h["unknown_intents"] else []),
        "## Targets",
        "",
        "| what | value | target | |",
        "|---|---|---|---|",
    ]
    checks = [
        ("intent macro-F1, held-out, as served", served["macro avg"]["f1"], ">= 0.95", served["macro avg"]["f1"] >= 0.95),
        ("intent macro-F1, held-out, classifier view (rasa test nlu)", classifier["macro avg"]["f1"], ">= 0.95",
         classifier["macro avg"]["f1"] >= 0.95),
        (f"out-of-scope recall (n={h['oos_n']})", h["oos_recall"], ">= 0.9", (h["oos_recall"] or 0) >= 0.9),
        (f"in-scope sent to nlu_fallback ({h['in_scope_fallback_n']}/{h['in_scope_n']})", h["in_scope_fallback"],
         "<= 0.03", h["in_scope_fallback"] <= 0.03),
    ]
    sig = result.get("signals")
    if sig:
        checks += [
            ("triage macro-F1, blind `tests/triage/heldout.yml`", sig["triage"]["model"]["macro_f1"], ">= 0.85",
             sig["triage"]["model"]["macro_f1"] >= 0.85),
            ("wants_person F1, `tests/signals/heldout.yml`", sig["wants_person"]["signals"]["f1"], "(info)", None),
            ("describes_problem F1, blind triage set", sig["describes_problem"]["triage"]["f1"], "(info)", None),
        ]
    for name, value, target, ok in checks:
        lines.append(f"| {name} | {_fmt(value)} | {target} | {'' if ok is None else 'ok' if ok else '**missed**'} |")
    if result.get("cv"):
        lines.append(f"| intent macro-F1, 5-fold cross-validation on data/ | {_fmt(result['cv']['macro_f1'])} | (info) | |")
    e = result["entities"]
    lines.append(f"| entity F1 (micro, {e['n']} labelled messages) | {_fmt(e['micro']['f1'])} | (info) | |")
    lines.append(f"| language detection, overall accuracy | {_fmt(result['language']['overall'])} | (info) | |")
    lines += [
        "",
        f"Accuracy as served {served['accuracy']:.3f}, classifier view {classifier['accuracy']:.3f}. "
        f"Parse time in-process {h['parse_ms']:.1f} ms/message (model load {h['model_load_seconds']:.1f} s).",
        "",
        "## Per intent, held-out (`tests/nlu/`)",
        "",
        "As served: `nlu_fallback` counts as a miss. Confusion matrix: `reports/confusion.png`.",
        "",
        "| intent | precision | recall | F1 | F1 (classifier view) | n |",
        "|---|---|---|---|---|---|",
    ]
    for label in h["labels"]:
        s, c = served[label], classifier[label]
        lines.append(f"| {label} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {c['f1']:.3f} | {s['support']} |")
    lines.append(f"| **macro avg** | {served['macro avg']['precision']:.3f} | {served['macro avg']['recall']:.3f} | "
                 f"**{served['macro avg']['f1']:.3f}** | **{classifier['macro avg']['f1']:.3f}** | {h['n']} |")
    if h["errors"]:
        lines += ["", "### Held-out misses (as served)", "", "| text | true | predicted | confidence |", "|---|---|---|---|"]
        for err in h["errors"]:
            text = err["text"].replace("|", "\\|")
            lines.append(f"| {text} | {err['intent']} | {err['predicted']} | {err['confidence']} |")
    if result.get("cv"):
        cv = result["cv"]
        lines += ["", "## 5-fold cross-validation on `data/`", "",
                  f"`{cv['command']}` ({cv['seconds']:.0f} s). Folds accumulated; classifier view "
                  "(`rasa test nlu` undoes fallback predictions).", "",
                  f"macro-F1 **{cv['macro_f1']:.3f}**, accuracy {cv['accuracy']:.3f}.", "",
                  "| intent | precision | recall | F1 | n |", "|---|---|---|---|---|"]
        for name, s in sorted(cv["per_intent"].items()):
            lines.append(f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1-score']:.3f} | {s['support']} |")
    lines += ["", "## Entities (`bot.matching.find_mentions`, as `KnowledgeEntityExtractor` runs it)", "",
              f"`tests/data/entities.yml`: {e['n']} labelled messages (collected from tests/test_matching.py, "
              "incl. false-positive traps); a (type, value) pair counts per message, only for the types labelled "
              f"on that message. {e['ms_per_message']:.2f} ms/message.", "",
              "| type | precision | recall | F1 | n |", "|---|---|---|---|---|"]
    for kind, s in e["per_type"].items():
        lines.append(f"| {kind} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |")
    lines.append(f"| **micro** | {e['micro']['precision']:.3f} | {e['micro']['recall']:.3f} | **{e['micro']['f1']:.3f}** | {e['micro']['support']} |")
    for w in e["wrong"]:
        lines.append(f"- miss: {w['text']!r} {w['type']}: expected {w['expected']}, found {w['found']}")
    lang = result["language"]
    lines += ["", "## Language detection (`bot.language.identify`, `tests/data/language.yml`)", "",
              "| label | n | decided | accuracy when decided | accuracy overall |", "|---|---|---|---|---|"]
    for code in ("de", "en", "other"):
        s = lang[code]
        lines.append(f"| {code} | {s['n']} | {s['decided']} ({s['coverage']:.1%}) | {s['accuracy_when_confident']:.3f} | {s['accuracy_overall']:.3f} |")
    s = lang["neutral"]
    lines.append(f"| neutral (must abstain) | {s['n']} | abstained {s['abstained']} | {s['abstain_rate']:.3f} | |")
    lines.append(f"\nOverall (right language incl. `other`, or abstained on a neutral message): **{lang['overall']:.3f}**; "
                 f"German or English messages taken for another language: {lang['false_other']}. "
                 f"{lang['ms_per_message']:.2f} ms/message.")
    if result.get("signals"):
        from scripts import evaluate_signals

        lines += evaluate_signals.render(result["signals"], result["blind"], result["latency"], h["parse_ms"])
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--config", type=Path, help="train this config into a temp dir and evaluate that model")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    command = "python -m scripts.evaluate " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    result = {"date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"), "rasa": rasa_version(),
              "command": command.strip(), "load_start": load_start}
    config = args.config or ROOT / "config.yml"
    with tempfile.TemporaryDirectory(prefix="bolt-eval-") as tmp:
        model = args.model
        if args.config:
            print(f"training {args.config} …", flush=True)
            model, result["train_seconds"] = train(args.config, Path(tmp))
            print(f"  trained in {result['train_seconds']:.0f} s", flush=True)
        result["model"] = (f"{config.name}, trained into a temp dir" if args.config else
                           str(model.relative_to(ROOT)) if model.is_relative_to(ROOT) else str(model))
        print("held-out …", flush=True)
        result["held_out"] = evaluate_held_out(model)
        if not args.skip_cv:
            print(f"{args.folds}-fold cross-validation (trains {args.folds} models) …", flush=True)
            result["cv"] = cross_validate(config, Path(tmp) / "cv", args.folds)
    result["entities"] = evaluate_entities()
    result["language"] = evaluate_language()
    from scripts import evaluate_signals

    print("flags, triage, latency …", flush=True)
    examples = load_examples(HELD_OUT)
    result["signals"] = evaluate_signals.evaluate_signals(examples)
    result["blind"] = evaluate_signals.blind_scores()
    result["latency"] = evaluate_signals.component_latency([text for text, _ in examples])
    result["machine"] = machine()
    args.out.mkdir(parents=True, exist_ok=True)
    h = result["held_out"]
    plot_confusion(h["served_pairs"], h["labels"], args.out / "confusion.png",
                   f"held-out confusion, as served — {result['date']}, macro-F1 {h['served']['macro avg']['f1']:.3f}")
    (args.out / "evaluation.md").write_text(render(result), encoding="utf-8")
    (args.out / "evaluation.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    print(render(result).split("## Per intent")[0])
    print(f"written: {args.out / 'evaluation.md'}, {args.out / 'confusion.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
