"""Counting rules run against the real store class on an in-memory database: milliseconds, no server."""
import pytest

from services.evaluation.commands.counting import CountingCommands
from services.evaluation.domain.errors import UnsupportedEvent
from services.evaluation.queries import EvaluationQueries
from services.evaluation.storage import EvaluationStore
from tests.support.events import submitted
from tests.support.memory_store import make_store


@pytest.fixture
def store():
    return make_store(EvaluationStore, "evaluation")


def counts(store, metric="applications_submitted"):
    return {row["initiative"]: row["count"] for row in EvaluationQueries(store).activity_counts()[metric]}


def test_an_event_counts_once_however_often_it_is_delivered(store):
    event = submitted(initiative=2)
    commands = CountingCommands(store)
    assert [commands.count(event) for _ in range(3)] == [True, False, False]
    assert counts(store) == {1: 0, 2: 1, 3: 0, 4: 0}


def test_distinct_events_each_count(store):
    for initiative in (1, 1, 3):
        CountingCommands(store).count(submitted(initiative=initiative))
    assert counts(store) == {1: 2, 2: 0, 3: 1, 4: 0}


def test_an_uncountable_event_changes_nothing(store):
    event = submitted()
    event["data"]["initiative"] = 7
    with pytest.raises(UnsupportedEvent):
        CountingCommands(store).count(event)
    assert counts(store) == {1: 0, 2: 0, 3: 0, 4: 0}
    assert EvaluationQueries(store).activity_counts(initiative=None)  # the query still answers


def test_counts_can_be_read_for_one_initiative(store):
    CountingCommands(store).count(submitted(initiative=4))
    answer = EvaluationQueries(store).activity_counts(initiative=4)
    assert answer["applications_submitted"] == [{"initiative": 4, "count": 1}]
    assert answer["ads_flagged"] == [{"initiative": 4, "count": 0}]
