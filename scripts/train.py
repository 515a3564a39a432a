"""Train the Rasa model only when what it is trained from has changed; build the NLU's own
models (flags and triage, `bot.nlu_models`, under `var/nlu/`) first.

The fingerprint covers the training data, the domain, the pipeline configuration, the knowledge
data (lookup tables are built from it) and the custom components' code. The model is written to
`models/bolt.tar.gz`, its fingerprint beside it. The NLU models name themselves by a digest of
their own inputs, so they are rebuilt exactly when those change.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

from bot.settings import ROOT
from scripts import build_lookups

MODEL = ROOT / "models" / "bolt.tar.gz"
FINGERPRINT = MODEL.with_name("bolt.inputs")
INPUTS = ("config.yml", "domain.yml", "data", "knowledge", "bot/components.py", "bot/matching.py",
          "bot/language.py", "bot/redaction.py", "bot/signals.py", "bot/nlu_models.py", "bot/textmodel.py",
          "bot/triage.py")


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def build_nlu_models() -> None:
    from bot.nlu_models import nlu_models

    started = time.monotonic()
    nlu_models()
    print(f"NLU models (flags, triage) ready in {time.monotonic() - started:.1f} s", flush=True)


def main() -> int:
    build_lookups.main()
    build_nlu_models()
    wanted = fingerprint()
    if MODEL.exists() and FINGERPRINT.exists() and FINGERPRINT.read_text().strip() == wanted:
        print(f"Model is up to date: {MODEL.relative_to(ROOT)}")
        return 0
    print("Training the model (data, domain, config or knowledge changed) …", flush=True)
    started = time.monotonic()
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--data", "data", "--domain", "domain.yml",
         "--config", "config.yml", "--out", str(MODEL.parent), "--fixed-model-name", "bolt"],
        cwd=ROOT, env=env,
    )
    if result.returncode != 0:
        return result.returncode
    FINGERPRINT.write_text(wanted + "\n")
    print(f"Trained in {time.monotonic() - started:.0f} s: {MODEL.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
