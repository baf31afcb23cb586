"""A generated file of a few thousand ads through the bulk door: clusters, an explained queue of clusters, flagged
events once per cluster."""
from datetime import datetime

import pytest

from services.ad_triage.domain.record_lines import parse_csv, parse_jsonl
from services.ad_triage.domain.records import Ad
from services.ad_triage.tests.service.helpers import (LEAD, OPERATOR, WORKER, generated_lines, import_lines, observe,
                                                     published, raw_ad)
from tests.support.graphql import error_code, ok, request_id
from tests.support.rpc import rpc_as

pytestmark = pytest.mark.stack

QUEUE = """query($first: Int, $after: String, $state: TriageState, $priority: AdPriority) {
  triageQueue(first: $first, after: $after, state: $state, priority: $priority) {
    totalCount items { clusterId score priority rulesetVersion lastSeen adCount cities platforms maxContactSpread
                       bestAdKey state evidence { indicatorId weight evidence { kind feature value } } }
    pageInfo { endCursor hasNextPage } } }"""
DETAIL = """query($key: ID!) { triageAd(adKey: $key) {
  adKey title text clusterId clusterSize flaggedVersions sightings { via } contacts { kind source }
  queue { state assignee history { fromState toState actor reason } }
  score { value priority rulesetVersion fired { indicatorId weight rationale
          evidence { kind field start end snippet feature value } } }
  cluster { clusterId adCount cities platforms maxContactSpread bestAdKey ads { adKey score }
            score { value priority fired { indicatorId weight } } } } }"""


@pytest.fixture(scope="module")
def imported(platform):
    return import_lines(platform, generated_lines(2500, seed=11))


def _order(item):
    return (-item["score"], -datetime.fromisoformat(item["lastSeen"]).timestamp(), -item["adCount"],
            item["clusterId"])


def test_every_generated_ad_is_stored_once_and_linked_into_clusters(platform, db, imported):
    assert (imported["accepted"], imported["quarantined"]) == (2500, 0)
    assert db.ads.count_documents({}) == 2500
    clusters = list(db.clusters.find())
    assert sum(c["ad_count"] for c in clusters) == 2500  # every ad in exactly one cluster
    biggest = max(clusters, key=lambda c: c["ad_count"])
    assert biggest["ad_count"] >= 10 and len(biggest["cities"]) > 1 and biggest["max_contact_spread"] > 1
    with rpc_as(platform, "caseworker", "cmm") as rpc:
        detail = rpc.ad_triage.cluster(cluster_id=biggest["_id"])
    assert detail["ad_count"] == biggest["ad_count"] == db.ads.count_documents({"cluster_id": biggest["_id"]})
    assert len(detail["ads"]) == min(50, biggest["ad_count"])
    assert {a["cluster_id"] for a in detail["ads"]} == {biggest["_id"]}
    assert [a["score"] for a in detail["ads"]] == sorted((a["score"] for a in detail["ads"]), reverse=True)


def test_the_queue_lists_clusters_by_score_recency_and_size_and_pages(platform, db, imported):
    first = ok(platform.graphql(QUEUE, {"first": 40}, headers=WORKER), "triageQueue")
    second = ok(platform.graphql(QUEUE, {"first": 40, "after": first["pageInfo"]["endCursor"]}, headers=WORKER),
                "triageQueue")
    items = first["items"] + second["items"]
    assert len(items) == 80 and len({i["clusterId"] for i in items}) == 80
    assert items == sorted(items, key=_order)
    queued = db.clusters.count_documents({"score.priority": {"$in": ["high", "medium", "low"]}})
    assert first["pageInfo"]["hasNextPage"] and first["totalCount"] == queued < 2500
    for item in items:  # what outreach sees of a cluster is what is stored of it
        cluster = db.clusters.find_one({"_id": item["clusterId"]})
        assert (item["adCount"], item["cities"], item["platforms"], item["bestAdKey"]) == (
            cluster["ad_count"], cluster["cities"], cluster["platforms"], cluster["best"]["ad_key"])
        assert sum(e["weight"] for e in item["evidence"]) == pytest.approx(item["score"])
    high = ok(platform.graphql(QUEUE, {"first": 500, "priority": "HIGH"}, headers=WORKER), "triageQueue")
    assert high["items"] and {i["priority"] for i in high["items"]} == {"high"}


