"""Queue moves and rescoring use cases."""
from __future__ import annotations

import pytest

from services.ad_triage.commands.rulesets import RuleSets
from services.ad_triage.commands.triage import Triage
from services.ad_triage.domain.errors import ConcurrentChange, IllegalTransition

from services.ad_triage.domain.events import FLAGGED
from services.ad_triage.storage import AdTriageStore
from tests.support.memory_store import make_store

from .conftest import import_lines, lines


@pytest.fixture
def cluster(store):
    import_lines(store, lines(40, seed=21))
    return store.db.queue_any_any.find_one({})["cluster_id"]


def history(store, cluster_id: str) -> list[dict]:
    return store.db.clusters.find_one({"_id": cluster_id})["queue"]["history"]


def test_a_queue_move_with_a_stale_version_is_refused(store, cluster):
    triage = Triage(store)
    seen = store.db.clusters.find_one({"_id": cluster})["queue"]["version"]
    triage.move_item(cluster, "assigned", "mine", "worker-2", None, None)  # lands after we read the item
    with pytest.raises(ConcurrentChange):
        triage.move_item(cluster, "assigned", "taking it", "worker-1", None, None, expected_version=seen)
    assert [m["actor"] for m in history(store, cluster)] == ["worker-2"]


def test_a_move_runs_once_per_request_id_and_illegal_moves_are_refused(store, cluster):
    triage = Triage(store)
    first = triage.move_item(cluster, "assigned", "look", "worker-1", None, "move-request-1")
    assert triage.move_item(cluster, "assigned", "look", "worker-1", None, "move-request-1") == first
    assert len(history(store, cluster)) == 1
    with pytest.raises(IllegalTransition):
        triage.move_item(cluster, "new", "back", "worker-1", None, None)


def test_a_move_moves_the_cluster_between_the_queue_read_models(store, cluster):
    priority = store.db.clusters.find_one({"_id": cluster})["score"]["priority"]
    listed = lambda view: [r["cluster_id"] for r in store.db[view].find({})]  # noqa: E731
    assert cluster in listed("queue_new_any") and cluster in listed(f"queue_new_{priority}")
    Triage(store).move_item(cluster, "assigned", "look", "worker-1", None, None)
    assert cluster not in listed("queue_new_any") and cluster not in listed(f"queue_new_{priority}")
    assert cluster in listed("queue_assigned_any") and cluster in listed(f"queue_assigned_{priority}")
    assert listed("queue_any_any").count(cluster) == 1


def test_rescore_twice_changes_nothing_the_second_time(store):
    import_lines(store, lines(150, seed=22))
    published = RuleSets(store).publish("1.1.0", "lead-1", None)
    assert published["done"] and published["rescored"] == 150
    ads, clusters = list(store.db.ads.find()), list(store.db.clusters.find({}, {"updated_at": 0}))
    outbox = store.db.outbox.count_documents({})
    again = RuleSets(store).rescore(None, "lead-1", None)
    assert (again["changed"], again["flagged"], again["rescored"]) == (0, 0, published["rescored"])
    assert store.db.outbox.count_documents({}) == outbox and list(store.db.ads.find()) == ads
    assert list(store.db.clusters.find({}, {"updated_at": 0})) == clusters


def test_a_rescore_cut_short_is_resumed_where_it_stopped(store, monkeypatch):
    from services.ad_triage.commands import rulesets
    batch = lines(150, seed=23)
    clean = make_store(AdTriageStore, "ad_triage")
    for target in (store, clean):
        import_lines(target, batch)
    expected = RuleSets(clean).publish("1.0.0", "lead-1", None)
    monkeypatch.setattr(rulesets, "CHUNK", 4)
    real, calls = RuleSets._rescore_clusters, []

    def crash_on_the_second_chunk(self, session, docs, ruleset):
        calls.append(len(docs))
        if len(calls) == 2:
            raise RuntimeError("injected: the process dies mid-rescore")
        return real(self, session, docs, ruleset)
    monkeypatch.setattr(RuleSets, "_rescore_clusters", crash_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        RuleSets(store).publish("1.0.0", "lead-1", None)
    assert RuleSets(store).progress()["phase"] == "clusters" and not RuleSets(store).progress()["done"]
    resumed = RuleSets(store).resume()  # what the next instance's timer does
    assert resumed["phase"] == "done" and RuleSets(store).progress()["done"]
    assert RuleSets(store).report(resumed) == {**expected, "done": True}
    scores = lambda s: {d["_id"]: d["score"] for d in s.db.clusters.find({})}  # noqa: E731
    assert scores(store) == scores(clean)
    assert {d["score"]["ruleset_version"] for d in store.db.ads.find({})} == {"1.0.0"}
    flagged = lambda s: sorted(d["envelope"]["subject"] for d in s.db.outbox.find({})  # noqa: E731
                               if d["envelope"]["type"] == FLAGGED)
    assert flagged(store) == flagged(clean)


def test_an_ad_the_pass_steps_over_is_rescored_by_the_sweep(store, monkeypatch):
    import_lines(store, lines(60, seed=24))
    real = store.ids_at
    dropped = []

    def stepping_over_one(collection, position, limit):  # as when an ad before the position is deleted meanwhile
        ids = real(collection, position, limit)
        if collection == "ads" and position == 0:
            dropped.append(ids.pop(3))
        return ids
    monkeypatch.setattr(store, "ids_at", stepping_over_one)
    report = RuleSets(store).publish("1.0.0", "lead-1", None)
    assert dropped and report["done"] and report["rescored"] == 60
    assert {d["score"]["ruleset_version"] for d in store.db.ads.find({})} == {"1.0.0"}
    assert {d["score"]["ruleset_version"] for d in store.db.clusters.find({}) if d["score"]} == {"1.0.0"}


def test_a_timer_leaves_a_rescore_another_instance_holds_and_takes_over_one_left_behind(store):
    from datetime import timedelta
    from kit.storage import now
    import_lines(store, lines(30, seed=25))
    store.db.config.update_one({"_id": "ruleset"}, {"$set": {"version": "1.0.0"}}, upsert=True)
    held = {"version": "1.0.0", "phase": "ads", "position": 0, "actor": "lead-1", "rescored": 0, "changed": 0,
            "flagged": 0, "run": "r-1", "owner": "elsewhere:1", "lease_until": now() + timedelta(seconds=50)}
    store.db.config.replace_one({"_id": "rescore"}, {"_id": "rescore", **held}, upsert=True)
    assert RuleSets(store).resume() is None and RuleSets(store).progress()["phase"] == "ads"
    store.db.config.update_one({"_id": "rescore"}, {"$set": {"lease_until": now() - timedelta(seconds=1)}})
    assert RuleSets(store).resume()["phase"] == "done"
    progress = RuleSets(store).progress()
    assert (progress["phase"], progress["rescored"], progress["done"]) == ("done", 30, True)


def test_the_timer_leaves_alone_a_rescore_its_own_process_is_running(store, monkeypatch):
    from services.ad_triage.commands import rulesets
    import_lines(store, lines(20, seed=26))
    seen = []
    real = RuleSets._chunk

    def chunk_then_timer(self, session, expected, ids):
        seen.append(RuleSets(store).resume())  # the timer fires while the publishing call runs
        return real(self, session, expected, ids)
    monkeypatch.setattr(rulesets, "CHUNK", 5)
    monkeypatch.setattr(RuleSets, "_chunk", chunk_then_timer)
    report = RuleSets(store).publish("1.0.0", "lead-1", None)
    assert report["done"] and report["rescored"] == 20
    assert seen and all(answer is None for answer in seen)
