"""Everything the bot says, in German and English, from `bot/messages/*.yml`.

Each file maps a message key to its texts: ``key: {de: "...", en: "..."}``; a text may hold
``{placeholders}`` filled by `render`. Keys are unique across files (one feature per file), so a
sentence is found by its key alone.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

MESSAGES_DIR = Path(__file__).resolve().parent / "messages"
LANGUAGES = ("de", "en")


class MessageCatalogError(ValueError):
    """A message file is malformed, or a key is missing or defined twice."""


@lru_cache(maxsize=4)
def load_catalog(directory: Path = MESSAGES_DIR) -> Mapping[str, Mapping[str, str]]:
    """Read and check every message file of `directory` (cached)."""
    catalog: dict[str, dict[str, str]] = {}
    origin: dict[str, str] = {}
    for path in sorted(directory.glob("*.yml")):
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(entries, dict):
            raise MessageCatalogError(f"{path.name}: expected a mapping of message keys")
        for key, texts in entries.items():
            if key in catalog:
                raise MessageCatalogError(f"{path.name}: '{key}' is already defined in {origin[key]}")
            if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
                raise MessageCatalogError(f"{path.name}: '{key}' needs exactly the languages {LANGUAGES}")
            catalog[key] = {lang: str(texts[lang]).strip() for lang in LANGUAGES}
            origin[key] = path.name
    return catalog


def render(key: str, lang: str, **values: Any) -> str:
    """The text of `key` in `lang` (German for an unknown language), placeholders filled."""
    catalog = load_catalog()
    try:
        texts = catalog[key]
    except KeyError:
        raise MessageCatalogError(f"no message '{key}'") from None
    template = texts.get(lang) or texts["de"]
    return template.format(**values) if values else template


def with_other_language_note(text: str) -> str:
    """`text` after the bilingual note that the bot speaks German and English: the first reply
    to a message in neither language (language code "other"), whichever process renders it."""
    return f"{render('other_language', 'de')}\n\n{text}"
