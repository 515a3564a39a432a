"""System messages of the live-agent service, in the user's language (German by default)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEXTS_FILE = Path(__file__).resolve().parent / "texts.yml"
LANGUAGES = ("de", "en")


@lru_cache(maxsize=1)
def _catalog() -> dict[str, dict[str, str]]:
    return yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))


def language_of(code: str | None) -> str:
    return code if code in LANGUAGES else "de"


def system_text(key: str, language: str | None, **values: Any) -> str:
    texts = _catalog()[key]
    return texts[language_of(language)].format(**values)
