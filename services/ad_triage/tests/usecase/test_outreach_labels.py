"""Outreach outcomes as labels, against the real AdTriageStore on an in-memory database: each event has one effect,
venue contacts are passed over, and the per-version figures count flagged, reached and identification-talk
clusters and attempts."""
from __future__ import annotations

import copy

import pytest

from services.ad_triage.commands.labels import CONSUMER, OutreachLabels
from services.ad_triage.commands.rulesets import RuleSets
from services.ad_triage.domain.labels import UnknownOutcome
from services.ad_triage.queries import TriageQueries
from services.ad_triage.storage import AdTriageStore
from services.ad_triage.tests.outreach_events import cluster_id, contact_made, talk_held
from services.ad_triage.tests.usecase.conftest import import_lines, lines
from tests.support.memory_store import make_store


def figures(store) -> dict[str, dict]:
    answer = TriageQueries(store).outcomes()
    assert [v["ruleset_version"] for v in answer["versions"]] == sorted(v["ruleset_version"]
                                                                          for v in answer["versions"])
    return {v.pop("ruleset_version"): v for v in copy.deepcopy(answer["versions"])}


def row(flagged, reached=0, talks=0, attempts=0) -> dict:
    return {"flagged_clusters": flagged, "reached_clusters": reached, "identification_talk_clusters": talks,
            "attempts": attempts}


def flagged_by_ads(store) -> dict[str, set[str]]:
    """The oracle: version -> the clusters the ads named by flagged events are in now, read event by event (a flag
    follows its ad into the cluster it was merged into)."""
    cluster_of = {d["_id"]: d["cluster_id"] for d in store.db.ads.find({}, {"cluster_id": 1})}
    found: dict[str, set[str]] = {}
    for row in store.db.outbox.find({}):
        if row["envelope"]["type"] == "ad_triage.ad.flagged":
            data = row["envelope"]["data"]
            found.setdefault(data["rulesetVersion"], set()).add(cluster_of[data["adKey"]])
    return found


@pytest.fixture
def store():
    return make_store(AdTriageStore, "ad_triage")


@pytest.fixture
def two_versions(monkeypatch):
    """Ads scored with 1.0.0, then 1.1.0 published: some clusters flagged under 1.0.0, others under 1.1.0 only."""
    monkeypatch.setenv("AD_TRIAGE_RULESET_VERSION", "1.0.0")
    store = make_store(AdTriageStore, "ad_triage")
    import_lines(store, lines(120, seed=3))
    RuleSets(store).publish("1.1.0", "lead-1", None)
    flagged = flagged_by_ads(store)
    assert flagged["1.0.0"] and flagged["1.1.0"] - flagged["1.0.0"]
    return store, flagged


def test_a_label_counts_once_when_the_same_event_arrives_twice(store):
    cluster = cluster_id()
    event = contact_made(cluster, "conversation_held")
    labels = OutreachLabels(store)
    first, again = labels.record(event), labels.record(copy.deepcopy(event))
    assert first == {"labelled": True, "label_id": f"{cluster}:{event['data']['contactId']}"} and again is None
    assert store.db.outreach_labels.count_documents({}) == 1
    assert store.db.inbox.count_documents({"_id": f"{CONSUMER}:{event['id']}"}) == 1
    assert figures(store) == {"1.0.0": row(flagged=1, reached=1, attempts=1)}


def test_figures_per_version_with_ads_flagged_under_two_versions(two_versions):
    store, flagged = two_versions
    assert figures(store) == {v: row(len(c)) for v, c in flagged.items()}  # nothing labelled yet
    old_a, old_b = sorted(flagged["1.0.0"])[:2]
    new = sorted(flagged["1.1.0"] - flagged["1.0.0"])[0]
    labels = OutreachLabels(store)
    for event in (contact_made(old_a, "no_answer"), contact_made(old_a, "conversation_held"),  # 2 attempts, reached
                  contact_made(old_b, "declined"),  # tried, not reached
                  contact_made(new, "information_given", version="1.1.0"),
                  contact_made(new, "wrong_number", version="1.1.0")):
        assert labels.record(event)["labelled"]
    assert figures(store) == {"1.0.0": row(len(flagged["1.0.0"]), reached=1, attempts=3),
                              "1.1.0": row(len(flagged["1.1.0"]), reached=1, attempts=2)}


