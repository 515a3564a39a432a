"""Held-out NLU evaluation that fails the build below the quality bar.

Runs `rasa test nlu` on `tests/nlu/` (sentences never used for training) and prints per-intent
precision, recall and F1. Bar: macro F1 ≥ 0.90 and every intent's F1 ≥ 0.75. The held-out set has
15-25 sentences an intent, so one miss moves an intent's F1 by about 0.03; 0.75 tolerates a few
misses in one intent while catching an intent the model has really lost. The release target
(macro F1 ≥ 0.95, see `make evaluate`) is measured, not gated, so a slightly noisy run does not
block unrelated work.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from bot.settings import ROOT

MACRO_F1_MIN = 0.90
INTENT_F1_MIN = 0.75
OUT = ROOT / "results" / "nlu"


def main() -> int:
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, "-m", "rasa", "test", "nlu", "--nlu", "tests/nlu", "--model",
         "models/bolt.tar.gz", "--out", str(OUT), "--no-plot"],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )
    report = json.loads((OUT / "intent_report.json").read_text())
    intents = {name: scores for name, scores in report.items() if isinstance(scores, dict) and "support" in scores
               and name not in {"micro avg", "macro avg", "weighted avg"}}
    print(f"{'intent':<20} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}")
    for name, scores in sorted(intents.items()):
        print(f"{name:<20} {scores['precision']:>9.3f} {scores['recall']:>7.3f} {scores['f1-score']:>6.3f} {scores['support']:>4}")
    macro = report["macro avg"]["f1-score"]
    print(f"macro F1 {macro:.3f} (bar {MACRO_F1_MIN}), accuracy {report.get('accuracy', 0):.3f}")
    weak = [name for name, scores in intents.items() if scores["f1-score"] < INTENT_F1_MIN]
    if macro < MACRO_F1_MIN or weak:
        print(f"NLU below the bar: macro F1 {macro:.3f}; intents under {INTENT_F1_MIN}: {weak}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
