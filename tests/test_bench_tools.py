"""The pure helpers of scripts/evaluate.py and scripts/loadgen.py (no timing, no services)."""
from __future__ import annotations

import pytest

from scripts.evaluate import confusion, intent_scores, multiset_counts, prf
from scripts.loadgen import CONVERSATIONS, percentile, summarize


def test_percentile_matches_linear_interpolation():
    values = [10, 20, 30, 40, 50]
    assert percentile(values, 0) == 10
    assert percentile(values, 50) == 30
    assert percentile(values, 100) == 50
    assert percentile(values, 95) == pytest.approx(48.0)
    assert percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None
    assert percentile([3, 1, 2], 50) == 2  # order does not matter


def test_summarize_reports_milliseconds_and_rate():
    summary = summarize("rest", 20, [0.1, 0.2, 0.3, 0.4], {"timeout": 1}, wall=2.0, conversations=1, empty=0)
    assert summary["messages"] == 4
    assert summary["msg_per_s"] == 2.0
    assert summary["p50_ms"] == 250.0
    assert summary["errors"] == 1 and summary["error_kinds"] == {"timeout": 1}
    empty = summarize("ws", 1, [], {}, wall=0.0)
    assert empty["msg_per_s"] == 0.0 and empty["p95_ms"] is None


def test_prf_and_zero_division():
    assert prf(8, 2, 0) == pytest.approx((0.8, 1.0, 2 * 0.8 / 1.8))
    assert prf(0, 0, 0) == (0.0, 0.0, 0.0)
    assert prf(0, 3, 0) == (0.0, 0.0, 0.0)


def test_intent_scores_count_fallback_as_a_miss_not_a_class():
    pairs = [("greet", "greet"), ("greet", "nlu_fallback"), ("thanks", "thanks"), ("thanks", "greet")]
    scores = intent_scores(pairs, ["greet", "thanks"])
    assert scores["greet"]["precision"] == pytest.approx(0.5)
    assert scores["greet"]["recall"] == pytest.approx(0.5)
    assert scores["thanks"]["precision"] == 1.0 and scores["thanks"]["recall"] == 0.5
    assert "nlu_fallback" not in scores
    assert scores["macro avg"]["f1"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert scores["accuracy"] == 0.5


def test_entity_multisets():
    assert multiset_counts(["MX", "MX"], ["MX"]) == (1, 0, 1)
    assert multiset_counts([], ["AT"]) == (0, 1, 0)
    assert multiset_counts(["AT", "CH"], ["CH", "AT"]) == (2, 0, 0)


def test_confusion_rows_are_true_labels():
    matrix = confusion([("a", "a"), ("a", "b"), ("b", "b")], ["a", "b"])
    assert matrix == [[1, 1], [0, 1]]


def test_conversations_fit_the_widget_burst():
    # the live-agent service allows a burst of 8 messages per connection (handoff/config.py)
    assert all(2 <= len(c) <= 8 for c in CONVERSATIONS)


@pytest.mark.parametrize("limit_users, start, expected", [(200, 120, (180, 202)), (50, 120, (35, 53)), (10**6, 100, (1702, 2000))])
def test_capacity_search_brackets_the_users_a_server_holds(monkeypatch, limit_users, start, expected):
    """`loadgen.capacity` against a fake server that holds `limit_users` users: grows by half,
    shrinks when the first level misses, bisects, and never reports a level that missed."""
    import asyncio

    from scripts import loadgen

    async def fake_run(channel, url, users, duration, max_messages, prefix="", think=0.0):
        result = loadgen.RunResult(channel, users)
        result.latencies = [0.1 if users <= limit_users else 0.9] * 20
        result.wall = 1.0
        return result

    monkeypatch.setattr(loadgen, "run", fake_run)
    found = asyncio.run(loadgen.capacity("ws", "http://x", start=start, most=2000, report=lambda _: None))
    low, high = expected
    assert found["users"] <= limit_users
    assert low <= found["users"] <= high
    assert all(level["held"] == (level["concurrency"] <= limit_users) for level in found["levels"])


def test_conversations_include_the_ticket_question():
    assert sum("web ticket" in text for c in CONVERSATIONS for text in c) == 1
