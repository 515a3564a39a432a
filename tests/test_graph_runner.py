"""The prediction graph without dask's scheduler (bot/graph_runner.py): the same parse data for
messages of every kind and the same predictions at every step of long conversations as dask's
run, with the trained model. Fails when a Rasa or dask upgrade changes what the patch relies on
(the runner's attributes, the recorded order)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from bot import graph_runner

ROOT = Path(__file__).resolve().parents[1]
MESSAGES = [
    "Hallo", "Wie lautet die Support-Telefonnummer in der Schweiz?", "und in Österreich?",
    "What does the Standard plan include?", "how do I submit a web ticket?", "Ich will einen Mitarbeiter",
    "Alles ist down, niemand kommt ins Meeting, ich brauche sofort jemanden", "mein Passwort ist hunter2",
    "", "???", "/request_human", "Bonjour, je voudrais parler à quelqu'un", "x" * 3000, "danke!",
]


def test_installed_by_the_components_module():
    import bot.components  # noqa: F401

    assert getattr(DaskGraphRunner.run, "_bolt_sequential", False)


async def _parses(agent, texts: List[str]) -> List[str]:
    return [json.dumps(await agent.parse_message(text), sort_keys=True, default=str) for text in texts]


async def test_parse_data_equal_dask_s(agent, monkeypatch):
    await agent.parse_message("first run records the order")
    ours = await _parses(agent, MESSAGES)
    assert agent.processor.graph_runner.__dict__.get(graph_runner._PLANS), "the replay was not used"
    monkeypatch.setattr(DaskGraphRunner, "run", graph_runner._DASK_RUN)
    assert await _parses(agent, MESSAGES) == ours


def _story_trackers(agent) -> List[list]:
    from rasa.core.test import _create_data_generator

    trackers = _create_data_generator(str(ROOT / "tests" / "stories"), agent).generate_story_trackers()
    assert len(trackers) >= 20, "expected the test stories"
    return [list(tracker.events) for tracker in trackers]


def _prediction(processor, tracker: DialogueStateTracker) -> tuple:
    p = processor._predict_next_with_tracker(tracker.copy())
    return (p.max_confidence_index, p.max_confidence, p.policy_name, p.events, p.is_end_to_end_prediction,
            p.is_no_user_prediction, p.hide_rule_turn, p.action_metadata, list(p.probabilities))


def test_predictions_equal_dask_s_at_every_step(agent, monkeypatch):
    processor = agent.processor
    events = [event for story in _story_trackers(agent) for event in story]  # one long conversation
    steps = [i for i, event in enumerate(events) if isinstance(event, ActionExecuted)]
    trackers = []
    for step in steps[::3]:
        tracker = DialogueStateTracker("graph-runner", agent.domain.slots)
        for event in events[:step]:
            tracker.update(event)
        trackers.append(tracker)
    ours = [_prediction(processor, tracker) for tracker in trackers]
    monkeypatch.setattr(DaskGraphRunner, "run", graph_runner._DASK_RUN)
    assert [_prediction(processor, tracker) for tracker in trackers] == ours
    assert len(ours) > 30


async def test_a_runner_with_hooks_keeps_dask(agent, monkeypatch):
    class Hook:
        calls = 0

        def on_before_node(self, **kwargs):
            return {}

        def on_after_node(self, **kwargs):
            Hook.calls += 1

    runner = agent.processor.graph_runner
    plans = runner.__dict__.pop(graph_runner._PLANS, None)
    node = next(iter(runner._instantiated_nodes.values()))
    monkeypatch.setattr(node, "_hooks", [Hook()])
    try:
        await agent.parse_message("hallo")
        assert graph_runner._PLANS not in runner.__dict__
    finally:
        if plans is not None:
            runner.__dict__[graph_runner._PLANS] = plans
