from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ad_triage.domain.ruleset import ruleset_version
from services.ad_triage.domain.scoring import Score
from services.ad_triage.domain.triage import (
    STATES, TRANSITIONS, IllegalTransition, Move, QueueEntry, QueueItem, is_flagged, merged_queue, move,
    queue_order_key, queue_position,
)

T0 = datetime(2016, 6, 1, 9, 0, tzinfo=timezone.utc)
KEY = "cl-00000000000000a1"


def test_happy_path_records_who_when_and_why():
    item = move(QueueItem(KEY), "assigned", "coordinator-7", T0, "high score", assignee="worker-3")
    item = move(item, "contacted", "worker-3", T0 + timedelta(hours=2), "talked by phone, interpreter used")
    item = move(item, "closed", "worker-3", T0 + timedelta(days=1), "referred to CMM")
    assert item.state == "closed" and item.assignee == "worker-3"
    assert item.history == (
        Move("new", "assigned", "coordinator-7", T0, "high score"),
        Move("assigned", "contacted", "worker-3", T0 + timedelta(hours=2), "talked by phone, interpreter used"),
        Move("contacted", "closed", "worker-3", T0 + timedelta(days=1), "referred to CMM"),
    )


def test_assignee_defaults_to_the_actor():
    assert move(QueueItem(KEY), "assigned", "worker-3", T0, "taking it").assignee == "worker-3"


def test_documented_extra_moves_are_allowed():
    assigned = move(QueueItem(KEY), "assigned", "w", T0, "take")
    assert move(assigned, "closed", "w", T0, "ad removed by platform").state == "closed"
    unreachable = move(assigned, "unreachable", "w", T0, "no answer")
    assert move(unreachable, "assigned", "w", T0 + timedelta(hours=8), "retry in the evening").state == "assigned"


@pytest.mark.parametrize("from_state,to_state", [
    (a, b) for a in STATES for b in STATES if b not in TRANSITIONS[a]
])
def test_illegal_transitions_name_both_states(from_state, to_state):
    with pytest.raises(IllegalTransition) as caught:
        move(QueueItem(KEY, state=from_state), to_state, "w", T0, "why")
    assert (caught.value.from_state, caught.value.to_state) == (from_state, to_state)
    assert f"from {from_state!r} to {to_state!r}" in str(caught.value)


@pytest.mark.parametrize("kwargs,message", [
    ({"reason": "  "}, "a reason is required"),
    ({"actor": ""}, "the actor is missing"),
    ({"at": datetime(2016, 6, 1)}, "timezone offset"),
    ({"to_state": "archived"}, "unknown state"),
])
def test_moves_need_actor_reason_and_aware_time(kwargs, message):
    args = {"to_state": "assigned", "actor": "w", "at": T0, "reason": "take"} | kwargs
    with pytest.raises(IllegalTransition, match=message):
        move(QueueItem(KEY), **args)


def test_time_cannot_run_backwards_and_assignee_only_on_assign():
    item = move(QueueItem(KEY), "assigned", "w", T0, "take")
    with pytest.raises(IllegalTransition, match="earlier than the previous move"):
        move(item, "contacted", "w", T0 - timedelta(minutes=1), "call")
    with pytest.raises(IllegalTransition, match="assignee can only be given when assigning"):
        move(item, "contacted", "w", T0, "call", assignee="x")


@given(st.lists(st.sampled_from(STATES), max_size=12))
def test_any_sequence_of_moves_keeps_history_consistent(targets):
    item = QueueItem(KEY)
    for n, target in enumerate(targets):
        try:
            item = move(item, target, "w", T0 + timedelta(minutes=n), "step")
        except IllegalTransition:
            continue
    states = ["new"] + [m.to_state for m in item.history]
    assert states[-1] == item.state
    assert all(m.to_state in TRANSITIONS[m.from_state] for m in item.history)
    assert all(a.to_state == b.from_state for a, b in zip(item.history, item.history[1:]))


def entry(n: str, score: int, hours: int, size: int) -> QueueEntry:
    return QueueEntry(f"cl-{n}", score, T0 + timedelta(hours=hours), size)


def test_queue_order_is_score_then_recency_then_cluster_size_then_key():
    entries = [entry("e", 3000, 0, 1), entry("d", 3000, 0, 5), entry("c", 3000, 5, 1), entry("a", 6000, 0, 1),
               entry("b", 3000, 0, 5)]
    assert [e.cluster_id for e in sorted(entries, key=queue_order_key)] == ["cl-a", "cl-c", "cl-b", "cl-d", "cl-e"]


@given(st.lists(st.tuples(st.integers(0, 50_000), st.integers(0, 10 ** 6), st.integers(1, 10 ** 5),
                          st.integers(0, 10 ** 6)), min_size=2, max_size=30, unique_by=lambda t: t[3]))
def test_the_read_model_position_sorts_as_the_queue_order(rows):
    entries = [QueueEntry(f"cl-{n:016x}", score, T0 + timedelta(seconds=secs), size) for score, secs, size, n in rows]
    assert sorted(entries, key=queue_position) == sorted(entries, key=queue_order_key)


def test_merged_items_keep_the_state_of_the_one_worked_on_last_and_every_move():
    worked = move(QueueItem("cl-a"), "assigned", "worker-3", T0 + timedelta(hours=1), "take")
    earlier = move(move(QueueItem("cl-b"), "assigned", "worker-4", T0, "take"), "unreachable", "worker-4",
                   T0 + timedelta(minutes=30), "phone off")
    joined = merged_queue(earlier, worked)
    assert (joined.state, joined.assignee) == ("assigned", "worker-3")
    assert [m.at for m in joined.history] == sorted(m.at for m in worked.history + earlier.history)
    assert merged_queue(QueueItem("cl-c"), None) == QueueItem("cl-c")


def test_flagging_follows_the_rule_set_flag_level():
    ruleset = ruleset_version()
    flagged = {p: is_flagged(Score(0, p, "1.0.0", ()), ruleset) for p in ("high", "medium", "low", "none")}
    assert flagged == {"high": True, "medium": True, "low": False, "none": False}
    with pytest.raises(ValueError, match="computed with rule set 1.1.0, not 1.0.0"):
        is_flagged(Score(0, "high", "1.1.0", ()), ruleset)