def test_a_label_counts_for_the_version_its_event_carries(two_versions):
    """The version whose flag opened the task: a 1.0.0 contact on a cluster the ads show flagged under 1.1.0 only
    counts for 1.0.0 (and makes that cluster one of 1.0.0's flagged clusters), never for 1.1.0."""
    store, flagged = two_versions
    only_new = sorted(flagged["1.1.0"] - flagged["1.0.0"])[0]
    OutreachLabels(store).record(contact_made(only_new, "conversation_held", version="1.0.0"))
    assert figures(store) == {"1.0.0": row(len(flagged["1.0.0"]) + 1, reached=1, attempts=1),
                              "1.1.0": row(len(flagged["1.1.0"]))}


def test_a_label_of_a_cluster_since_relinked_still_counts_as_flagged(two_versions):
    store, flagged = two_versions
    gone = cluster_id()  # no ad has this cluster id any more: its ads were merged into another cluster
    OutreachLabels(store).record(contact_made(gone, "identification_talk_agreed"))
    assert figures(store)["1.0.0"] == row(len(flagged["1.0.0"]) + 1, reached=1, talks=1, attempts=1)


def test_contacts_at_venues_are_handled_once_and_label_nothing(store):
    at_venue, talk_at_venue = contact_made(None, "conversation_held"), talk_held(None)
    labels = OutreachLabels(store)
    assert labels.record(at_venue) == {"labelled": False, "label_id": None}
    assert labels.record(talk_at_venue) == {"labelled": False, "label_id": None}
    assert labels.record(at_venue) is None  # recorded as handled all the same
    assert store.db.outreach_labels.count_documents({}) == 0
    assert store.db.inbox.count_documents({}) == 2
    assert figures(store) == {}


def test_identification_talks_are_counted_agreed_or_held(store):
    agreed, held, both, neither = cluster_id(), cluster_id(), cluster_id(), cluster_id()
    labels = OutreachLabels(store)
    labels.record(contact_made(agreed, "identification_talk_agreed"))
    labels.record(talk_held(held))  # a talk held, with its own contact id: no attempt of its own
    first = contact_made(both, "conversation_held")
    labels.record(first)
    labels.record(talk_held(both, contact_id=first["data"]["contactId"]))  # the same contact: one label
    labels.record(contact_made(neither, "information_given"))
    assert store.db.outreach_labels.count_documents({}) == 4
    label = store.db.outreach_labels.find_one({"cluster_id": both})
    assert (label["outcome"], label["reached"], label["identification_talk"], label["attempts"]) == (
        "conversation_held", True, True, 1)
    assert len(label["events"]) == 2
    assert figures(store) == {"1.0.0": row(flagged=4, reached=4, talks=3, attempts=3)}


def test_a_label_without_a_version_counts_for_none(store):
    OutreachLabels(store).record(contact_made(cluster_id(), "conversation_held", version=None))
    assert store.db.outreach_labels.count_documents({}) == 1
    assert figures(store) == {}


def test_an_event_the_rules_cannot_read_writes_nothing_not_even_its_inbox_row(store):
    event = contact_made(cluster_id(), "conversation_held")
    event["data"]["outcome"] = "hugged"  # past the contract (the consumer dead-letters it before this)
    with pytest.raises(UnknownOutcome):
        OutreachLabels(store).record(event)
    assert store.db.outreach_labels.count_documents({}) == 0 and store.db.inbox.count_documents({}) == 0


def test_the_figures_have_indexes_to_read(store):
    labels = [[k for k, _ in i["key"]] for i in store.db.outreach_labels.index_information().values()]
    assert ["ruleset_version", "cluster_id"] in labels
