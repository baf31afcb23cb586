"""Ad triage end to end: a crawler's connector → Kafka → the service → the queue in the gateway → a worker's moves,
and a gateway submission whose flagged event carries the request's trace."""
import json
import os
import subprocess
import sys
import uuid

import pytest
from pymongo import MongoClient

from services.ad_triage.tests.service.helpers import generated_lines, raw_ad
from tests.support.platform import Platform
from tests.support.rpc import rpc_as
from tests.support.tokens import bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack

WORKER = bearer("outreach_worker", "cmm", subject="worker-e2e")  # a CMM outreach worker's token
QUEUE = "{ triageQueue(first: 5) { totalCount items { clusterId bestAdKey priority state adCount } } }"


@pytest.fixture(scope="module")
def triage_platform(infra, otlp):
    """Every service as `make run` starts them, with the ad triage relay and the gateway."""
    platform = Platform(infra, f"e{uuid.uuid4().hex[:8]}", otlp.endpoint)
    try:
        for name in ("grants", "evaluation", "ad_triage"):
            platform.service(name)
        platform.relay("ad_triage")
        platform.gateway()
        yield platform
    finally:
        platform.stop()


def test_a_crawl_through_the_connector_becomes_a_queue_workers_act_on(triage_platform, tmp_path):
    platform = triage_platform
    crawl = tmp_path / "crawl.jsonl"
    crawl.write_text("".join(line + "\n" for line in generated_lines(300, seed=41)))
    done = subprocess.run([sys.executable, "-m", "services.ad_triage.tools.connector", str(crawl), "--name", "crawler-e2e"],
                          env=platform.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "published 300 observation(s)" in done.stdout

    def queue_filled():
        result = platform.graphql(QUEUE, headers=WORKER)
        assert "errors" not in result, result
        page = result["data"]["triageQueue"]
        with rpc_as(platform, "operator") as rpc:
            return page if rpc.ad_triage.linking()["ads_linked"] == 300 else None
    page = eventually(queue_filled, 90, 0.5, "all 300 observations ingested")
    # let the relay finish first: the local MongoDB-wire server can lose a transaction that runs beside the
    # relay's plain writes ("no such savepoint"), a fault of the local stack, not of the code under test
    outbox = MongoClient(platform.env["MONGO_URI"])[platform.settings("ad_triage").database].outbox
    eventually(lambda: outbox.count_documents({"status": "pending"}) == 0, 60, 0.3, "the relay idle")
    outbox.database.client.close()
    assert page["totalCount"] > 0 and page["items"][0]["priority"] == "high"
    cluster, key = page["items"][0]["clusterId"], page["items"][0]["bestAdKey"]
    for mutation, args in (("assignTriageItem", 'reason: "taking it"'), ("moveTriageItem", 'to: CONTACTED, '
                                                                        'reason: "reached by chat"'),
                           ("closeTriageItem", 'reason: "referred to outreach"')):
        result = platform.graphql(f'mutation {{ {mutation}(clusterId: "{cluster}", {args}, '
                                  f'requestId: "{uuid.uuid4().hex}") {{ state }} }}', headers=WORKER)
        assert "errors" not in result, result
    detail = platform.graphql(f'{{ triageAd(adKey: "{key}") {{ clusterId sightings {{ via }} queue {{ state history '
                              f'{{ actor toState }} }} }} }}', headers=WORKER)["data"]["triageAd"]
    assert detail["clusterId"] == cluster
    assert detail["sightings"] == [{"via": "kafka"}]
    assert [m["toState"] for m in detail["queue"]["history"]] == ["assigned", "contacted", "closed"]
    assert {m["actor"] for m in detail["queue"]["history"]} == {"worker-e2e"}


def test_a_flagged_submission_is_one_trace_from_gateway_to_kafka(triage_platform, otlp):
    platform = triage_platform
    trace_id = os.urandom(16).hex()
    headers = {**WORKER, "traceparent": f"00-{trace_id}-{os.urandom(8).hex()}-01"}
    record = raw_ad("e2e-1", text="Sweet Thai girl. Professional, safe and discreet. 100% real photos.",
                    contacts=[{"kind": "phone", "value": "2 9 9 9 4 4 1 7"}])
    result = platform.graphql("mutation($ad: AdInput!, $rid: String!) { submitAd(ad: $ad, requestId: $rid) "
                              "{ status adKey } }", {"ad": record, "rid": uuid.uuid4().hex}, headers=headers)
    assert result["data"]["submitAd"] == {"status": "accepted", "adKey": "dkescort.example/e2e-1"}  # nothing about other ads

    def flagged_event():
        for r in platform.read_topic("ad_triage.ads", 10**6, timeout=5):  # all of it, for 5 s
            event = json.loads(r.value)
            if event["subject"] == "dkescort.example/e2e-1" and event["type"] == "ad_triage.ad.flagged":
                return event
    event = eventually(flagged_event, 30, 0.5, "the flagged event on Kafka")
    assert event["traceparent"].split("-")[1] == trace_id
    spans = eventually(lambda: (s := otlp.in_trace(trace_id)) and {x["service"] for x in s} >= {
        "actionplan-gateway", "actionplan-ad_triage", "actionplan-ad_triage-relay"} and s, 30, 0.5,
        "gateway, service and relay spans in one trace")
    assert ("actionplan-ad_triage", "ad_triage.submit_ad") in {(s["service"], s["name"]) for s in spans}
