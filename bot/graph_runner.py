"""Rasa's prediction graph run node after node, in dask's order, without dask's bookkeeping.

Rasa 3.6 runs the model's graph (the NLU pipeline of a message, the policies of each
prediction: two to four runs a message) with `dask.get`, dask's synchronous scheduler. For
graphs of a dozen nodes that execute one after the other anyway, dask's work around them
(building the task graph, culling it, ordering it, its ready/waiting/finished state, callbacks)
cost 15 % of the Rasa process's CPU under the closed-loop benchmark, more than the intent
classifier (docs/benchmarks.md); so did `GraphSchema.minimal_graph_schema`, recomputed every run
by an uncached recursion.

`install()` (called from `bot.components`, like `bot.dialogue_window.install`) replaces
`DaskGraphRunner.run` for runners without hooks (the prediction graph; training runs with
hooks and keeps dask): the first run of a set of targets and input names runs with dask itself
and records the order in which dask executed the nodes; later runs execute the nodes in that
order, handing each node the outputs of the nodes it needs exactly as dask does (a name that is
no node nor input is passed as the name). Same nodes, same order, same arguments: the same
outputs (`tests/test_graph_runner.py`, `scripts/nlu_identity.py`).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

import dask
from dask.callbacks import Callback
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

_PLANS = "_bolt_plans"  # on a runner: {(targets, input names): [(node name, needs), ...]}
_DASK_RUN = DaskGraphRunner.run

Plan = List[Tuple[Text, Tuple[Text, ...]]]


def _recorded_run(runner: DaskGraphRunner, inputs: Optional[Dict[Text, Any]],
                  targets: List[Text]) -> Tuple[Dict[Text, Any], Plan]:
    """dask's own run, and the nodes it executed in their order."""
    minimal = runner._graph_schema.minimal_graph_schema(targets)
    run_graph = runner._build_dask_graph(minimal)
    if inputs:
        runner._add_inputs_to_graph(inputs, run_graph)
    executed: List[Text] = []
    try:
        with Callback(pretask=lambda key, dsk, state: executed.append(key)):
            result = dict(dask.get(run_graph, targets))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    plan = [(name, tuple(minimal.nodes[name].needs.values())) for name in executed]
    return result, plan


def run(self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None,
        targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
    """`DaskGraphRunner.run`, replayed in dask's recorded order (see the module docstring)."""
    nodes = self._instantiated_nodes
    if any(node._hooks for node in nodes.values()):
        return _DASK_RUN(self, inputs, targets)
    run_targets = targets if targets else self._graph_schema.target_names
    key = (tuple(run_targets), tuple(inputs or ()))
    plans: Dict[Any, Plan] = self.__dict__.setdefault(_PLANS, {})
    plan = plans.get(key)
    if plan is None:
        result, plans[key] = _recorded_run(self, inputs, run_targets)
        return result
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and any(name == n or value == n for n, _ in plan):
            return _DASK_RUN(self, inputs, targets)  # dask's clash check and its error
    done: Dict[Text, Any] = {name: (name, value) for name, value in (inputs or {}).items()}
    try:
        for name, needs in plan:
            done[name] = nodes[name](*(done.get(need, need) for need in needs))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(done[target] for target in run_targets)


run._bolt_sequential = True  # type: ignore[attr-defined]


def install() -> None:
    """Replace `DaskGraphRunner.run` (idempotent)."""
    if not getattr(DaskGraphRunner.run, "_bolt_sequential", False):
        DaskGraphRunner.run = run  # type: ignore[method-assign]
