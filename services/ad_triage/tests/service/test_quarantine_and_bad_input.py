"""Rejected records go to an encrypted quarantine and come back out when fixed; bad calls write nothing."""
import json

import pytest
from nameko.exceptions import RemoteError

from kit import kafka_io
from services.ad_triage.tests.service.helpers import CONNECTOR, OPERATOR, WORKER, observe, raw_ad
from tests.support.graphql import error_code, ok, request_id
from tests.support.rpc import rpc_as

pytestmark = pytest.mark.stack

SUBMIT = """mutation($ad: AdInput!, $rid: String!) { submitAd(ad: $ad, requestId: $rid) {
  status adKey quarantineId reasons } }"""
RESUBMIT = """mutation($id: ID!, $record: String, $rid: String!) { resubmitQuarantinedAd(quarantineId: $id,
  record: $record, requestId: $rid) { status adKey reasons } }"""
QUARANTINE = """query($status: QuarantineStatus) { adQuarantine(status: $status) {
  totalCount items { quarantineId status via reasons platform adId adKey attempts } } }"""


def snapshot(db) -> dict:
    return {name: sorted(json.dumps(d, default=str, sort_keys=True) for d in db[name].find())
            for name in ("ads", "clusters", "links", "queue_any_any", "quarantine", "outbox", "config")}


def test_a_rejected_ad_is_quarantined_encrypted_and_accepted_after_correction(platform, db):
    record = raw_ad("8001", language="dansk", contacts=[{"kind": "phone", "value": "+45 29 99 51 73"}])
    rejected = ok(platform.graphql(SUBMIT, {"ad": record, "rid": request_id()}, headers=WORKER), "submitAd")
    assert rejected["status"] == "quarantined" and rejected["adKey"] is None
    assert rejected["reasons"] == ["language: must be a two-letter lowercase ISO 639-1 code such as da or en"]
    stored = db.quarantine.find_one({"_id": rejected["quarantineId"]})
    assert stored["raw"].startswith("enc2:")  # sealed with its key id, bound to its row and field
    dumped = json.dumps(stored, default=str)
    assert "29995173" not in dumped.replace(" ", "") and "29 99 51 73" not in dumped
    listed = ok(platform.graphql(QUARANTINE, {"status": "OPEN"}, headers=OPERATOR), "adQuarantine")["items"]
    assert [(q["quarantineId"], q["platform"], q["adId"], q["via"]) for q in listed] == [
        (rejected["quarantineId"], "dkescort.example", "8001", "gateway")]

    still_bad = ok(platform.graphql(RESUBMIT, {"id": rejected["quarantineId"], "rid": request_id()},
                                    headers=OPERATOR),
                   "resubmitQuarantinedAd")
    assert still_bad["status"] == "quarantined" and still_bad["reasons"] == rejected["reasons"]
    fixed = json.dumps({**record, "language": "da"})
    accepted = ok(platform.graphql(RESUBMIT, {"id": rejected["quarantineId"], "record": fixed, "rid": request_id()},
                                   headers=OPERATOR), "resubmitQuarantinedAd")
    assert accepted == {"status": "accepted", "adKey": "dkescort.example/8001", "reasons": []}
    assert db.ads.find_one({"_id": "dkescort.example/8001"})["language"] == "da"
    assert ok(platform.graphql(QUARANTINE, {"status": "OPEN"}, headers=OPERATOR), "adQuarantine")["totalCount"] == 0
    done = ok(platform.graphql(QUARANTINE, {"status": "RESUBMITTED"}, headers=OPERATOR), "adQuarantine")["items"]
    assert [(q["adKey"], q["attempts"]) for q in done] == [("dkescort.example/8001", 3)]
    again = platform.graphql(RESUBMIT, {"id": rejected["quarantineId"], "record": fixed, "rid": request_id()},
                             headers=OPERATOR)
    assert error_code(again) == "already_resubmitted"


# who may call each method (the access policy): importing is connectors', rule sets and quarantine the operator's
RPC_ROLES = {"unknown cluster": ("outreach_worker", "cmm"), "unknown rule set": ("operator",),
             "rescore of an inactive version": ("operator",), "unknown quarantine id": ("operator",)}


