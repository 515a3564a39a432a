"""The NLU's output on every sentence the project holds, written once and compared after a change.

A change that only makes the NLU faster must leave what it outputs exactly as it was: the intent,
its ranking (confidences included), the entities, the signals, the triage, the language and
whatever else a component writes into the parse data. This parses every sentence of the NLU
training data (`data/`, without the generated lookup tables), the held-out and blind sets (`tests/nlu/`, `tests/signals/`,
`tests/triage/`, `tests/data/`), the exam cases' messages (`tests/exam/`, `../shared/exam/`) and a
few edge cases (empty, punctuation, a secret, a button payload, a long message) with the model,
in one process, and writes the parse data of each to a JSON file, or compares it with one
written before.

    python -m scripts.nlu_identity --write /tmp/nlu-before.json      # on the old code
    python -m scripts.nlu_identity --compare /tmp/nlu-before.json    # on the new code

`--compare` prints the sentences whose parse data differ (key by key) and exits 1 if any does.
Both print the mean and median ms a sentence: indicative only (the machine is shared; a figure
that counts is a ratio measured in one run, `scripts.nlu_cost`).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Iterator, List, Optional

import yaml

from bot.settings import ROOT

MODEL = ROOT / "models" / "bolt.tar.gz"
SOURCES = [ROOT / "data", ROOT / "tests" / "nlu", ROOT / "tests" / "signals", ROOT / "tests" / "triage",
           ROOT / "tests" / "data", ROOT / "tests" / "exam", ROOT.parent / "shared" / "exam"]
EDGE_CASES = ["", "   ", "???", "🙂", "/request_human", '/open_ticket{"ticket_start":"here"}',
              "mein Hostschlüssel ist 663201 und das Passwort hunter2", "4111 1111 1111 1111",
              "<b>hallo</b>", "x" * 5000, "Telefonnummer Deutschland? " * 60,
              "Bonjour, je voudrais parler à quelqu'un", "ok", "und in Spanien?"]
GENERATED = ROOT / "data" / "lookups"  # written by `make train` (scripts/build_lookups.py), not in git
_TEXT_KEYS = ("text", "say", "user")


def _strings(node: Any, key: Optional[str] = None) -> Iterator[str]:
    """The messages of one YAML document: `text:`/`say:`/`user:` values, Rasa `examples:`
    blocks (entity annotations removed, as Rasa reads them) and lists of plain strings."""
    from bot.nlu_models import _ANNOTATION

    if isinstance(node, dict):
        for k, v in node.items():
            if k == "examples" and isinstance(v, str):
                for line in v.splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        yield _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", line[2:]).strip()
            else:
                yield from _strings(v, str(k))
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, key)
    elif isinstance(node, str) and key in _TEXT_KEYS + ("de", "en", "null", "other"):
        yield node


def sentences() -> List[str]:
    """Every message of `SOURCES` and `EDGE_CASES`, each once, in a stable order."""
    found: List[str] = []
    for source in SOURCES:
        for path in sorted(source.rglob("*.yml")) if source.is_dir() else []:
            if GENERATED in path.parents:
                continue
            try:
                document = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError:
                continue
            found += list(_strings(document))
    return list(dict.fromkeys(found + EDGE_CASES))


async def parse_all(model: Path, texts: List[str]) -> "tuple[list, list]":
    from rasa.core.agent import Agent

    from scripts.evaluate import _quiet

    _quiet()
    agent = Agent.load(str(model))
    await agent.parse_message("warm up")
    parses, timings = [], []
    for text in texts:
        started = time.perf_counter()
        parse = await agent.parse_message(text)
        timings.append((time.perf_counter() - started) * 1000)
        parses.append(json.loads(json.dumps(parse, default=str)))
    return parses, timings


def differences(before: dict, after: dict) -> List[str]:
    """One line per sentence and key whose parse data differ."""
    lines = []
    for text in sorted(set(before) | set(after)):
        old, new = before.get(text), after.get(text)
        if old == new:
            continue
        if old is None or new is None:
            lines.append(f"{text[:80]!r}: only {'after' if old is None else 'before'}")
            continue
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                lines.append(f"{text[:80]!r} [{key}]: {json.dumps(old.get(key))[:200]} -> "
                             f"{json.dumps(new.get(key))[:200]}")
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, metavar="JSON", help="write the parse data of every sentence")
    group.add_argument("--compare", type=Path, metavar="JSON", help="compare with a file --write wrote")
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args(argv)
    texts = sentences()
    parses, timings = asyncio.run(parse_all(args.model, texts))
    found = dict(zip(texts, parses))
    print(f"{len(texts)} sentences, {statistics.fmean(timings):.2f} ms mean, "
          f"{statistics.median(timings):.2f} ms median a parse (indicative)")
    if args.write:
        args.write.write_text(json.dumps(found, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        print(f"written to {args.write}")
        return 0
    before = json.loads(args.compare.read_text(encoding="utf-8"))
    lines = differences(before, found)
    for line in lines:
        print(line)
    changed = len({line.split(" [")[0] for line in lines})
    print(f"{changed} of {len(set(before) | set(found))} sentences differ" if lines else
          f"identical: all {len(found)} sentences")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
