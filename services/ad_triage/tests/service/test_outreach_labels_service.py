"""Outreach outcomes reach ad triage as labels over the real topic: a digital contact on a flagged cluster shows in
the per-version figures (RPC and GraphQL), a redelivery counts once, a venue contact labels nothing, and an event
breaking its contract goes to the dead-letter topic, not into the labels."""
import json

import pytest

from kit.envelope import encode
from services.ad_triage.tests.outreach_events import contact_made, talk_held
from services.ad_triage.tests.service.helpers import generated_lines, import_lines
from tests.support.events import caught_up, produce, produce_events
from tests.support.graphql import ok
from tests.support.rpc import rpc_as
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack
TOPIC = "outreach.contacts"
GROUPS = ("ad_triage.on_outreach_outcome",)
OUTCOMES = ("{ triageOutcomes { rulesetVersion flaggedClusters reachedClusters identificationTalkClusters "
            "attempts } }")


def outcomes(platform) -> dict[str, dict]:
    with rpc_as(platform, "evaluator", "some-institute") as rpc:
        answer = rpc.ad_triage.outcomes()
    return {row["ruleset_version"]: row for row in answer["versions"]}


def all_caught_up(settings) -> bool:
    return all(caught_up(settings, group, TOPIC) for group in GROUPS)


@pytest.fixture(scope="module")
def flagged_cluster(platform, db):
    report = import_lines(platform, generated_lines(300, seed=5, id_prefix="lbl-"))
    assert report["flagged"]
    return db.clusters.find_one({"flagged_versions": "1.0.0"}, {"_id": 1})["_id"]


def test_a_digital_contact_on_a_flagged_cluster_shows_in_the_figures_once(platform, db, flagged_cluster):
    settings = platform.settings("ad_triage")
    before = outcomes(platform)["1.0.0"]
    assert before["flagged_clusters"] == db.clusters.count_documents({"flagged_versions": "1.0.0"})
    contact = contact_made(flagged_cluster, "conversation_held")
    talk = talk_held(flagged_cluster, contact_id=contact["data"]["contactId"])
    at_venue = contact_made(None, "information_given")
    # the contact twice (a redelivery), a venue contact and the talk held after the contact
    produce_events(settings, TOPIC, [contact, at_venue, contact, talk])
    eventually(lambda: all_caught_up(settings), 60, what="both consumers at the topic's end")
    after = outcomes(platform)["1.0.0"]
    assert {k: after[k] - before[k] for k in after if k != "ruleset_version"} == {
        "flagged_clusters": 0, "reached_clusters": 1, "identification_talk_clusters": 1, "attempts": 1}
    assert db.outreach_labels.count_documents({}) == 1
    label = db.outreach_labels.find_one()
    assert (label["cluster_id"], label["outcome"], label["reached"], label["identification_talk"]) == (
        flagged_cluster, "conversation_held", True, True)
    assert db.inbox.count_documents({"_id": {"$in": [f"ad_triage.outreach_labels:{e['id']}"
                                                     for e in (contact, at_venue, talk)]}}) == 3

    figures = ok(platform.graphql(OUTCOMES, as_=("evaluator", "some-institute")), "triageOutcomes")
    row = next(r for r in figures if r["rulesetVersion"] == "1.0.0")
    assert row == {"rulesetVersion": "1.0.0", "flaggedClusters": after["flagged_clusters"],
                   "reachedClusters": after["reached_clusters"],
                   "identificationTalkClusters": after["identification_talk_clusters"],
                   "attempts": after["attempts"]}


def test_an_outreach_event_breaking_its_contract_is_dead_lettered_and_labels_nothing(platform, db, flagged_cluster):
    settings = platform.settings("ad_triage")
    labels_before = db.outreach_labels.count_documents({})
    poison = contact_made(flagged_cluster, "conversation_held")
    poison["id"] = "poison-outreach-1"
    poison["data"]["outcome"] = "hugged"  # no such outcome: the contract refuses it
    poison["data"]["note"] = "free text"  # and nothing personal may ride along
    good = contact_made(flagged_cluster, "no_answer")
    key = flagged_cluster.encode()
    produce(settings, TOPIC, [(key, encode(poison))])
    produce_events(settings, TOPIC, [good], key=key)
    eventually(lambda: db.outreach_labels.count_documents({}) == labels_before + 1, 60,
               what="the good event after the poison labelled")
    eventually(lambda: all_caught_up(settings), 60, what="the consumer past the poison")
    dead = [r for r in platform.read_topic("deadletter.ad_triage", 5, timeout=10)
            if json.loads(r.value).get("id") == "poison-outreach-1"]
    assert len(dead) == 1, f"the poison is on the dead-letter topic exactly once, found {len(dead)}"
    for record in dead:
        headers = dict(record.headers)
        assert headers["dlq.error.type"] == b"ContractError" and headers["dlq.attempts"] == b"0"
        assert headers["dlq.original.topic"].decode() == settings.topic(TOPIC)
    assert db.outreach_labels.count_documents({"events": "poison-outreach-1"}) == 0
    assert db.inbox.count_documents({"_id": "ad_triage.outreach_labels:poison-outreach-1"}) == 0
    assert db.outreach_labels.count_documents({"events": good["id"]}) == 1