def test_an_item_explains_its_score_with_evidence_on_masked_text(platform, imported):
    top = ok(platform.graphql(QUEUE, {"first": 1}, headers=WORKER), "triageQueue")["items"][0]
    ad = ok(platform.graphql(DETAIL, {"key": top["bestAdKey"]}, headers=WORKER), "triageAd")
    score = ad["score"]
    assert score["rulesetVersion"] == "1.0.0" and score["fired"]
    # the cluster's score is its best ad's own score plus the network signals that fired on the cluster
    cluster_fired = {f["indicatorId"]: f["weight"] for f in ad["cluster"]["score"]["fired"]}
    assert {f["indicatorId"]: f["weight"] for f in score["fired"]}.items() <= cluster_fired.items()
    assert ad["cluster"]["score"]["value"] == pytest.approx(top["score"]) == pytest.approx(sum(cluster_fired.values()))
    assert ad["cluster"]["bestAdKey"] == ad["adKey"] and ad["cluster"]["ads"][0]["score"] == score["value"]
    assert sum(f["weight"] for f in score["fired"]) == pytest.approx(score["value"])
    for fired in score["fired"]:
        evidence = fired["evidence"]
        assert fired["rationale"]
        if evidence["kind"] == "pattern":
            text = ad[evidence["field"]]
            assert text[evidence["start"]:evidence["end"]].startswith(evidence["snippet"])
        else:
            assert evidence["feature"] and evidence["value"] is not None
    assert ad["cluster"]["adCount"] == ad["clusterSize"] >= len(ad["cluster"]["ads"])


def test_flagged_events_carry_only_what_outreach_needs_once_per_cluster(platform, db, imported):
    events = published(platform, db)
    flagged = [e for e in events if e["type"] == "ad_triage.ad.flagged"]
    assert flagged and len(flagged) == imported["flagged"] < 2500 // 3  # a list outreach can act on
    assert len({e["data"]["clusterId"] for e in flagged}) == len(flagged)
    for event in flagged:
        assert set(event["data"]) == {"adKey", "clusterId", "score", "priority", "rulesetVersion", "city"}
        assert event["data"]["priority"] in ("high", "medium") and event["data"]["rulesetVersion"] == "1.0.0"
    # each flag names an ad; the cluster that ad is in now keeps the flag (through merges)
    now_in = {e["data"]["adKey"]: db.ads.find_one({"_id": e["data"]["adKey"]})["cluster_id"] for e in flagged}
    flagged_in_db = {d["_id"] for d in db.clusters.find({"flagged_versions": "1.0.0"}, {"_id": 1})}
    at_flag_level = {d["_id"] for d in db.clusters.find({"score.priority": {"$in": ["high", "medium"]}}, {"_id": 1})}
    assert set(now_in.values()) == flagged_in_db == at_flag_level


def test_queue_moves_record_who_and_why_and_refuse_illegal_moves(platform, imported):
    key = ok(platform.graphql(QUEUE, {"first": 1, "state": "NEW"}, headers=WORKER),
             "triageQueue")["items"][0]["clusterId"]
    assigned = ok(platform.graphql('mutation($k: ID!, $rid: String!) { assignTriageItem(clusterId: $k, '
                                   'reason: "mine", requestId: $rid) { state assignee version } }',
                                   {"k": key, "rid": request_id()}, headers=WORKER), "assignTriageItem")
    assert assigned == {"state": "assigned", "assignee": "worker-7", "version": 1}
    illegal = platform.graphql('mutation($k: ID!, $rid: String!) { moveTriageItem(clusterId: $k, to: NEW, '
                               'reason: "undo", requestId: $rid) { state } }', {"k": key, "rid": request_id()},
                               headers=WORKER)
    assert error_code(illegal) == "illegal_transition"
    stale = platform.graphql('mutation($k: ID!, $rid: String!) { moveTriageItem(clusterId: $k, to: CONTACTED, '
                             'reason: "talked", expectedVersion: 0, requestId: $rid) { state } }',
                             {"k": key, "rid": request_id()}, headers=WORKER)
    assert error_code(stale) == "concurrent_change"
    ok(platform.graphql('mutation($k: ID!, $rid: String!) { moveTriageItem(clusterId: $k, to: UNREACHABLE, '
                        'reason: "no answer", expectedVersion: 1, requestId: $rid) { state } }',
                        {"k": key, "rid": request_id()}, headers=WORKER), "moveTriageItem")
    closed = ok(platform.graphql('mutation($k: ID!, $rid: String!) { closeTriageItem(clusterId: $k, '
                                 'reason: "ad removed", requestId: $rid) { state history { fromState toState actor '
                                 'reason } } }', {"k": key, "rid": request_id()}, headers=LEAD), "closeTriageItem")
    assert closed["state"] == "closed"
    assert [(m["fromState"], m["toState"], m["actor"], m["reason"]) for m in closed["history"]] == [
        ("new", "assigned", "worker-7", "mine"), ("assigned", "unreachable", "worker-7", "no answer"),
        ("unreachable", "closed", "lead-2", "ad removed")]
    state = ok(platform.graphql(QUEUE, {"first": 500, "state": "CLOSED"}, headers=WORKER), "triageQueue")
    assert [i["clusterId"] for i in state["items"]] == [key]


