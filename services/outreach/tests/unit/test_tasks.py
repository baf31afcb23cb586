"""Digital outreach tasks: one per cluster, idempotent under redelivery, ads moving between clusters."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from services.outreach.domain import tasks as t
from services.outreach.domain.errors import InvalidDate, InvalidFlag, TaskClosed, UnknownCluster, UnknownCode

AT = datetime(2017, 4, 1, 12, 0, tzinfo=timezone.utc)
A, B = "cl-" + "a" * 16, "cl-" + "b" * 16


def flag(ad="dba/1", cluster=A, priority="medium", score=5.0, version="1.0.0", city="københavn"):
    return t.check_flag(ad, cluster, priority, score, version, city)


def test_the_task_id_is_derived_from_the_cluster():
    assert t.task_id_for(A) == "ot-" + "a" * 16
    for bad in ("cl-123", "ot-" + "a" * 16, None):
        with pytest.raises(UnknownCluster):
            t.task_id_for(bad)


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.sampled_from(list(t.PRIORITY_RANK)), max_size=8))
def test_cluster_priority_is_the_max_over_the_ads(ads):
    expected = max((t.PRIORITY_RANK[p] for p in ads.values()), default=0)
    assert t.PRIORITY_RANK[t.cluster_priority(ads)] == expected


def test_a_first_flag_opens_a_task_with_its_rule_set_version():
    task, left = t.apply_flag(flag(), AT, task=None)
    assert left is None and task.task_id == t.task_id_for(A) and task.state == "open"
    assert (task.priority, task.score, task.ruleset_version, task.cities) == ("medium", 5.0, "1.0.0", ("københavn",))
    assert task.on_default_list


def test_applying_the_same_flag_twice_gives_the_same_state():
    once, _ = t.apply_flag(flag(), AT, task=None)
    twice, _ = t.apply_flag(flag(), AT + timedelta(hours=1), task=once)
    assert twice == once and twice is once  # not even updated_at moves


@given(st.lists(st.tuples(st.sampled_from(["dba/1", "dba/2", "sex/3"]),
                          st.sampled_from(list(t.PRIORITY_RANK))), min_size=1, max_size=12))
def test_redelivering_any_flag_changes_nothing(steps):
    task = None
    for i, (ad, priority) in enumerate(steps):
        task, _ = t.apply_flag(flag(ad=ad, priority=priority), AT + timedelta(minutes=i), task=task)
        again, _ = t.apply_flag(flag(ad=ad, priority=priority), AT + timedelta(minutes=i, seconds=30), task=task)
        assert again == task
    latest = dict(steps)
    assert task.priority == t.cluster_priority(latest) and task.ad_count == len(latest)


def test_the_task_priority_follows_its_ads_current_priorities():
    task, _ = t.apply_flag(flag(ad="dba/1", priority="high", score=12.0), AT, task=None)
    task, _ = t.apply_flag(flag(ad="dba/2", priority="low", score=2.0), AT, task=task)
    assert task.priority == "high" and task.score == 12.0
    task, _ = t.apply_flag(flag(ad="dba/1", priority="low", score=2.5), AT, task=task)
    assert task.priority == "low"
    task, _ = t.apply_flag(flag(ad="dba/1", priority="none", score=0.0), AT, task=task)
    task, _ = t.apply_flag(flag(ad="dba/2", priority="none", score=0.0), AT, task=task)
    assert task.priority == "none" and not task.on_default_list and task.state == "open"


def test_an_ad_moving_to_another_cluster_leaves_its_old_task():
    old, _ = t.apply_flag(flag(ad="dba/1", priority="high"), AT, task=None)
    old, _ = t.apply_flag(flag(ad="dba/2", priority="low"), AT, task=old)
    new, left = t.apply_flag(flag(ad="dba/1", cluster=B, priority="high"), AT, task=None, previous=old)
    assert new.cluster_id == B and new.ad_keys == ("dba/1",) and new.ruleset_version == "1.0.0"
    assert left.ad_keys == ("dba/2",) and left.priority == "low" and left.state == "open"
    # the last ad leaving makes the old task merged; it is off the list
    new, left = t.apply_flag(flag(ad="dba/2", cluster=B), AT, task=new, previous=left)
    assert left.state == "merged" and left.ad_count == 0 and not left.on_default_list
    assert new.ad_keys == ("dba/1", "dba/2")
    # and the move delivered again changes nothing on either side
    again, none_left = t.apply_flag(flag(ad="dba/2", cluster=B), AT, task=new, previous=new)
    assert again == new and none_left is None


def test_a_merged_task_that_gets_an_ad_back_is_open_again_but_a_closed_one_stays_closed():
    task, _ = t.apply_flag(flag(), AT, task=None)
    merged = t.without_ad(task, "dba/1", AT)
    assert merged.state == "merged"
    assert t.with_ad(merged, flag(), AT).state == "open"
    closed = t.close(task, "not_relevant", AT)
    assert t.with_ad(closed, flag(ad="dba/9", priority="high"), AT).state == "closed"


def test_the_opening_rule_set_version_is_kept():
    task, _ = t.apply_flag(flag(version="1.0.0"), AT, task=None)
    task, _ = t.apply_flag(flag(ad="dba/2", version="1.1.0"), AT, task=task)
    assert task.ruleset_version == "1.0.0"


def test_a_flag_for_another_cluster_is_not_applied_to_this_task():
    task, _ = t.apply_flag(flag(), AT, task=None)
    with pytest.raises(UnknownCluster):
        t.with_ad(task, flag(cluster=B), AT)


@pytest.mark.parametrize("args", [("nokey", A, "high", 1.0, "1.0.0"), ("dba/1", A, "urgent", 1.0, "1.0.0"),
                                  ("dba/1", A, "high", -1, "1.0.0"), ("dba/1", A, "high", 1.0, "")])
def test_bad_flags_are_refused(args):
    with pytest.raises(InvalidFlag):
        t.check_flag(*args)


def test_attempts_move_a_task_to_in_progress_and_count_once_per_contact():
    task, _ = t.apply_flag(flag(), AT, task=None)
    tried = t.check_attempt("sms", "no_answer", AT, AT)
    assert not tried.reached and t.check_attempt("call", "conversation_held", AT, AT).reached
    first = t.record_attempt(task, t.Attempt("sms", AT, "no_answer", "con-1", "cmm"), AT)
    assert first.state == "in_progress" and len(first.attempts) == 1
    assert t.record_attempt(first, t.Attempt("sms", AT, "no_answer", "con-1", "cmm"), AT) == first
    closed = t.close(first, "unreachable", AT)
    assert (closed.state, closed.closed_reason) == ("closed", "unreachable")
    with pytest.raises(TaskClosed) as caught:
        t.record_attempt(closed, t.Attempt("sms", AT, "no_answer", "con-2", "cmm"), AT)
    assert caught.value.code == "task_closed"
    with pytest.raises(TaskClosed):
        t.close(closed, "duplicate", AT)


def test_attempts_are_checked():
    for channel, outcome, at, error, field in [
            ("fax", "no_answer", AT, UnknownCode, "channel"), ("visit", "no_answer", AT, UnknownCode, "channel"),
            ("sms", "hung_up", AT, UnknownCode, "outcome"),
            ("sms", "no_answer", AT.replace(tzinfo=None), InvalidDate, "at"),
            ("sms", "no_answer", AT + timedelta(hours=1), InvalidDate, "at"),
            ("sms", "no_answer", datetime(2015, 1, 1, tzinfo=timezone.utc), InvalidDate, "at")]:
        with pytest.raises(error) as caught:
            t.check_attempt(channel, outcome, at, AT)
        assert caught.value.field == field
    assert t.check_attempt("sms", "no_answer", AT + timedelta(minutes=2), AT).at == AT + timedelta(minutes=2)


def test_closing_needs_a_known_reason():
    task, _ = t.apply_flag(flag(), AT, task=None)
    with pytest.raises(UnknownCode) as caught:
        t.close(task, "bored", AT)
    assert caught.value.field == "reason"
