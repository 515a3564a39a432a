"""Per-message NLU time of the committed pipeline against the same pipeline without the
`SignalExtractor` (signals + triage), both trained from the same data, parsed in one process,
interleaved message by message so the machine's load hits both alike.

    python -m scripts.nlu_latency          # trains the variant into a temp dir (~3 min), then parses

Prints the median and mean ms/message of each and their ratio (no pass/fail: a measurement).
"""
from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.settings import ROOT
from scripts.evaluate import HELD_OUT, MODEL, _quiet, load_examples, train


async def _timings(models: dict[str, Path], texts: list[str], rounds: int) -> dict[str, list[float]]:
    from rasa.core.agent import Agent

    _quiet()
    agents = {name: Agent.load(str(path)) for name, path in models.items()}
    for agent in agents.values():
        await agent.parse_message("warm up")
    found: dict[str, list[float]] = {name: [] for name in agents}
    for _ in range(rounds):
        for text in texts:
            for name, agent in agents.items():
                started = time.perf_counter()
                await agent.parse_message(text)
                found[name].append((time.perf_counter() - started) * 1000)
    return found


def main() -> int:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    texts = [text for text, _ in load_examples(HELD_OUT)]
    variant = "\n".join(line for line in (ROOT / "config.yml").read_text(encoding="utf-8").splitlines()
                        if "bot.components.SignalExtractor" not in line)
    with tempfile.TemporaryDirectory(prefix="bolt-latency-") as tmp:
        config = Path(tmp) / "without-signals.yml"
        config.write_text(variant + "\n", encoding="utf-8")
        print("training the pipeline without SignalExtractor …", flush=True)
        baseline, _ = train(config, Path(tmp))
        found = asyncio.run(_timings({"without SignalExtractor": baseline, "committed (config.yml)": MODEL}, texts, 2))
    print(f"load average at start {load}, end {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{len(texts)} held-out messages x 2, interleaved")
    for name, values in found.items():
        print(f"  {name:<26} median {statistics.median(values):6.2f} ms  mean {statistics.fmean(values):6.2f} ms")
    a, b = (statistics.median(v) for v in found.values())
    print(f"  ratio committed / without: {b / a:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