@pytest.mark.parametrize("fmt, parse", [("jsonl", parse_jsonl), ("csv", parse_csv)])
def test_a_malformed_file_gets_per_record_reasons_and_loses_no_good_record(platform, db, imported, fmt, parse):
    lines = generated_lines(400, seed=23 if fmt == "jsonl" else 29, fmt=fmt, malformed=30, id_prefix=f"{fmt}-")
    expected = dict(parse(lines))
    good = {n: a for n, a in expected.items() if isinstance(a, Ad)}
    before = db.ads.count_documents({})
    report = import_lines(platform, lines, fmt, chunk=70)
    by_line = {r["line"]: r for r in report["results"]}
    assert set(by_line) == set(expected)
    quarantined = {n for n, r in by_line.items() if r["status"] == "quarantined"}
    assert quarantined == set(expected) - set(good) and len(quarantined) >= 25
    for n in quarantined:
        assert by_line[n]["reasons"] == list(expected[n].reasons)
    for n, ad in good.items():
        assert by_line[n]["ad_key"] == f"{ad.platform}/{ad.ad_id}"
    assert db.ads.count_documents({}) - before == len(good) == report["accepted"]
    listed = ok(platform.graphql("{ adQuarantine(limit: 500) { totalCount items { line reasons format via } } }",
                                 headers=OPERATOR), "adQuarantine")
    mine = [q for q in listed["items"] if q["format"] == fmt]
    assert sorted(q["line"] for q in mine) == sorted(quarantined)


def test_the_same_ad_seen_again_updates_it_and_extends_its_history(platform, db, imported):
    with rpc_as(platform, "outreach_worker", "cmm") as rpc:
        first = rpc.ad_triage.submit_ad(record=raw_ad("7001"), actor="crawler-1", request_id="same-ad-first")
        assert first["status"] == "accepted"
        cluster = rpc.ad_triage.ad(ad_key=first["ad_key"])["cluster_id"]
        rpc.ad_triage.move_item(cluster_id=cluster, to_state="assigned", reason="look", actor="worker-7")
        later = raw_ad("7001", lastSeen="2016-06-01T10:00:00+00:00", firstSeen="2016-04-20T10:00:00+00:00",
                       text="Sweet Thai girl. Professional and discreet. New photos.")
        again = rpc.ad_triage.submit_ad(record=later, actor="crawler-1", request_id="same-ad-second")
        replayed = rpc.ad_triage.submit_ad(record=later, actor="crawler-1", request_id="same-ad-second")
    assert (again["status"], replayed["status"]) == ("updated", "unchanged")
    docs = list(db.ads.find({"ad_id": "7001"}))
    assert len(docs) == 1
    doc = docs[0]
    assert len(doc["sightings"]) == 2 and doc["text"].endswith("New photos.")
    assert doc["first_seen"].isoformat().startswith("2016-04-20") and doc["last_seen"].isoformat().startswith(
        "2016-06-01")
    assert db.clusters.find_one({"_id": doc["cluster_id"]})["queue"]["state"] == "assigned"


def test_an_imported_ad_observed_again_by_a_crawler_gains_a_kafka_sighting(platform, db, imported):
    doc = db.ads.find_one({"_id": "dkescort.example/100003"}) or db.ads.find_one({"platform": "dkescort.example"})
    record = raw_ad(doc["ad_id"], lastSeen="2019-01-01T00:00:00+00:00", firstSeen="2018-12-30T00:00:00+00:00")
    updated = observe(platform, db, record)
    assert [s["via"] for s in updated["sightings"]] == ["import", "kafka"]
    assert updated["last_seen"].year == 2019 and db.ads.count_documents({"ad_id": doc["ad_id"]}) == 1


def test_two_ads_sharing_a_number_one_only_in_its_text_are_one_cluster(platform, db, imported):
    submit = """mutation($ad: AdInput!, $rid: String!) { submitAd(ad: $ad, requestId: $rid) { status adKey } }"""
    in_field = raw_ad("txt-1", contacts=[{"kind": "phone", "value": "+45 29 99 77 31"}], title="Mia - Vejle",
                      text="Sweet and discreet, new in town.")
    only_in_text = raw_ad("txt-2", contacts=[], title="Ny pige",
                          text="Ring to ni ni ni syv syv tre en, kun sms. Helt ny profil i Aarhus.")
    keys = [ok(platform.graphql(submit, {"ad": ad, "rid": request_id()}, headers=WORKER), "submitAd")["adKey"]
            for ad in (in_field, only_in_text)]
    detail = """query($key: ID!) { triageAd(adKey: $key) { clusterId clusterSize text contacts { kind source } } }"""
    first, second = (ok(platform.graphql(detail, {"key": key}, headers=WORKER), "triageAd") for key in keys)
    assert first["clusterId"] == second["clusterId"] and first["clusterSize"] == second["clusterSize"] == 2
    assert first["contacts"] == [{"kind": "phone", "source": "field"}]
    assert second["contacts"] == [{"kind": "phone", "source": "text"}]
    assert "syv syv" not in second["text"]  # the number is masked where it was found