@pytest.mark.parametrize("name, call, code", [
    ("unknown format", lambda rpc: rpc.ad_triage.import_batch(lines=["{}"], format="xml", actor="a1"),
     "unknown_format"),
    ("lines not a list", lambda rpc: rpc.ad_triage.import_batch(lines="{}", format="jsonl", actor="a1"),
     "invalid_input"),
    ("empty batch", lambda rpc: rpc.ad_triage.import_batch(lines=[], format="jsonl", actor="a1"), "empty_batch"),
    ("too many lines", lambda rpc: rpc.ad_triage.import_batch(lines=["{}"] * 5001, actor="a1"), "batch_too_large"),
    ("bad actor", lambda rpc: rpc.ad_triage.import_batch(lines=["{}"], actor="Anna Hansen"), "invalid_input"),
    ("unknown argument", lambda rpc: rpc.ad_triage.import_batch(lines=["{}"], actor="a1", colour="red"),
     "invalid_arguments"),
    ("record not an object", lambda rpc: rpc.ad_triage.submit_ad(record=["x"], actor="a1"), "invalid_input"),
    ("unknown cluster", lambda rpc: rpc.ad_triage.move_item(cluster_id="cl-0000000000000000", to_state="assigned",
                                                             reason="r", actor="a1"), "unknown_cluster"),
    ("unknown rule set", lambda rpc: rpc.ad_triage.publish_ruleset(version="9.9.9", actor="a1"), "unknown_ruleset"),
    ("rescore of an inactive version", lambda rpc: rpc.ad_triage.rescore(version="1.1.0", actor="a1"),
     "ruleset_not_active"),
    ("unknown quarantine id", lambda rpc: rpc.ad_triage.resubmit_quarantined(quarantine_id="q-0", actor="a1"),
     "unknown_quarantined"),
])
def test_rpc_refuses_bad_input_with_a_specific_code_and_writes_nothing(platform, db, name, call, code):
    before = snapshot(db)
    caller = RPC_ROLES.get(name, ("ingest_connector",))
    with rpc_as(platform, *caller) as rpc, pytest.raises(RemoteError) as raised:
        call(rpc)
    assert raised.value.exc_type == "CommandRejected"
    assert json.loads(raised.value.value)["code"] == code
    assert snapshot(db) == before


@pytest.mark.parametrize("name, query, variables, code", [
    ("format outside the enum", 'mutation { importAds(lines: ["{}"], format: XML, requestId: "bad-format-1") '
                                '{ accepted } }', {},
     "GRAPHQL_VALIDATION_FAILED"),
    ("empty import", 'mutation { importAds(lines: [], requestId: "empty-import-1") { accepted } }', {},
     "empty_batch"),
    ("missing required ad field", SUBMIT, {"ad": {"platform": "p.example"}, "rid": "missing-field-1"}, None),
    ("bad paging cursor", "{ triageQueue(first: 5, after: \"nope\") { totalCount } }", {}, "invalid_input"),
    ("both paging styles", "{ triageQueue(first: 5, offset: 3) { totalCount } }", {}, "invalid_input"),
    ("page too large", "{ triageQueue(limit: 100000) { totalCount } }", {}, "list_too_large"),
    ("unknown cluster", 'mutation { closeTriageItem(clusterId: "cl-0000000000000000", reason: "r", '
                        'requestId: "unknown-cluster-1") { state } }', {}, "unknown_cluster"),
    ("not a cluster id", 'mutation { closeTriageItem(clusterId: "x.example/1", reason: "r", '
                         'requestId: "bad-cluster-1") { state } }', {}, "invalid_input"),
])
def test_graphql_refuses_bad_input_with_a_specific_error_and_writes_nothing(platform, db, name, query, variables,
                                                                            code):
    before = snapshot(db)
    result = platform.graphql(query, variables, headers=CONNECTOR if "importAds" in query else WORKER)
    assert result.get("errors"), result
    if code == "GRAPHQL_VALIDATION_FAILED":
        assert "XML" in result["errors"][0]["message"]
    elif code is not None:
        assert error_code(result) == code
    else:
        # the edge names the variable and never echoes its value (nor, masked, which field of it was wrong)
        assert "$ad" in json.dumps(result["errors"]) and "p.example" not in json.dumps(result["errors"])
    assert snapshot(db) == before


def test_an_observation_breaking_its_contract_is_dead_lettered_and_the_next_one_is_stored(platform, db):
    settings = platform.settings("ad_triage")
    producer = kafka_io.producer(settings)
    # raw contacts on the topic: exactly what the contract (pseudonyms only) refuses
    poison = {"specversion": "1.0", "id": "poison-1", "type": "ad_triage.ad.observed", "subject": "x/1",
              "source": "/actionplan/crawler", "time": "2016-05-01T10:00:00Z", "datacontenttype": "application/json",
              "dataschema": "urn:actionplan:schemas:events:ad_triage.ad.observed:v1", "data": raw_ad("poison")}
    producer.send(settings.topic("ad_triage.observations"), key=b"x/1", value=json.dumps(poison).encode())
    producer.flush()
    producer.close()
    stored = observe(platform, db, raw_ad("after-poison", contacts=[{"kind": "phone", "value": "29 99 40 19"}]))
    assert stored["contacts"][0]["pseudonym"].startswith("p1:ad-linkage:")
    dead = platform.read_topic("deadletter.ad_triage", 1, timeout=30)
    assert len(dead) == 1 and json.loads(dead[0].value)["id"] == "poison-1"
    headers = dict(dead[0].headers)
    assert headers["dlq.error.type"] == b"ContractError" and headers["dlq.attempts"] == b"0"
    assert db.ads.find_one({"ad_id": "poison"}) is None
