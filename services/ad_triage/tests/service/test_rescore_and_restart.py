"""A new rule-set version rescores every stored ad and cluster deterministically, as the one-pass reference scores
them; clusters are stored, so a restart finds them as they were."""
import base64
import json

import pytest

from kit.pseudonym import Pseudonymiser
from services.ad_triage.domain.batch import batch_scores
from services.ad_triage.domain.record_lines import parse_jsonl
from services.ad_triage.domain.ruleset import ruleset_version
from services.ad_triage.domain.stored import to_stored
from services.ad_triage.tests.service.helpers import (generated_lines, import_lines, observe, producers_env, published,
                                                     raw_ad)
from tests.support.platform import TEST_KEY
from tests.support.rpc import rpc_as

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def lines(platform):
    lines = generated_lines(1500, seed=31)
    assert import_lines(platform, lines)["accepted"] == 1500
    return lines


def scores(db) -> dict:
    return {d["_id"]: d["score"] for d in db.ads.find({}, {"score": 1})}


def cluster_scores(db) -> dict:
    return {d["_id"]: d["score"] for d in db.clusters.find({}, {"score": 1})}


def expected(lines: list[str], version: str) -> tuple[dict, dict]:
    """The same file linked and scored by the domain alone, in one pass, with the platform's key: the ads' own scores
    and the clusters' scores the service must store."""
    pseudonymise = Pseudonymiser(base64.b64decode(TEST_KEY)).for_purpose("ad-linkage")
    stored = [to_stored(ad, pseudonymise) for _, ad in parse_jsonl(lines)]
    own, clusters, _ = batch_scores(stored, ruleset_version(version))
    return ({f"{k[0]}/{k[1]}": (s.value_milli, s.priority) for k, s in own.items()},
            {cid: (s.value_milli, s.priority) for cid, s in clusters.items()})


def brief(found: dict) -> dict:
    return {k: (s["value_milli"], s["priority"]) for k, s in found.items()}


def test_a_new_rule_set_rescores_deterministically_and_emits_only_changed_priorities(platform, db, lines):
    assert (brief(scores(db)), brief(cluster_scores(db))) == expected(lines, "1.0.0")
    seen = {e["id"] for e in published(platform, db)}
    before = cluster_scores(db)
    with rpc_as(platform, "operator", timeout=120) as rpc:
        report = rpc.ad_triage.publish_ruleset(version="1.1.0", actor="lead-1")
    after = cluster_scores(db)
    assert (brief(scores(db)), brief(after)) == expected(lines, "1.1.0")
    changed = {k for k in after if after[k]["priority"] != before[k]["priority"]}
    new = [e for e in published(platform, db) if e["id"] not in seen]
    moves = [e["data"] for e in new if e["type"] == "ad_triage.ad.priority_changed"]
    assert changed and report == {"version": "1.1.0", "rescored": 1500, "changed": len(moves),
                                  "flagged": report["flagged"], "done": True}
    assert {e["data"]["clusterId"] for e in new} <= changed  # nothing about clusters whose priority stayed
    assert {m["clusterId"] for m in moves} == changed
    for data in moves:  # about the cluster's best ad, or an ad outreach was told of before (a former best)
        cluster = db.clusters.find_one({"_id": data["clusterId"]})
        assert data["adKey"] in [cluster["best"]["ad_key"], *(row[0] for row in cluster["announced"])]
        assert (data["previousPriority"], data["priority"]) == (before[data["clusterId"]]["priority"],
                                                                after[data["clusterId"]]["priority"])
        assert (data["cause"], data["rulesetVersion"], data["previousRulesetVersion"]) == ("rescore", "1.1.0",
                                                                                          "1.0.0")
    newly_flagged = {e["data"]["clusterId"] for e in new if e["type"] == "ad_triage.ad.flagged"}
    assert len(newly_flagged) == report["flagged"]
    assert newly_flagged == {k for k in changed if after[k]["priority"] in ("high", "medium")
                             and before[k]["priority"] not in ("high", "medium")}
    assert all(s["ruleset_version"] == "1.1.0" for s in [*scores(db).values(), *after.values()])
    with rpc_as(platform, "operator") as rpc:
        assert rpc.ad_triage.rulesets()["rescore"] == {**report, "phase": "done"}

    outbox_rows = db.outbox.count_documents({})
    with rpc_as(platform, "operator", timeout=120) as rpc:
        again = rpc.ad_triage.publish_ruleset(version="1.1.0", actor="lead-1")
    assert (again["changed"], again["flagged"]) == (0, 0)
    assert db.outbox.count_documents({}) == outbox_rows and cluster_scores(db) == after


def test_clusters_and_the_published_rule_set_survive_a_restart(platform, db, lines):
    observe(platform, db, raw_ad("before-restart"))
    clusters_before = {d["_id"]: d["cluster_id"] for d in db.ads.find({}, {"cluster_id": 1})}
    service = next(p for p in platform.stack.procs if p.name == "service-ad_triage")
    with rpc_as(platform, "operator") as rpc:
        linking_before = rpc.ad_triage.linking()
    # a crash: nothing of the linking state lived in the process, so nothing is rebuilt at start
    service.kill()
    platform.stack.procs.remove(service)
    platform.service("ad_triage", AD_TRIAGE_RULESET_VERSION="1.0.0", **producers_env())
    with rpc_as(platform, "operator") as rpc, rpc_as(platform, "ingest_connector") as ingest:
        after_restart = rpc.ad_triage.linking()
        assert after_restart["instance"] != linking_before["instance"]  # a new process, the same stored clusters
        assert {k: v for k, v in after_restart.items() if k != "instance"} == {
            k: v for k, v in linking_before.items() if k != "instance"}
        assert linking_before["ads_linked"] == len(clusters_before)
        assert rpc.ad_triage.rulesets()["active"] == "1.1.0"  # the published version outranks the start default
        biggest = max(db.clusters.find(), key=lambda c: c["ad_count"])
        member = next(json.loads(line) for line in lines
                      if clusters_before.get(f"{json.loads(line)['platform']}/{json.loads(line)['adId']}")
                      == biggest["_id"])
        newcomer = {**member, "platform": "zz.example", "adId": "after-restart", "url": "https://zz.example/1",
                    "text": "A completely different text, written by someone else entirely, about nothing."}
        result = ingest.ad_triage.submit_ad(record=newcomer, actor="crawler-1")
    assert result["status"] == "accepted"
    later = raw_ad("after-restart", text="Relaxing massage near the harbour, weekdays only, ask for prices.",
                   contacts=[{"kind": "phone", "value": "+45 29 99 40 12"}])
    assert observe(platform, db, later)["sightings"][0]["via"] == "kafka"
    assert db.ads.find_one({"_id": "zz.example/after-restart"})["cluster_id"] == biggest["_id"]
    assert db.clusters.find_one({"_id": biggest["_id"]})["ad_count"] == biggest["ad_count"] + 1
    unchanged = {"$nin": ["zz.example/after-restart", "dkescort.example/after-restart"]}
    assert {d["_id"]: d["cluster_id"] for d in db.ads.find({"_id": unchanged}, {"cluster_id": 1})} == clusters_before
