"""The rules (data/rules/) predict every step of the test stories (tests/stories/), with the
QueuedRelayPolicy (bot/policies.py) ahead of them as in config.yml (it outranks RulePolicy).

A RulePolicy alone, trained in memory on the rules in a second: catches an incomplete or
contradicting rule long before `make train`, and checks the story paths without a model.
`make test-stories` still runs the full model (NLU included) over the same stories.

No action runs here, so a form cannot reject a message that is no answer; as `rasa test`
does, a predicted form that the story does not expect counts as rejected and the rules are
asked again (the unhappy path: a cancel, a question, a request for a person).
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from bot.settings import ROOT

STORIES = sorted((ROOT / "tests" / "stories").glob("*.yml"))


@pytest.fixture(scope="module")
def rule_policy_and_domain(tmp_path_factory):
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.shared.utils.io import read_config_file

    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(ROOT / "domain.yml"), training_data_paths=[str(ROOT / "data")],
        config_path=str(ROOT / "config.yml"),
    )
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    config = next(p for p in read_config_file(ROOT / "config.yml")["policies"] if p["name"] == "RulePolicy")
    policy = RulePolicy.create(
        {**RulePolicy.get_default_config(), **{k: v for k, v in config.items() if k != "name"}},
        LocalModelStorage(Path(tmp_path_factory.mktemp("rules"))), Resource("rules"),
        ExecutionContext(GraphSchema({}), "rules"),
    )
    policy.train(trackers, domain)  # raises InvalidRule for incomplete or contradicting rules
    return (relay_policy(tmp_path_factory), policy), domain


def relay_policy(tmp_path_factory):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.policies import QueuedRelayPolicy

    return QueuedRelayPolicy.create(QueuedRelayPolicy.get_default_config(),
                                    LocalModelStorage(Path(tmp_path_factory.mktemp("relay"))), Resource("relay"),
                                    ExecutionContext(GraphSchema({}), "relay"))


def _stories(path: Path, domain):
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    return YAMLStoryReader(domain).read_from_file(str(path))


@pytest.mark.parametrize("path", STORIES, ids=lambda p: p.name)
def test_rules_predict_every_story_step(path, rule_policy_and_domain):
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
    from rasa.shared.core.trackers import DialogueStateTracker

    policy, domain = rule_policy_and_domain
    wrong = []
    for story in _stories(path, domain):
        tracker = DialogueStateTracker.from_events(story.block_name, [], copy.deepcopy(domain.slots))
        for event in story.explicit_events(domain):
            if isinstance(event, ActionExecuted) and tracker.events:
                predicted = _predict(policy, tracker, domain)
                if (predicted != event.action_name and predicted == tracker.active_loop_name
                        and predicted in domain.form_names):
                    tracker.update(ActionExecutionRejected(predicted), domain)
                    predicted = _predict(policy, tracker, domain)
                if predicted != event.action_name:
                    wrong.append(f"{story.block_name}: expected {event.action_name}, rules say {predicted}")
                    break
            tracker.update(event, domain)
    assert wrong == []


def _predict(policies, tracker, domain) -> str:
    """The first policy's prediction that predicts anything (the relay's, else the rules')."""
    for policy in policies:
        prediction = policy.predict_action_probabilities(tracker, domain)
        probabilities = prediction.probabilities
        if max(probabilities) > 0 or policy is policies[-1]:
            for event in prediction.events:  # e.g. LoopInterrupted when returning to a form
                tracker.update(event, domain)
            best = max(range(len(probabilities)), key=probabilities.__getitem__)
            return domain.action_names_or_texts[best]
    raise AssertionError("no policy")
