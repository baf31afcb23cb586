"""Queue moves and rescoring use cases."""
from __future__ import annotations

import pytest

from services.ad_triage.commands.rulesets import RuleSets
from services.ad_triage.commands.triage import Triage
from services.ad_triage.domain.errors import ConcurrentChange, IllegalTransition

from .conftest import import_lines, lines


@pytest.fixture
def ad_key(store):
    report = import_lines(store, lines(5, seed=21))
    return report["results"][0]["ad_key"]


def test_a_queue_move_with_a_stale_version_is_refused(store, ad_key, monkeypatch):
    triage = Triage(store)
    read = store.queue_of

    def read_then_someone_else_moves(ad_id, session=None):
        queue = read(ad_id, session)
        monkeypatch.setattr(store, "queue_of", read)
        triage.move_item(ad_id, "assigned", "mine", "worker-2", None, None)  # lands between our read and write
        return queue
    monkeypatch.setattr(store, "queue_of", read_then_someone_else_moves)
    with pytest.raises(ConcurrentChange):
        triage.move_item(ad_key, "assigned", "taking it", "worker-1", None, None)
    # (the in-memory store rolls the whole call back, the other move included: it ran inside our transaction)
    assert "worker-1" not in [m["actor"] for m in store.db.ads.find_one({"_id": ad_key})["queue"]["history"]]


def test_a_move_runs_once_per_request_id_and_illegal_moves_are_refused(store, ad_key):
    triage = Triage(store)
    first = triage.move_item(ad_key, "assigned", "look", "worker-1", None, "move-request-1")
    assert triage.move_item(ad_key, "assigned", "look", "worker-1", None, "move-request-1") == first
    assert len(store.db.ads.find_one({"_id": ad_key})["queue"]["history"]) == 1
    with pytest.raises(IllegalTransition):
        triage.move_item(ad_key, "new", "back", "worker-1", None, None)


def test_rescore_twice_changes_nothing_the_second_time(store):
    import_lines(store, lines(150, seed=22))
    published = RuleSets(store).publish("1.1.0", "lead-1", None)
    ads = list(store.db.ads.find())
    outbox = store.db.outbox.count_documents({})
    again = RuleSets(store).rescore(None, "lead-1", None)
    assert (again["changed"], again["flagged"], again["rescored"]) == (0, 0, published["rescored"])
    assert store.db.outbox.count_documents({}) == outbox and list(store.db.ads.find()) == ads
