"""What the scripts and the tests need to run the project's own processes the way `make` does."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

ROOT = Path(__file__).resolve().parent.parent


def rasa_env(**extra: str) -> Dict[str, str]:
    """The environment for a `rasa` subprocess: no telemetry (there is no internet), the
    project's modules importable."""
    return dict(os.environ, RASA_TELEMETRY_ENABLED="false", PYTHONPATH=str(ROOT), **extra)


def prepare_database(database_url: str, python: str = sys.executable) -> None:
    """Migrate and seed a database exactly as `make db` does."""
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    for command in (["bot.accounts.cli", "migrate"], ["bot.accounts.cli", "seed"],
                    ["handoff", "migrate"], ["handoff", "seed"]):
        subprocess.run([python, "-m", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
